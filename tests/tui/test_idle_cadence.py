"""An idle dashboard slows down, and wakes the moment something happens.

While nothing runs and nothing changes, the screen pulls once a second instead of ten times
and the lag probe sleeps a second instead of 50 ms (each wake-up of an idle process costs CPU:
bench/tui_bench.py). A launch, from a key or from anywhere else, brings both fast rates back
at once, and the launched tasks appear as they did before. Notices arrive without a timer.

The tests wait on conditions, never on a stretch of time: the settling counts are made small
so that reaching the idle state takes a few pulls.
"""

from __future__ import annotations

import threading

from loopscope.tasks.records import TaskState
from loopscope.tui.pull_cadence import IDLE_REFRESH_S, REFRESH_S, PullCadence
from loopscope.tui.screens.detail import DetailScreen
from loopscope.tui.screens.main import MainScreen
from loopscope.widgets.status_line import StatusLine
from loopscope.widgets.task_list import TaskList
from tests.staging import until
from tests.tui.conftest import new_app


def test_the_cadence_slows_after_quiet_pulls_and_wakes_at_once() -> None:
    cadence = PullCadence(settle=3)
    assert cadence.pulled(busy=False, changed=True) == REFRESH_S
    assert [cadence.pulled(busy=False, changed=False) for _ in range(3)] == [
        REFRESH_S, REFRESH_S, IDLE_REFRESH_S,
    ]
    assert cadence.wake() is True  # it was slow: the timer must speed up
    assert cadence.interval == REFRESH_S
    assert cadence.wake() is False  # already fast


def test_a_busy_engine_keeps_the_cadence_fast() -> None:
    cadence = PullCadence(settle=2)
    for _ in range(20):
        assert cadence.pulled(busy=True, changed=False) == REFRESH_S


def main_screen(app: object) -> MainScreen:
    screen = getattr(app, "screen", None)
    assert isinstance(screen, MainScreen)
    return screen


async def test_an_idle_dashboard_pulls_once_a_second_and_a_launch_key_wakes_it() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        screen = main_screen(app)
        screen.cadence.settle = 2
        await until(pilot, lambda: screen.pull_interval == IDLE_REFRESH_S)
        await pilot.press("s")  # ten sleeps of 1 s
        assert screen.pull_interval == REFRESH_S
        task_list = screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 10)
        status = screen.query_one(StatusLine)
        await until(pilot, lambda: "done 10" in status.render().plain)  # followed to the end
        await until(pilot, lambda: screen.pull_interval == IDLE_REFRESH_S)  # idle again


async def test_a_batch_launched_without_a_key_wakes_an_idle_screen() -> None:
    """A scenario, a replay or a script launches through the engine: its busy signal wakes
    the screen, and the tasks appear without waiting for the slow pull."""
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        screen = main_screen(app)
        screen.cadence.settle = 2
        await until(pilot, lambda: screen.pull_interval == IDLE_REFRESH_S)
        app.manager.launch("sleep 0.5 x3")
        assert screen.pull_interval == REFRESH_S
        await until(pilot, lambda: screen.query_one(TaskList).row_count == 3)


async def test_a_key_wakes_the_lag_probe_of_an_idle_dashboard() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        lag = app.manager.lag
        lag.settle = 1
        lag.wake()
        await until(pilot, lambda: lag.sleeping == lag.idle_interval)
        lag.settle = 10_000  # what a wake starts lasts beyond this test
        await pilot.press("plus")  # any key: what it does next may hold the loop
        assert lag.sleeping == lag.interval


async def test_a_notice_from_another_thread_is_shown_without_polling() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        text = "a process-pool worker died: started a fresh pool"
        thread = threading.Thread(target=app.manager.notice, args=(text,))
        thread.start()
        thread.join()
        await until(pilot, lambda: text in app.said)


async def test_a_detail_view_follows_its_task_until_it_ends_then_stops_sampling() -> None:
    """An open detail view of an ended task must not keep an idle dashboard awake."""
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        batch = app.manager.launch("sleep 3600")
        running = TaskState.RUNNING
        await until(pilot, lambda: bool(batch.records) and batch.records[0].state is running)
        record = batch.records[0]
        await app.push_screen(DetailScreen(app.manager, record))
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        assert detail.following
        app.manager.cancel(record.id)
        await until(pilot, lambda: not detail.following)
        assert record.state is TaskState.CANCELLED
        await pilot.pause()
        assert "cancelled" in app.export_screenshot()  # its last state is on screen
