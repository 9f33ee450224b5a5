"""Helpers for Pilot tests: an app on a fresh manager, and waiting for the engine."""

from __future__ import annotations

from typing import Any

from loopscope.tasks.options import EngineOptions
from loopscope.tui.app import LoopscopeApp, make_app
from tests.staging import until


def new_app(options: EngineOptions | None = None, **app: Any) -> LoopscopeApp:
    """An app on small pools (8 threads, 2 processes) unless ``options`` says otherwise."""
    return make_app(options=options or EngineOptions(thread_workers=8, process_workers=2), **app)


__all__ = ["new_app", "until"]
