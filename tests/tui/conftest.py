"""Helpers for Pilot tests: an app on a fresh manager, and waiting for the engine."""

from __future__ import annotations

from loopscope.tui.app import LoopscopeApp, make_app
from tests.staging import until


def new_app(**engine: object) -> LoopscopeApp:
    engine.setdefault("thread_workers", 8)
    engine.setdefault("process_workers", 2)
    return make_app(**engine)  # type: ignore[arg-type]


__all__ = ["new_app", "until"]
