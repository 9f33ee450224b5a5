"""Every key of the dashboard, pressed the way a user would, on a real engine."""

from __future__ import annotations

import pytest

from loopscope.tasks.records import TaskState
from loopscope.tui.screens.detail import DetailScreen
from loopscope.tui.screens.help import HelpScreen
from loopscope.tui.screens.main import MainScreen
from loopscope.widgets.status_line import StatusLine
from loopscope.widgets.system_panel import SystemPanel
from loopscope.widgets.task_list import TaskList
from loopscope.widgets.timeline import Timeline
from tests.tui.conftest import new_app, until


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
        assert batch is not None and batch.planned == count
        await until(pilot, lambda: batch.done, timeout=30)
        assert {r.kind for r in batch.records} == {kind}
        expected = TaskState.EXCEPTION if kind == "fail" else TaskState.DONE
        assert batch.counts[expected] == count, [r.error for r in batch.records]
        await pilot.pause(0.15)
        assert app.screen.query_one(TaskList).row_count == count


async def test_block_freezes_then_the_spike_names_the_task() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("b")
        batch = app.manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done and bool(app.manager.lag.spikes))
        await pilot.pause(0.2)
        spike = app.manager.lag.spikes[-1]
        assert spike.culprit is not None and f"#{batch.records[0].id} block" in spike.culprit
        text = str(app.screen.query_one(SystemPanel).render())
        assert f"task #{batch.records[0].id} block" in text


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
        assert app.manager.last_batch is not None and app.manager.last_batch.planned == 1


async def test_cancel_selected_and_cancel_all() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("plus")  # batch of 100
        await pilot.press("s")
        manager = app.manager
        await until(pilot, lambda: manager.counts[TaskState.RUNNING] == 100)
        await pilot.pause(0.15)
        task_list = app.screen.query_one(TaskList)
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
        await pilot.press("colon")
        await pilot.press(*"sleep 0.05 x4", "enter")
        manager = app.manager
        batch = manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done)
        await pilot.press("escape", "R")
        await until(pilot, lambda: batch.measured_sequential_s is not None)
        assert batch.measured_sequential_s is not None and batch.measured_sequential_s >= 0.2
        await pilot.pause(0.2)
        gain = str(app.screen.query_one("#gain").render())
        assert "press R" not in gain


async def test_enter_opens_details_and_escape_closes() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("x")
        await until(pilot, lambda: app.manager.counts[TaskState.EXCEPTION] == 10)
        await pilot.pause(0.15)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.record.state is TaskState.EXCEPTION
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_help_screen() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_filter_by_state() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("x", "s")
        manager = app.manager
        await until(pilot, lambda: manager.counts[TaskState.EXCEPTION] == 10)
        await pilot.pause(0.15)
        task_list = app.screen.query_one(TaskList)
        assert task_list.row_count == 20
        await pilot.press("F", "F")  # all -> pending -> running
        await pilot.pause(0.15)
        assert task_list.state_filter is TaskState.RUNNING
        assert task_list.row_count == 10
        await pilot.press("F", "F")  # -> done -> exception
        await pilot.pause(0.15)
        assert task_list.state_filter is TaskState.EXCEPTION
        assert task_list.row_count == 10
        assert all(r.kind == "fail" for r in (manager.get(i) for i in task_list._rows) if r)


async def test_quit_closes_the_engine() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("s", "t", "f")
        await pilot.pause(0.1)
        manager = app.manager
        await pilot.press("q")
        await pilot.pause()
    assert manager.closed
    assert manager.live_count == 0


async def test_timeline_switches_to_the_aggregate_for_big_batches() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("s")
        await pilot.pause(0.2)
        timeline = app.screen.query_one(Timeline)
        assert timeline.mode == "lanes"
        await pilot.press("plus", "plus", "s")
        await pilot.pause(0.3)
        assert timeline.mode == "aggregate"
