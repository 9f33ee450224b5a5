"""``C`` stopping a scenario says so; ``ctrl+l`` and ``:clear`` clear the finished rows and
reset the session totals (issue 10)."""

from __future__ import annotations

from loopscope.tasks.records import TaskState
from loopscope.tui.app import LoopscopeApp, make_app
from loopscope.tui.screens.main import MainScreen
from loopscope.widgets.command_bar import CommandBar
from loopscope.widgets.gain_panel import GainPanel
from loopscope.widgets.task_list import TaskList
from tests.tui.conftest import new_app, until
from tests.tui.typing import keys_for


def _notices(app: LoopscopeApp) -> list[str]:
    """The messages shown (on the message row or in a toast)."""
    return app.said


async def test_C_says_the_scenario_stopped() -> None:
    app = make_app(scenario_options={"sensors": {"interval": 60}})
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.start_scenario("sensors")
        run = screen.scenario_run
        assert run is not None
        await until(pilot, lambda: len(run.context.log) >= 2)
        await pilot.press("C")
        await until(pilot, lambda: run.done)
        notices = _notices(app)
        assert any(n.startswith("scenario sensors stopped") for n in notices), notices
        assert not any("cancelled 0 tasks" in n for n in notices)


async def test_C_with_nothing_running_counts_right() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *keys_for("sleep 3600\n"), "escape")
        await until(pilot, lambda: app.manager.live_count == 1)
        await pilot.press("C")
        await until(pilot, lambda: app.manager.live_count == 0)
        assert "cancelled 1 task" in _notices(app)


async def test_ctrl_l_clears_finished_rows_and_resets_the_session() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *keys_for("sleep 0.01 x3; fail boom\n"))
        batch = app.manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done)
        await pilot.press("escape", "colon", *keys_for("sleep 3600\n"), "escape")
        await until(pilot, lambda: app.manager.live_count == 1)
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 5)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: task_list.row_count == 1)
        manager = app.manager
        assert manager.counts[TaskState.DONE] == manager.counts[TaskState.EXCEPTION] == 0
        assert manager.counts[TaskState.RUNNING] == 1  # still running, still shown
        assert any("cleared 4 finished tasks; session totals reset" in n for n in _notices(app))


async def test_the_clear_command_empties_the_list() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *keys_for("sleep 0.01 x2\n"))
        batch = app.manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done)
        await pilot.press(*keys_for("clear\n"))
        bar = app.screen.query_one(CommandBar)
        await until(pilot, lambda: "cleared 2 finished tasks" in str(bar.message.render()))
        assert app.screen.query_one(TaskList).row_count == 0
        assert app.manager.last_batch is None
        await until(pilot, lambda: app.screen.query_one(GainPanel).border_title == "Gain")
