"""Helpers for Pilot tests: an app on a fresh manager, and waiting for the engine."""

from __future__ import annotations

from tests.staging import until
from tui.app import LoopscopeApp, make_app


def new_app(**engine: object) -> LoopscopeApp:
    engine.setdefault("thread_workers", 8)
    engine.setdefault("process_workers", 2)
    return make_app(**engine)  # type: ignore[arg-type]


__all__ = ["new_app", "until"]
