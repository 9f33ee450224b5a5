"""Snapshots of the scenario picker with its source (issue 9 item 7): at 160x50 while a
scenario runs (the markers on the lines its tasks wait on), and at 80x24 with the source
toggled in below the list. Time is frozen (tests/staging.py)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from loopscope.tui.app import make_app
from loopscope.tui.screens.scenarios import ScenarioPicker
from loopscope.widgets.scenario_source import ScenarioSource
from tests.staging import STAGED_OPTIONS, FakeClock, fix_machine_figures, settle, until


def _app() -> Any:
    return make_app(
        options=STAGED_OPTIONS, clock=FakeClock(), scenario_options={"futures": {"pause": 600}}
    )


async def _running_futures(pilot: Pilot[object]) -> None:
    fix_machine_figures(pilot.app)  # type: ignore[arg-type]
    await pilot.press("n", "down", "down", "down", "down", "r")
    picker = pilot.app.screen
    assert isinstance(picker, ScenarioPicker)
    source = picker.query_one(ScenarioSource)
    await until(pilot, lambda: source.count_at("return await future") == 2)
    await until(pilot, lambda: source.count_at("await asyncio.sleep(pause)") == 1)
    pilot.app.clear_notifications()
    await settle(pilot)


async def _source_at_80(pilot: Pilot[object]) -> None:
    fix_machine_figures(pilot.app)  # type: ignore[arg-type]
    await pilot.press("n", "s")
    await settle(pilot)


def test_picker_marks_where_a_running_scenarios_tasks_wait(snap_compare: Any) -> None:
    assert snap_compare(_app(), run_before=_running_futures, terminal_size=(160, 50))


def test_picker_source_below_the_list_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(_app(), run_before=_source_at_80, terminal_size=(80, 24))
