"""Every kind through every state it can reach, on a real manager and the demo server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskRecord, TaskState


async def run_one(manager: TaskManager, text: str) -> TaskRecord:
    batch = manager.launch(text)
    await asyncio.wait_for(batch.wait(), 30)
    assert len(batch.records) == 1
    return batch.records[0]


async def wait_for_state(record: TaskRecord, state: TaskState, timeout: float = 10) -> None:
    async def poll() -> None:
        while record.state is not state:
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("fetch /delay/10", "200 OK"),
        ("fetch /bytes/200000", "195.3 KiB"),
        ("fetch /delay/0 method=POST", "200 OK"),
        ("sleep 0.01", "slept 0.01 s"),
        ("thread 0.01", "a worker blocked"),
        ("cpu 1000 in=thread", "sum = 332833500"),
        ("cpu 1000", "sum = 332833500"),
        ("read", "read 4.0 KiB at once"),
        ("read mode=chunks", "in 1 chunk"),  # a 4 KiB sample: one chunk
        ("read mode=lines", "lines"),
        ("write 100K", "wrote 100.0 KiB"),
        ("block 0.01", "blocked the loop"),
    ],
)
async def test_each_kind_runs_to_done(manager: TaskManager, text: str, result: str) -> None:
    record = await run_one(manager, text)
    assert record.state is TaskState.DONE, record.error
    assert result in record.result
    assert record.started is not None and record.finished is not None
    assert record.created <= record.started <= record.finished


async def test_fetch_counts_streamed_bytes(manager: TaskManager) -> None:
    record = await run_one(manager, "fetch /bytes/300000?delay_ms=1")
    assert record.bytes_done == record.bytes_total == 300000


async def test_read_counts_bytes_and_lines(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "three.txt"
    path.write_text("a\nbb\nccc\n")
    record = await run_one(manager, f"read {path} mode=lines")
    assert record.result == "read 3 lines, 9 B"
    assert record.bytes_done == record.bytes_total == 9
    assert record.preview == "a\n"


async def test_write_puts_the_bytes_on_disk(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    record = await run_one(manager, f"write {path} 200K")
    assert record.state is TaskState.DONE
    assert path.stat().st_size == 200 * 1024


async def test_fail_ends_in_exception_with_a_traceback(manager: TaskManager) -> None:
    record = await run_one(manager, "fail disk on fire")
    assert record.state is TaskState.EXCEPTION
    assert record.error == "InjectedFailure: disk on fire"
    assert record.traceback and "InjectedFailure" in record.traceback


@pytest.mark.parametrize("text", ["sleep 30", "thread 30", "cpu 3000000000 in=thread"])
async def test_cancel_while_running(manager: TaskManager, text: str) -> None:
    record = manager.launch(text).records
    await asyncio.sleep(0)
    (task,) = record
    await wait_for_state(task, TaskState.RUNNING)
    assert manager.cancel(task.id)
    await wait_for_state(task, TaskState.CANCELLED)
    assert task.run_s(manager.clock()) < 30


async def test_cancel_a_running_process_job() -> None:
    async with TaskManager(process_workers=1, demo_server=False) as manager:
        batch = manager.launch("cpu 3000000000")
        await asyncio.sleep(0)
        (record,) = batch.records
        await wait_for_state(record, TaskState.RUNNING, timeout=20)
        assert manager.cancel(record.id)
        await asyncio.wait_for(batch.wait(), 5)
        assert record.state is TaskState.CANCELLED


async def test_executor_jobs_wait_pending_for_a_worker() -> None:
    async with TaskManager(thread_workers=1, demo_server=False) as manager:
        batch = manager.launch("thread 30 x2")
        await asyncio.sleep(0)
        first, second = batch.records
        await wait_for_state(first, TaskState.RUNNING)
        await asyncio.sleep(0.05)
        assert second.state is TaskState.PENDING  # the only worker is busy
        assert manager.cancel(second.id)  # cancel while pending
        await wait_for_state(second, TaskState.CANCELLED)
        assert second.started is None
        manager.cancel(first.id)
        await batch.wait()


@pytest.mark.parametrize(
    "options",
    [
        {"connector_limit": 1},
        {"connector_limit": 1, "trace_connections": True},
        {"connector_limit": 10, "limit_per_host": 1},
    ],
    ids=["slots", "aiohttp-trace", "per-host"],
)
async def test_fetches_wait_pending_for_a_connection(options: dict[str, object]) -> None:
    async with TaskManager(**options) as manager:  # type: ignore[arg-type]
        batch = manager.launch("fetch /delay/3000 x2")
        await asyncio.sleep(0)
        first, second = batch.records
        await wait_for_state(first, TaskState.RUNNING)
        await asyncio.sleep(0.05)
        assert second.state is TaskState.PENDING
        assert manager.cancel(second.id)
        await wait_for_state(second, TaskState.CANCELLED)
        assert second.started is None
        manager.cancel(first.id)
        await batch.wait()
        assert first.state is TaskState.CANCELLED


async def test_a_connector_limit_makes_waves(manager: TaskManager) -> None:
    async with TaskManager(connector_limit=2) as limited:
        batch = limited.launch("fetch /delay/100 x4")
        await batch.wait()
        waits = sorted(r.wait_s(limited.clock()) for r in batch.records)
        # the second pair waited for the first pair's connections
        assert waits[2] > waits[1] + 0.05


async def test_failures_do_not_touch_siblings(manager: TaskManager) -> None:
    batch = manager.launch("fail x3; sleep 0.05 x3")
    await batch.wait()
    assert batch.counts[TaskState.EXCEPTION] == 3
    assert batch.counts[TaskState.DONE] == 3
