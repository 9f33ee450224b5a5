"""One options object: validated once, used by the engine and the CLI, changeable live."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions, OptionError
from loopscope.tasks.records import TaskState
from loopscope.tui.cli import main


async def until(condition: Callable[[], bool], timeout: float = 20) -> None:
    """Wait for ``condition`` (fails after ``timeout`` seconds: a safety net, not a window)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"thread_workers": 0}, "thread workers (--workers) must be at least 1, got 0"),
        ({"process_workers": 0}, "process workers (--processes) must be at least 1, got 0"),
        ({"connector_limit": -1}, "connector limit (--limit) must be 0 or more, got -1"),
        ({"thread_workers": 5000}, "thread workers (--workers) must be at most 1,024"),
        ({"fetch_timeout": 0}, "fetch timeout must be more than 0 seconds"),
        ({"history_limit": 0}, "history limit must be at least 1"),
    ],
)
def test_bad_options_are_refused_with_a_clear_message(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(OptionError) as caught:
        EngineOptions(**changes)  # type: ignore[arg-type]
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "sleep 0", "--workers", "0"],
        ["run", "sleep 0", "--processes", "0"],
        ["run", "--scenario", "sensors", "--processes", "0"],
        ["--workers", "0"],  # the dashboard: refused before it opens
    ],
)
def test_the_cli_refuses_zero_workers(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("loopscope: ")
    assert "must be at least 1, got 0" in err
    assert "Traceback" not in err


async def test_the_connection_limit_changes_while_fetches_wait() -> None:
    async with TaskManager(EngineOptions(connector_limit=1, demo_seed=1)) as manager:
        batch = manager.launch("fetch /delay/30000 x4")
        await until(lambda: batch.counts[TaskState.RUNNING] == 1 and len(batch.records) == 4)
        waiting = [r for r in batch.records if r.state is TaskState.PENDING]
        await until(lambda: all(r.waiting_for == "a connection slot" for r in waiting))
        manager.set_limits(connector_limit=3)
        await until(lambda: batch.counts[TaskState.RUNNING] == 3)
        assert manager.connector_limit == 3
        assert manager.settings_version == 1
        manager.cancel_all()
        await batch.wait()


async def test_the_per_host_limit_changes_while_fetches_wait() -> None:
    options = EngineOptions(connector_limit=10, limit_per_host=1, demo_seed=1)
    async with TaskManager(options) as manager:
        batch = manager.launch("fetch /delay/30000 x3")
        await until(lambda: batch.counts[TaskState.RUNNING] == 1 and len(batch.records) == 3)
        manager.set_limits(limit_per_host=0)
        await until(lambda: batch.counts[TaskState.RUNNING] == 3)
        manager.cancel_all()
        await batch.wait()


async def test_the_thread_pool_grows_and_shrinks_while_running() -> None:
    async with TaskManager(EngineOptions(thread_workers=1, demo_server=False)) as manager:
        batch = manager.launch("thread 30 x3")
        await until(lambda: batch.counts[TaskState.RUNNING] == 1 and len(batch.records) == 3)
        queued = [r for r in batch.records if r.state is TaskState.PENDING]
        assert all(r.waiting_for == "a thread worker" for r in queued)
        manager.set_limits(thread_workers=3)  # the queued jobs start now
        await until(lambda: batch.counts[TaskState.RUNNING] == 3)
        manager.set_limits(thread_workers=1)
        manager.cancel_all()
        await batch.wait()
        await until(lambda: manager.thread_pool.threads_alive() <= 1)
        second = manager.launch("thread 30 x2")
        await until(lambda: second.counts[TaskState.RUNNING] == 1 and len(second.records) == 2)
        assert manager.thread_pool.threads_alive() == 1  # one worker, so one runs
        manager.cancel_all()
        await second.wait()


async def test_the_process_pool_size_changes() -> None:
    async with TaskManager(EngineOptions(process_workers=1, demo_server=False)) as manager:
        manager.set_limits(process_workers=2)
        assert manager.process_workers == 2
        batch = manager.launch("cpu 1000 x2")
        await batch.wait()
        assert batch.counts[TaskState.DONE] == 2


async def test_a_bad_live_change_is_refused_and_changes_nothing() -> None:
    async with TaskManager(EngineOptions(demo_server=False, monitors=False)) as manager:
        with pytest.raises(OptionError, match="at least 1"):
            manager.set_limits(thread_workers=0)
        assert manager.thread_workers == 32
        assert manager.settings_version == 0


async def test_fetches_waiting_for_a_slot_end_cancelled_when_cancelled() -> None:
    """Cancelling waiters once raised ValueError in the slot queue: they ended as exceptions."""
    async with TaskManager(EngineOptions(connector_limit=1, demo_seed=1)) as manager:
        batch = manager.launch("fetch /delay/30000 x5")
        await until(lambda: batch.counts[TaskState.RUNNING] == 1 and len(batch.records) == 5)
        manager.cancel_all()
        await batch.wait()
        assert batch.counts[TaskState.CANCELLED] == 5
        again = manager.launch("fetch /delay/0 x3")  # the slot was given back
        await again.wait()
        assert again.counts[TaskState.DONE] == 3


async def test_own_work_is_noted_for_blame() -> None:
    ticks = iter(range(100, 200))
    async with TaskManager(
        EngineOptions(demo_server=False, monitors=False), clock=lambda: float(next(ticks))
    ) as manager:
        with manager.own_work("drawing the screen"):
            begin = manager.clock()
        assert manager.blame(begin - 0.5, begin + 0.5) == "loopscope's own work: drawing the screen"
