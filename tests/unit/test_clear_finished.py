"""Clearing the finished rows and resetting the session totals (issue 10): the engine side."""

from __future__ import annotations

import asyncio

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskState


async def test_clear_drops_finished_batches_and_zeroes_the_session(manager: TaskManager) -> None:
    done = manager.launch("sleep 0.01 x3; fail boom")
    await asyncio.wait_for(done.wait(), 10)
    assert manager.session_timing().wall_s > 0
    assert manager.clear_finished() == 4
    assert manager.records == {}
    assert manager.batches == {}
    assert all(count == 0 for count in manager.counts.values())
    timing = manager.session_timing()
    assert timing.wall_s == 0
    assert timing.sequential_estimate_s == 0
    assert timing.measured_sequential_s is None
    assert manager.last_batch is None


async def test_clear_keeps_what_is_still_running(manager: TaskManager) -> None:
    finished = manager.launch("sleep 0.01 x2")
    await asyncio.wait_for(finished.wait(), 10)
    running = manager.launch("sleep 0.01; sleep 3600")
    while running.launching or running.records[0].state is not TaskState.DONE:
        await asyncio.sleep(0.005)
    first = running.records[0]
    version = manager.history_version
    assert manager.clear_finished() == 2
    assert manager.history_version > version  # screens rebuild their rows
    assert list(manager.batches) == [running.id]
    assert set(manager.records) == {r.id for r in running.records}
    assert manager.counts[TaskState.DONE] == 1
    assert manager.counts[TaskState.RUNNING] == 1
    # the live batch still counts in the session; the cleared one does not
    assert manager.session_timing().sequential_estimate_s >= first.run_s(0.0)
    manager.cancel_all()
    await asyncio.wait_for(running.wait(), 10)
    assert manager.counts[TaskState.CANCELLED] == 1


async def test_new_ids_keep_counting_after_a_clear(manager: TaskManager) -> None:
    first = manager.launch("sleep 0.01")
    await asyncio.wait_for(first.wait(), 10)
    manager.clear_finished()
    second = manager.launch("sleep 0.01")
    await asyncio.wait_for(second.wait(), 10)
    assert second.id > first.id
    assert second.records[0].id > first.records[0].id
