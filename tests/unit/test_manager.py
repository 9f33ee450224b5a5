"""The TaskManager's bookkeeping: changes, counts, batches, history, timing, replay, blame."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import psutil

from loopscope.tasks.batch import Batch
from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.timing import Timing, union_length

QUIET = EngineOptions(demo_server=False, monitors=False)
"""No demo server, no monitors: only the bookkeeping under test."""


async def until(condition: Callable[[], bool], *, limit_s: float = 60.0) -> None:
    """Wait for ``condition`` (a condition, not a time window: ``limit_s`` only stops a hang)."""
    async with asyncio.timeout(limit_s):
        while not condition():
            await asyncio.sleep(0.005)


async def test_changes_since_returns_only_what_changed(manager: TaskManager) -> None:
    batch = manager.launch("sleep 0 x5")
    await batch.wait()
    version, ids = manager.changes_since(0)
    assert sorted(ids) == [r.id for r in batch.records]
    assert manager.changes_since(version) == (version, [])
    second = manager.launch("sleep 0 x2")
    await second.wait()
    _, ids = manager.changes_since(version)
    assert sorted(ids) == [r.id for r in second.records]


async def test_counts_follow_every_transition(manager: TaskManager) -> None:
    batch = manager.launch("sleep 0.01 x4; fail x2; sleep 3600 x3")
    await until(lambda: batch.finished_count == 6)
    assert manager.counts[TaskState.RUNNING] == 3
    manager.cancel_all()
    await batch.wait()
    assert batch.counts == {
        TaskState.PENDING: 0,
        TaskState.RUNNING: 0,
        TaskState.DONE: 4,
        TaskState.EXCEPTION: 2,
        TaskState.CANCELLED: 3,
    }
    assert manager.counts == batch.counts


async def test_a_big_launch_is_made_in_chunks() -> None:
    async with TaskManager(QUIET.replace(launch_chunk=100)) as manager:
        batch = manager.launch("sleep 0 x1000")
        await asyncio.sleep(0)
        # one chunk so far; the rest come on later loop iterations
        assert 0 < len(batch.records) < 1000
        await batch.wait()
        assert len(batch.records) == 1000
        assert batch.counts[TaskState.DONE] == 1000


async def test_cancel_all_stops_a_launch_in_progress() -> None:
    async with TaskManager(QUIET.replace(launch_chunk=100)) as manager:
        batch = manager.launch("sleep 10 x5000")
        await asyncio.sleep(0)
        manager.cancel_all()
        await asyncio.wait_for(batch.wait(), 5)
        assert len(batch.records) < 5000
        assert batch.planned == len(batch.records)
        assert batch.counts[TaskState.CANCELLED] == len(batch.records)


async def test_history_is_capped_by_whole_old_batches() -> None:
    async with TaskManager(QUIET.replace(history_limit=100)) as manager:
        for _ in range(5):
            await manager.launch("sleep 0 x60").wait()
        assert len(manager.records) <= 100
        assert list(manager.batches) == [5]  # the newest batch is never dropped
        assert manager.history_version > 0
        assert manager.counts[TaskState.DONE] == 300  # totals keep everything


async def test_batch_timing_with_an_injected_clock() -> None:
    now = [100.0]
    async with TaskManager(QUIET, clock=lambda: now[0]) as manager:
        batch = manager.launch("sleep 0.05 x3")
        while batch.counts[TaskState.RUNNING] < 3:
            await asyncio.sleep(0)  # tasks start at 100.0
        now[0] = 102.0
        await batch.wait()
        timing = batch.timing(now[0])
        assert timing.wall_s == 2.0
        assert timing.sequential_estimate_s == 6.0
        assert timing.speedup == 3.0
        assert timing.gained_s == 4.0
        assert timing.measured_speedup is None


async def test_live_timing_counts_running_tasks() -> None:
    now = [10.0]
    async with TaskManager(QUIET, clock=lambda: now[0]) as manager:
        batch = manager.launch("sleep 3600 x4")
        await until(lambda: batch.counts[TaskState.RUNNING] == 4)
        now[0] = 11.5
        timing = batch.timing(now[0])
        assert timing.wall_s == 1.5
        assert timing.sequential_estimate_s == 6.0
        manager.cancel_all()
        await batch.wait()


async def test_replay_measures_the_sequential_time(manager: TaskManager) -> None:
    batch = manager.launch("sleep 0.1 x4")
    await batch.wait()
    replay = manager.replay_sequential(batch)
    await replay.wait()
    assert replay.sequential
    assert replay.replay_of == batch.id
    starts = [r.started for r in replay.records]
    finishes = [r.finished for r in replay.records]
    assert all(s is not None and f is not None for s, f in zip(starts, finishes, strict=True))
    # one after another: each starts after the previous one finished
    assert all(s >= f for s, f in zip(starts[1:], finishes[:-1], strict=True))  # type: ignore[operator]
    timing = batch.timing(manager.clock())
    assert timing.measured_sequential_s is not None
    assert timing.measured_sequential_s >= 0.4
    assert timing.measured_speedup is not None
    assert timing.measured_speedup > 2
    session = manager.session_timing()
    assert session.measured_sequential_s == timing.measured_sequential_s


async def test_the_estimate_lies_under_the_gil_and_the_replay_tells() -> None:
    """Four CPU-bound jobs in threads: summed durations claim a big gain; a replay shows
    there was little or none."""
    async with TaskManager(EngineOptions(demo_server=False, thread_workers=4)) as manager:
        batch = manager.launch("cpu 1500000 x4 in=thread")
        await batch.wait()
        await manager.replay_sequential(batch).wait()
        timing = batch.timing(manager.clock())
        assert timing.speedup is not None
        assert timing.measured_speedup is not None
        # the estimate claims about 4x; the replay measures about 1x (its exact figure swings
        # with the machine's load, so only the comparison is asserted)
        assert timing.measured_speedup < timing.speedup


async def test_a_block_is_caught_by_the_lag_monitor_and_blamed(manager: TaskManager) -> None:
    batch = manager.launch("block 0.3")
    await batch.wait()
    await until(lambda: bool(manager.lag.spikes))  # the monitor's next tick sees the stall
    spike = manager.lag.spikes[-1]
    assert spike.lag_ms >= 200
    assert spike.culprit == f"task #{batch.records[0].id} block 0.3 s"


async def test_a_spike_under_gil_bound_threads_blames_the_gil() -> None:
    async with TaskManager(EngineOptions(demo_server=False, thread_workers=4)) as manager:
        batch = manager.launch("cpu 6000000 x4 in=thread")
        await until(lambda: manager.gil_jobs_running == 4)
        assert manager.blame(0.0, 1.0) == "the GIL: 4 CPU-bound thread jobs running"
        await batch.wait()
        assert manager.gil_jobs_running == 0
        assert manager.blame(0.0, 1.0) is None


async def test_session_wall_merges_finished_and_live_batches() -> None:
    """Gaps between batches do not count; a finished batch inside a live one counts once."""
    now = [0.0]
    async with TaskManager(QUIET, clock=lambda: now[0]) as manager:

        async def run_until_running(spec: str) -> Batch:
            batch = manager.launch(spec)
            while batch.counts[TaskState.RUNNING] < 1:
                await asyncio.sleep(0)
            return batch

        first = await run_until_running("sleep 0.01")
        now[0] = 2.0
        await first.wait()  # span (0, 2)
        now[0] = 5.0
        live = await run_until_running("sleep 30")  # live from 5
        now[0] = 8.0
        inner = await run_until_running("sleep 0.01")
        now[0] = 9.0
        await inner.wait()  # span (8, 9), inside the live batch
        now[0] = 10.0
        assert manager.session_timing().wall_s == 2.0 + 5.0
        manager.cancel(live.records[0].id)
        await live.wait()
        assert manager.session_timing().wall_s == 2.0 + 5.0


def test_union_length_merges_overlaps() -> None:
    assert union_length([(0, 1), (0.5, 2), (3, 4)]) == 3.0
    assert union_length([]) == 0.0


def test_timing_labels() -> None:
    timing = Timing(2.0, 8.0, measured_sequential_s=2.2)
    assert timing.speedup == 4.0
    assert timing.measured_speedup == 1.1
    assert timing.measured_gained_s is not None
    assert abs(timing.measured_gained_s - 0.2) < 1e-9


# --- the ledger: one done-callback records every end --------------------------------------


async def test_a_launched_task_cancelled_before_its_first_step_ends_cancelled() -> None:
    async with TaskManager(QUIET) as manager:
        batch = manager.launch("sleep 30 x3")
        await asyncio.sleep(0)  # the launcher made the tasks; none has taken a step yet
        assert len(batch.records) == 3
        for record in batch.records:
            assert manager.cancel(record.id)
        await asyncio.wait_for(batch.wait(), 5)
        assert [r.state for r in batch.records] == [TaskState.CANCELLED] * 3
        assert all(r.started is None for r in batch.records)  # the runner never ran


async def test_a_tracked_task_cancelled_before_its_first_step_ends_cancelled() -> None:
    """Reproduced before the fix: the records stayed pending and batch.wait() never returned."""
    ran: list[int] = []

    async def work(record: TaskRecord) -> int:
        ran.append(record.id)
        return 1

    async with TaskManager(QUIET) as manager:
        batch = manager.open_batch("tracked")
        tasks = [
            asyncio.ensure_future(manager.tracked(batch, "job", f"#{n}", work)) for n in range(3)
        ]
        for task in tasks:
            task.cancel()  # before the loop ever steps them
        manager.close_batch(batch)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.wait_for(batch.wait(), 5)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert [r.state for r in batch.records] == [TaskState.CANCELLED] * 3
        assert ran == []
        assert manager.counts[TaskState.PENDING] == 0


async def test_tracked_work_under_a_task_group_is_cancelled_with_its_siblings() -> None:
    async def fail(record: TaskRecord) -> None:
        raise ValueError("boom")

    async def wait_long(record: TaskRecord) -> None:
        await asyncio.sleep(30)

    async with TaskManager(QUIET) as manager:
        batch = manager.open_batch("group")
        with contextlib.suppress(ExceptionGroup):
            async with asyncio.TaskGroup() as group:
                for _ in range(3):
                    group.create_task(manager.tracked(batch, "sleep", "30 s", wait_long))
                group.create_task(manager.tracked(batch, "fail", "boom", fail))
        manager.close_batch(batch)
        await asyncio.wait_for(batch.wait(), 5)
        assert batch.counts[TaskState.CANCELLED] == 3
        assert batch.counts[TaskState.EXCEPTION] == 1
        failed = batch.records[-1]
        assert failed.error == "ValueError: boom"
        assert failed.traceback


async def test_the_manager_holds_a_ledger_and_does_not_inherit_it() -> None:
    async with TaskManager(QUIET) as manager:
        assert not isinstance(manager, TaskLedger)
        batch = manager.launch("sleep 0 x2")
        await batch.wait()
        assert manager.ledger.counts == manager.counts
        assert manager.counts[TaskState.DONE] == 2
        assert manager.ledger.batches[batch.id] is batch


# --- cost per batch -----------------------------------------------------------------------


async def test_completing_a_batch_costs_the_same_late_in_a_session() -> None:
    """Finished spans used to be re-merged and re-summed on every completion: O(session)."""
    now = [0.0]
    async with TaskManager(QUIET, clock=lambda: now[0]) as manager:
        costs = []
        for n in range(600):
            now[0] = n * 2.0
            before = manager.ledger.span_work
            batch = manager.launch("sleep 0")
            now[0] = n * 2.0 + 1.0  # it finishes one second after its launch
            await batch.wait()
            costs.append(manager.ledger.span_work - before)
        assert max(costs) <= 4
        assert sum(costs[-100:]) <= sum(costs[:100])
        # 600 batches of one second each; the gaps between them do not count
        assert manager.session_timing().wall_s == 600.0


async def test_session_wall_with_a_long_batch_spanning_many_short_ones() -> None:
    now = [0.0]
    async with TaskManager(QUIET, clock=lambda: now[0]) as manager:
        long = manager.launch("sleep 30")
        for n in range(1, 200):
            now[0] = float(n)
            short = manager.launch("sleep 0")
            now[0] = n + 0.5
            await short.wait()
        assert manager.ledger.span_work <= 3 * 200
        now[0] = 300.0
        assert manager.session_timing().wall_s == 300.0
        manager.cancel(long.records[0].id)
        await long.wait()
        assert manager.session_timing().wall_s == 300.0


# --- wall and pending: what a stopwatch sees, what a task waits for -----------------------


async def test_wall_runs_from_the_launch_including_time_before_the_first_start() -> None:
    now = [0.0]
    async with TaskManager(QUIET, clock=lambda: now[0]) as manager:
        batch = manager.launch("sleep 0.01")
        now[0] = 5.0  # the task's first step comes late: it starts at 5
        while batch.counts[TaskState.RUNNING] < 1:
            await asyncio.sleep(0)
        now[0] = 6.0
        await batch.wait()
        timing = batch.timing(now[0])
        assert timing.wall_s == 6.0  # a stopwatch around the launch
        assert timing.sequential_estimate_s == 1.0


async def test_reads_wait_for_the_sample_files_and_the_wall_counts_it() -> None:
    async with TaskManager(EngineOptions(demo_server=False, monitors=False)) as manager:
        batch = manager.launch("read x3")
        await batch.wait()
        first = batch.records[0]
        assert first.state is TaskState.DONE
        assert first.waiting_for == "the sample files being generated"
        assert first.started is not None
        assert batch.timing(manager.clock()).wall_s >= first.started - batch.created


async def test_a_task_that_waited_for_nothing_names_nothing(tmp_path: Path) -> None:
    async with TaskManager(EngineOptions(demo_server=False, monitors=False)) as manager:
        batch = manager.launch(f"read {tmp_path / 'nonexistent'}")
        await batch.wait()
        (record,) = batch.records
        assert record.state is TaskState.EXCEPTION
        assert record.waiting_for is None  # not "waiting for a slot": there is none


async def test_process_jobs_wait_for_a_process_worker() -> None:
    async with TaskManager(EngineOptions(demo_server=False, process_workers=1)) as manager:
        batch = manager.launch("cpu 20000000 x2")
        while batch.counts[TaskState.RUNNING] < 1:
            await asyncio.sleep(0.01)
        waiting = [r for r in batch.records if r.state is TaskState.PENDING]
        assert [r.waiting_for for r in waiting] == ["a process worker"]
        assert manager.process_workers_busy == 1
        await batch.wait()
        assert manager.process_workers_busy == 0


async def test_tasks_held_up_by_a_stalled_loop_say_so() -> None:
    now = [0.0]
    async with TaskManager(QUIET, clock=lambda: now[0]) as manager:
        batch = manager.launch("sleep 0 x3")
        await asyncio.sleep(0)  # made, not yet stepped
        now[0] = 2.0
        manager.lag.record(1.0, 1.55)  # the loop stalled 500 ms while they waited
        await batch.wait()
        assert [r.waiting_for for r in batch.records] == ["a busy event loop (500 ms stall)"] * 3


async def test_a_dead_process_worker_is_replaced_once_and_said_once() -> None:
    async with TaskManager(EngineOptions(demo_server=False, process_workers=1)) as manager:
        batch = manager.launch("cpu 3000000000")
        await asyncio.sleep(0)
        (record,) = batch.records
        while batch.counts[TaskState.RUNNING] == 0:
            await asyncio.sleep(0.01)
        for child in psutil.Process().children():
            if "resource_tracker" not in " ".join(child.cmdline()):
                child.kill()  # the worker dies, as if out of memory
        await asyncio.wait_for(batch.wait(), 30)
        assert record.state is TaskState.EXCEPTION
        assert record.error_type == "BrokenProcessPool"
        after = manager.launch("cpu 1000 x3")
        await asyncio.wait_for(after.wait(), 60)
        assert after.counts[TaskState.DONE] == 3
        assert manager.notices == ["a process-pool worker died: started a fresh pool"]
