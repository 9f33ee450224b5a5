"""Snapshot tests of each screen, with time frozen by an injected clock (see tests/staging.py).

Update after an intended change with ``pytest tests/snapshots --snapshot-update`` and look at
the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from loopscope.tasks.scenarios.race_results import (
    STRATEGIES,
    RaceResults,
    Workload,
    WorkloadResult,
    compose_conclusion,
)
from tests.staging import (
    FakeClock,
    settle,
    stage_failed_detail,
    stage_help,
    stage_mid_batch,
    staged_app,
)

Stage = Callable[[Pilot[int], FakeClock], Awaitable[None]]
SIZES = pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["160x50", "80x24"])
"""Every screen at both sizes: nothing may lose a border or overlap at either."""


def _snap(snap_compare: Any, stage: Stage, size: tuple[int, int]) -> bool:
    clock = FakeClock()
    app = staged_app(clock)

    async def run_before(pilot: Pilot[int]) -> None:
        await stage(pilot, clock)

    return bool(snap_compare(app, run_before=run_before, terminal_size=size))


@SIZES
def test_main_screen_mid_batch_with_a_failed_task(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, stage_mid_batch, size)


@SIZES
def test_detail_view_with_a_traceback(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, stage_failed_detail, size)


@SIZES
def test_help_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, stage_help, size)


_IO = WorkloadResult(Workload.IO, "10 x GET /delay/200", dict(zip(
    STRATEGIES, (2.040, 0.218, 0.206, 1.041), strict=True)))
_CPU = WorkloadResult(Workload.CPU, "4 x sum of squares to 3,000,000", dict(zip(
    STRATEGIES, (0.784, 0.801, 0.780, 0.428), strict=True)))
RACE_RESULTS = RaceResults(_IO, _CPU, 2, 2, compose_conclusion(
    _IO, _CPU, cores=2, process_workers=2, io_count=10, cpu_count=4))
"""Figures from one real run of the race (tasks/scenarios/race.py), frozen for the snapshot."""


async def _stage_picker(pilot: Pilot[int], clock: FakeClock) -> None:
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)


async def _stage_race_chart(pilot: Pilot[int], clock: FakeClock) -> None:
    from loopscope.tui.screens.scenarios import RaceScreen

    await pilot.app.push_screen(RaceScreen(RACE_RESULTS))
    await settle(pilot)


@SIZES
def test_scenario_picker(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, _stage_picker, size)


@SIZES
def test_race_chart(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, _stage_race_chart, size)
