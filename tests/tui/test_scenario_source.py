"""The scenario picker shows the scenario's real code, and while it runs, how many of its
tasks are suspended on each line (issue 9 item 7)."""

from __future__ import annotations

from textual.geometry import Region
from textual.widgets import Static

from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskState
from loopscope.tui.screens.detail import DetailScreen
from loopscope.tui.screens.main import MainScreen
from loopscope.tui.screens.scenarios import ScenarioPicker
from loopscope.widgets.scenario_source import ScenarioSource
from loopscope.widgets.task_detail import TaskDetail
from loopscope.widgets.task_list import TaskList
from tests.tui.conftest import new_app, until

WAITING = "return await future"
"""In the futures scenario: both tracked tasks wait here until the scenario resolves them."""
SLEEPING = "await asyncio.sleep(pause)"
"""...while the scenario's own task sleeps here (the first of two such lines)."""


def _line_shown(source: ScenarioSource, text: str) -> str:
    """The line as drawn on screen, gutter included."""
    strips = source.render_lines(Region(0, 0, source.size.width, source.size.height))
    return next(strip.text for strip in strips if text in strip.text)


async def test_the_picker_shows_the_highlighted_scenarios_source() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)
        source = picker.query_one(ScenarioSource)
        assert source.blocks[0].name == "sensors"
        assert any("await asyncio.gather" in line for line in source.blocks[0].lines)
        await pilot.press("down", "down", "down", "down")
        await pilot.pause()
        assert source.blocks[0].name == "futures"
        assert source.count_at(WAITING) == 0  # nothing runs: no markers
        assert "futures()" in str(picker.query_one("#scenario-code").border_title)


async def test_a_running_scenario_marks_how_many_tasks_wait_on_each_line() -> None:
    app = new_app(scenario_options={"futures": {"pause": 600}})
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("n", "down", "down", "down", "down", "r")
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)  # r runs it and stays on the source
        source = picker.query_one(ScenarioSource)
        await until(pilot, lambda: source.count_at(WAITING) == 2)
        await until(pilot, lambda: source.count_at(SLEEPING) == 1)
        assert "2 ⏸" in _line_shown(source, WAITING)
        assert "⏸" not in _line_shown(source, "good.set_result(42)")
        await pilot.press("escape")
        main = app.screen
        assert isinstance(main, MainScreen)
        run = main.scenario_run
        assert run is not None
        assert run.scenario.name == "futures"
        assert not run.done
        # opened again while it runs: it opens on the running scenario, markers included
        await pilot.press("n")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)
        source = picker.query_one(ScenarioSource)
        assert source.blocks[0].name == "futures"
        await until(pilot, lambda: source.count_at(WAITING) == 2)
        # stopped: the markers go
        run.task.cancel()
        await until(pilot, lambda: run.done)
        await until(pilot, lambda: source.count_at(WAITING) == 0)


async def test_at_80_columns_the_source_is_one_key_away() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)
        code = picker.query_one("#scenario-code")
        about = picker.query_one("#scenario-about")
        assert not code.display
        assert about.display
        await pilot.press("s")
        await pilot.pause()
        assert code.display
        assert not about.display
        assert code.region.height >= 8


async def test_the_detail_view_says_where_a_task_waits_and_how_long_it_was_busy() -> None:
    app = new_app(EngineOptions(thread_workers=8, process_workers=2, step_timing=True))
    async with app.run_test(size=(160, 50)) as pilot:
        batch = app.manager.launch("sleep 60")
        await until(pilot, lambda: any(r.state is TaskState.RUNNING for r in batch.records))
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 1)  # the list has pulled the row
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, DetailScreen)

        def shown() -> str:
            widget = detail.query_one(TaskDetail).query_one(Static)
            strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
            return "\n".join(strip.text for strip in strips)

        await until(pilot, lambda: "waits at" in shown())
        text = shown()
        waits = next(line for line in text.splitlines() if "waits at" in line)
        assert "sleep" in waits
        assert "tasks.py:" in waits  # innermost: asyncio's own sleep
        assert "sleep.py:27" in text  # then the kind's `await asyncio.sleep(...)` line
        assert "awaiting" in text
        assert "Future pending" in text
        assert "in 1 step " in text  # it ran once, up to its await
