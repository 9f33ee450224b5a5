"""Scenarios from the keyboard: the picker (n), the palette, the log, the race chart."""

from __future__ import annotations

import io

from rich.console import Console
from textual.app import App

from loopscope.tasks.options import EngineOptions
from loopscope.tasks.scenarios import LogKind
from loopscope.tui.app import make_app
from loopscope.tui.notices import NoticeApp
from loopscope.tui.screens.main import MainScreen
from loopscope.tui.screens.scenarios import RaceScreen, ScenarioPicker
from loopscope.widgets.race_chart import RaceChart
from loopscope.widgets.scenario_log import ScenarioLog
from tests.staging import AppResult, palette_choose
from tests.tui.conftest import new_app, until
from tests.unit.test_scenarios import FAST


async def test_the_picker_lists_every_scenario_and_explains_the_highlighted_one() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)
        about = picker.query_one("#scenario-explanation")
        assert "temperature sensors" in str(about.render())
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert "orders" in str(about.render())
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert app.screen.scenario_run is None


async def test_running_chain_from_the_picker() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("n", "down", "down", "down", "enter")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        run = screen.scenario_run
        assert run is not None
        assert run.scenario.name == "chain"
        await until(pilot, lambda: run.done)
        await until(pilot, lambda: "■ done" in str(screen.query_one(ScenarioLog).render()))
        assert "user-1" in str(screen.query_one(ScenarioLog).render())
        assert len(app.manager.records) == 9  # ordinary records: 3 chains, 6 fetches


async def test_the_race_from_the_picker_ends_with_its_chart() -> None:
    app = make_app(
        options=EngineOptions(thread_workers=16, process_workers=2),
        scenario_options={"race": FAST["race"]},
    )
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("n", "end", "enter")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        run = screen.scenario_run
        assert run is not None
        assert run.scenario.name == "race"
        await until(pilot, lambda: isinstance(app.screen, RaceScreen), timeout=90)
        console = Console(width=150, record=True, file=io.StringIO())
        console.print(app.screen.query_one(RaceChart).render())
        chart = console.export_text()
        for word in ("sequential", "asyncio", "threads", "processes", "I/O-bound: asyncio"):
            assert word in chart
        results = app.screen.query_one(RaceChart).results
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        await pilot.press("w")  # the results can be reopened after the chart is closed
        assert isinstance(app.screen, RaceScreen)
        assert app.screen.query_one(RaceChart).results is results


def notices(app: App[AppResult]) -> list[str]:
    """Every message the app has shown (on the message row or in a toast)."""
    assert isinstance(app, NoticeApp)
    return app.said


async def test_w_before_any_race_says_how_to_run_one() -> None:
    app = make_app(options=EngineOptions(thread_workers=4))
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert any("run the race scenario first" in text for text in notices(app))


async def test_a_scenario_from_the_command_palette_and_stopped_with_C() -> None:
    app = make_app(
        options=EngineOptions(thread_workers=8), scenario_options={"sensors": {"interval": 60}}
    )
    async with app.run_test(size=(160, 50)) as pilot:
        await palette_choose(pilot, "scenario: sensors", "Scenario: sensors")
        await until(pilot, lambda: getattr(app.screen, "scenario_run", None) is not None)
        run = app.screen.scenario_run  # type: ignore[attr-defined]
        await until(pilot, lambda: len(run.context.log) >= 3)  # round 1, the sequential round
        await pilot.press("C")
        await until(pilot, lambda: run.done)
        assert run.context.log[-1].kind is LogKind.STOPPED
        assert app.manager.live_count == 0


async def test_a_second_R_while_measuring_waits_instead_of_timing_two_at_once() -> None:
    app = make_app(options=EngineOptions(thread_workers=4))
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *"sleep 0.3 x3", "enter", "escape")
        batch = app.manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done)
        await pilot.press("R")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        first = screen.clean_replay
        assert first is not None
        await pilot.press("R")
        assert screen.clean_replay is first  # no second clean process
        assert any("still measuring batch" in text for text in notices(app))
        await until(pilot, lambda: first.done, timeout=60)
        assert first.error is None
        assert batch.measured_sequential_s is not None


async def test_a_second_scenario_says_it_stopped_the_first() -> None:
    """Trial: starting limits while sensors ran cancelled sensors without a word."""
    app = make_app(
        options=EngineOptions(thread_workers=8), scenario_options={"sensors": {"interval": 60}}
    )
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.start_scenario("sensors")
        first = screen.scenario_run
        assert first is not None
        screen.start_scenario("limits")
        await until(pilot, lambda: first.done)
        assert any("scenario sensors stopped: limits started" in text for text in notices(app))
        await pilot.press("C")
        await until(pilot, lambda: screen.scenario_run is not None and screen.scenario_run.done)
