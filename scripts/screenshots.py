"""`make screenshots`: regenerate the SVGs in screenshots/ through run_test + save_screenshot.

Each picture is a real run of the engine staged with an injected clock (tests/staging.py), so
it looks the same every time it is made.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from loopscope.tasks.options import EngineOptions
from loopscope.tui.app import make_app
from tests.staging import (
    STAGED_OPTIONS,
    FakeClock,
    settle,
    stage_failed_detail,
    stage_help,
    stage_mid_batch,
    staged_app,
    until,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots"
Stage = Callable[[Pilot[int], FakeClock], Awaitable[None]]


async def stage_connector_limit(pilot: Pilot[int], clock: FakeClock) -> None:
    """Fifteen fetches under a limit of five connections, on the real clock: three waves."""
    manager = pilot.app.manager  # type: ignore[attr-defined]
    batch = manager.launch("fetch /delay/300 x15")
    await until(pilot, lambda: batch.done)
    await pilot.pause(1.2)  # a psutil sample
    await settle(pilot)


async def stage_replay(pilot: Pilot[int], clock: FakeClock) -> None:
    """Four GIL-bound jobs in threads, then R, on the real clock: the estimate says ~4x,
    the measured replay says ~1x."""
    manager = pilot.app.manager  # type: ignore[attr-defined]
    batch = manager.launch("cpu 2000000 x4 in=thread")
    await until(pilot, lambda: batch.done)
    await pilot.press("R")
    await until(pilot, lambda: batch.measured_sequential_s is not None, timeout=60)
    await pilot.pause(1.2)
    await settle(pilot)


async def stage_picker(pilot: Pilot[int], clock: FakeClock) -> None:
    """The gather scenario started from the picker (r): its source, with how many of its ten
    fetches wait on each line."""
    from loopscope.widgets.scenario_source import ScenarioSource

    await settle(pilot)
    await pilot.press("n", "down", "down", "down", "down", "down", "r")
    source = pilot.app.screen.query_one(ScenarioSource)
    await until(pilot, lambda: max(source.counts.values(), default=0) >= 5)
    pilot.app.clear_notifications()
    await pilot.pause(0.05)


async def stage_race(pilot: Pilot[int], clock: FakeClock) -> None:
    """The race run for real, from the picker, until its chart appears."""
    from loopscope.tui.screens.scenarios import RaceScreen

    await pilot.press("n", "end", "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, RaceScreen), timeout=120)
    await settle(pilot)


async def stage_race_timeline(pilot: Pilot[int], clock: FakeClock) -> None:
    """The limits scenario's last batch: fifty fetches in waves of five, on the dashboard."""
    await pilot.press("n", "down", "down", "down", "down", "down", "down", "enter")
    screen = pilot.app.screen
    await until(pilot, lambda: screen.scenario_run.done, timeout=60)  # type: ignore[attr-defined]
    await pilot.pause(1.2)
    await settle(pilot)


REAL_TIME = {
    "timeline-connector-limit", "replay-measured-gain", "scenario-picker", "race-chart",
    "scenario-limits",
}
"""Shots made on the real clock: their figures are measured, so they vary a little."""


SHOTS: list[tuple[str, Stage, dict[str, Any], tuple[int, int]]] = [
    ("dashboard-mid-batch", stage_mid_batch, {}, (160, 50)),
    ("dashboard-80x24", stage_mid_batch, {}, (80, 24)),
    ("detail-traceback", partial(stage_failed_detail, stable_lines=False), {}, (160, 50)),
    ("help", stage_help, {}, (160, 50)),
    ("timeline-connector-limit", stage_connector_limit, {"connector_limit": 5}, (160, 50)),
    ("replay-measured-gain", stage_replay, {"thread_workers": 4}, (160, 50)),
    ("scenario-picker", stage_picker, {}, (160, 50)),
    ("scenario-limits", stage_race_timeline, {}, (160, 50)),
    ("race-chart", stage_race, {}, (160, 50)),
]
async def shoot_watch_crawler() -> None:
    """``loopscope watch examples/crawler.py`` for real, mid-crawl, worker-1 selected. A real
    run: the figures are measured, so they vary a little from one making to the next."""
    from loopscope.tasks.agent.model import TaskState
    from loopscope.tui.watch_app import make_watch_app, program_session
    from loopscope.widgets.watch_task_list import WatchTaskList

    app = make_watch_app(program_session(["examples/crawler.py"]))  # run from the repository
    async with app.run_test(size=(160, 50)) as pilot:
        store = app.session.store

        def mid_crawl() -> bool:
            states = [t.state for t in store.tasks.values()]
            return states.count(TaskState.DONE) >= 12 and any(
                t.name == "worker-1" and not t.state.finished for t in store.tasks.values())

        await until(pilot, mid_crawl, timeout=60)
        tasks = app.screen.query_one(WatchTaskList)
        tasks.tree_view = True
        worker = next(t.id for t in store.tasks.values() if t.name == "worker-1")
        tasks.select(worker)
        app.screen.sync()  # type: ignore[attr-defined]
        await pilot.wait_for_scheduled_animations()
        app.save_screenshot("watch-crawler.svg", path=str(OUT))
    print("screenshots/watch-crawler.svg")


async def shoot(name: str, stage: Stage, engine: dict[str, Any], size: tuple[int, int]) -> None:
    """``engine``: the shot's changes to the engine options."""
    clock = FakeClock()
    if name in REAL_TIME:
        app = make_app(options=EngineOptions(**engine))  # the real clock: the stage ignores `clock`
    else:
        app = staged_app(clock, STAGED_OPTIONS.replace(**engine))
    async with app.run_test(size=size) as pilot:
        await stage(pilot, clock)
        app.save_screenshot(f"{name}.svg", path=str(OUT))
    print(f"screenshots/{name}.svg")


async def main(only: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    for name, stage, engine, size in SHOTS:
        if not only or name in only:
            await shoot(name, stage, engine, size)
    if not only or "watch-crawler" in only:
        await shoot_watch_crawler()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
