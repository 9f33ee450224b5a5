"""Every key of the dashboard, pressed the way a user would, on a real engine.

No test here depends on how fast the machine is: each waits for the condition it needs
(``until``), and tasks that must still be running when a key is pressed sleep for an hour.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from loopscope.tasks.records import TaskState
from loopscope.tasks.units import human_seconds
from loopscope.tui.app import LoopscopeApp
from loopscope.tui.screens.detail import DetailScreen
from loopscope.tui.screens.help import HelpScreen
from loopscope.tui.screens.main import MainScreen
from loopscope.widgets.gain_panel import GainPanel
from loopscope.widgets.status_line import StatusLine
from loopscope.widgets.system_panel import SystemPanel
from loopscope.widgets.task_list import TaskList
from loopscope.widgets.timeline import Timeline
from tests.tui.conftest import new_app, until


async def type_spec(pilot: Pilot[int], spec: str) -> None:
    await pilot.press("colon", *spec, "enter", "escape")


def task_list_of(app: LoopscopeApp) -> TaskList:
    return app.screen.query_one(TaskList)


@pytest.mark.parametrize(
    ("key", "kind", "count"),
    [
        ("f", "fetch", 10),
        ("r", "read", 10),
        ("s", "sleep", 10),
        ("t", "thread", 10),
        ("p", "cpu", 10),
        ("x", "fail", 10),
        ("b", "block", 1),
    ],
)
async def test_launch_keys(key: str, kind: str, count: int) -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press(key)
        manager = app.manager
        batch = manager.last_batch
        assert batch is not None
        assert batch.planned == count
        await until(pilot, lambda: batch.done, timeout=30)
        assert {r.kind for r in batch.records} == {kind}
        expected = TaskState.EXCEPTION if kind == "fail" else TaskState.DONE
        assert batch.counts[expected] == count, [r.error for r in batch.records]
        await until(pilot, lambda: task_list_of(app).row_count == count)


async def test_block_freezes_then_the_spike_names_the_task() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("b")
        batch = app.manager.last_batch
        assert batch is not None
        name = f"#{batch.records[0].id} block"
        spikes = app.manager.lag.spikes
        await until(pilot, lambda: batch.done and any(name in (s.culprit or "") for s in spikes))
        panel = app.screen.query_one(SystemPanel)
        # the panel shows the newest spike (on a busy machine another may follow the block's)
        await until(pilot, lambda: f"spike {human_seconds(spikes[-1].lag_ms / 1000)}"
                    in str(panel.render()))
        if spikes[-1].culprit and name in spikes[-1].culprit:
            assert f"task {name}" in str(panel.render())


async def test_batch_size_keys() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("plus")
        assert screen.batch_size == 100
        await pilot.press("plus", "plus")
        assert screen.batch_size == 1000  # stops at the largest
        await pilot.press("minus", "minus", "minus", "minus")
        assert screen.batch_size == 1
        assert screen.query_one(StatusLine).batch_size == 1
        await pilot.press("s")
        assert app.manager.last_batch is not None
        assert app.manager.last_batch.planned == 1


async def test_cancel_selected_and_cancel_all() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await type_spec(pilot, "sleep 3600 x100")
        manager = app.manager
        await until(pilot, lambda: manager.counts[TaskState.RUNNING] == 100)
        task_list = task_list_of(app)
        await until(pilot, lambda: task_list.row_count == 100)
        selected = task_list.selected
        assert selected is not None
        await pilot.press("c")
        await until(pilot, lambda: selected.state is TaskState.CANCELLED)
        assert manager.counts[TaskState.RUNNING] == 99
        await pilot.press("C")
        await until(pilot, lambda: manager.counts[TaskState.CANCELLED] == 100)


async def test_replay_measures_the_last_batch() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await type_spec(pilot, "sleep 0.05 x4")
        manager = app.manager
        batch = manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done)
        await pilot.press("R")
        await until(pilot, lambda: batch.measured_sequential_s is not None)
        # four 0.05 s sleeps one after another cannot take less than 0.2 s
        assert batch.measured_sequential_s is not None
        assert batch.measured_sequential_s >= 0.2
        gain = app.screen.query_one(GainPanel)
        await until(pilot, lambda: "press R" not in str(gain.render()))


async def test_enter_opens_details_and_escape_closes() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("x")
        await until(pilot, lambda: app.manager.counts[TaskState.EXCEPTION] == 10)
        await until(pilot, lambda: task_list_of(app).row_count == 10)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.record.state is TaskState.EXCEPTION
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_help_screen() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_filter_by_state() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("x")
        await type_spec(pilot, "sleep 3600 x10")
        manager = app.manager
        await until(pilot, lambda: manager.counts[TaskState.EXCEPTION] == 10)
        await until(pilot, lambda: manager.counts[TaskState.RUNNING] == 10)
        task_list = task_list_of(app)

        def shown() -> TaskState | None:  # read afresh: mypy would keep the last assert's type
            return task_list.state_filter

        await until(pilot, lambda: task_list.row_count == 20)
        await pilot.press("F", "F")  # all -> pending -> running
        assert shown() is TaskState.RUNNING
        await until(pilot, lambda: task_list.row_count == 10)
        assert all(r.kind == "sleep" for r in (manager.get(i) for i in task_list.rows) if r)
        await pilot.press("F", "F")  # -> done -> exception
        assert shown() is TaskState.EXCEPTION
        await until(pilot, lambda: task_list.row_count == 10)
        assert all(r.kind == "fail" for r in (manager.get(i) for i in task_list.rows) if r)


async def test_quit_closes_the_engine() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        # tasks that are surely still in flight when q arrives, however slow the machine
        await type_spec(pilot, "sleep 3600 x10; fetch /delay/60000 x3; thread 0.2 x3")
        manager = app.manager
        await until(pilot, lambda: manager.counts[TaskState.RUNNING] >= 13)
        await pilot.press("q")
        await pilot.pause()
    assert manager.closed
    assert manager.live_count == 0


async def test_timeline_switches_to_the_aggregate_for_big_batches() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("s")
        timeline = app.screen.query_one(Timeline)
        await until(pilot, lambda: timeline.mode == "lanes")
        await pilot.press("plus", "plus", "s")
        await until(pilot, lambda: timeline.mode == "aggregate")


async def test_the_gain_panel_shows_no_speedup_when_no_task_ran() -> None:
    """Trial: ``read /nonexistent`` showed ``speedup est. 0.0x``."""
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await type_spec(pilot, "read /nonexistent")
        await until(pilot, lambda: app.manager.counts[TaskState.EXCEPTION] == 1)
        gain = app.screen.query_one(GainPanel)
        await until(pilot, lambda: "press R" in str(gain.render()))  # the batch is done
        assert "0.0×" not in str(gain.render())
