"""Helpers for Pilot tests: an app on a fresh manager, and waiting for the engine."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot

from tui.app import LoopscopeApp, make_app


def new_app(**engine: object) -> LoopscopeApp:
    engine.setdefault("thread_workers", 8)
    engine.setdefault("process_workers", 2)
    return make_app(**engine)  # type: ignore[arg-type]


async def until(pilot: Pilot[object], condition: Callable[[], bool], timeout: float = 15) -> None:
    """Let the app run until ``condition`` holds (fails the test after ``timeout`` seconds)."""

    async def poll() -> None:
        while not condition():
            await pilot.pause(0.02)

    await asyncio.wait_for(poll(), timeout)
