"""``R``'s measurement in a clean process: mirrored live, divided by the wall measured beside
it, stoppable with ``C`` without leaving processes behind."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import psutil
import pytest

from loopscope.tasks.clean_replay import replay_in_clean_process
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskState
from loopscope.tasks.scenarios import start
from loopscope.tasks.scenarios.base import LogKind

EXAMPLE_KINDS = Path(__file__).resolve().parents[2] / "examples" / "my_kinds.py"


def clean_children() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "loopscope.tasks.isolated_child" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


async def no_clean_children_left() -> None:
    while clean_children():
        await asyncio.sleep(0.01)


async def test_the_replay_is_measured_in_a_clean_process_and_mirrored() -> None:
    async with TaskManager(EngineOptions(monitors=False)) as manager:
        batch = manager.launch("sleep 0.05 x3")
        await batch.wait()
        run = replay_in_clean_process(manager, batch)
        assert run.replay.replay_of == batch.id
        assert run.replay.sequential
        await asyncio.wait_for(asyncio.shield(run.task), 60)  # type: ignore[arg-type]
        assert run.error is None
        assert run.clean_wall_s is not None
        assert run.sequential_s is not None
        assert run.sequential_s >= 0.15  # three sleeps of 0.05 s, one after another
        timing = batch.timing(manager.clock())
        assert timing.measured_sequential_s == run.sequential_s
        # divided by the wall measured beside the replay, not by the wall seen here
        assert timing.measured_speedup == run.sequential_s / run.clean_wall_s
        assert manager.session_timing().measured_speedup == timing.measured_speedup
        records = run.replay.records
        assert [r.state for r in records] == [TaskState.DONE] * 3
        assert [r.kind for r in records] == ["sleep"] * 3
        for before, after in itertools.pairwise(records):  # one after another, never overlapping
            assert before.finished is not None
            assert after.started is not None
            assert before.finished <= after.started
        assert run.replay.done
        assert manager.last_batch is batch


async def test_a_clean_process_that_fails_is_one_line_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loopscope.tasks import clean_replay

    monkeypatch.setattr(clean_replay, "engine_settings", lambda manager: {"no_such_option": 1})
    async with TaskManager(EngineOptions(monitors=False, demo_server=False)) as manager:
        batch = manager.launch("sleep 0.01")
        await batch.wait()
        run = replay_in_clean_process(manager, batch)
        await asyncio.gather(run.task, return_exceptions=True)  # type: ignore[arg-type]
        assert run.error is not None
        assert run.error.startswith("the clean process failed: TypeError:")
        assert "\n" not in run.error
        assert run.replay.done
        assert batch.measured_sequential_s is None


async def test_cancel_all_stops_the_replay_and_its_process() -> None:
    async with TaskManager(EngineOptions(monitors=False)) as manager:
        batch = manager.launch("sleep 30 x2")  # measuring it again would take a minute
        manager.cancel_all()  # stops the launch: its specs are what a replay runs
        await batch.wait()
        run = replay_in_clean_process(manager, batch)

        async def child_started() -> None:
            while not clean_children():
                await asyncio.sleep(0.01)

        await asyncio.wait_for(child_started(), 30)
        manager.cancel_all()
        await asyncio.gather(run.task, return_exceptions=True)  # type: ignore[arg-type]
        assert run.error == "stopped"
        assert run.replay.done
        assert all(r.state.finished for r in run.replay.records)
        assert batch.measured_sequential_s is None
        await asyncio.wait_for(no_clean_children_left(), 30)


async def test_stopping_the_race_leaves_no_process_behind() -> None:
    async with TaskManager(EngineOptions(process_workers=2, monitors=False)) as manager:
        run = start(manager, "race", io_count=3, io_ms=50, cpu_count=2, cpu_n=10**12)

        async def cpu_lane_running() -> None:  # sums that would take hours
            while not any(r.state is TaskState.RUNNING and r.kind == "cpu"
                          for b in run.context.batches for r in b.records):
                await asyncio.sleep(0.01)

        await asyncio.wait_for(cpu_lane_running(), 90)
        manager.cancel_all()
        await asyncio.wait_for(run.wait(), 30)
        assert run.context.log[-1].kind is LogKind.STOPPED
        assert manager.live_count == 0
        await asyncio.wait_for(no_clean_children_left(), 30)


async def test_a_user_kind_is_replayed_in_the_clean_process_too() -> None:
    from loopscope.tasks.kinds import registry
    from loopscope.tasks.kinds.loader import load_kinds_file

    with registry.restoring():
        load_kinds_file(EXAMPLE_KINDS)
        async with TaskManager(EngineOptions(monitors=False)) as manager:
            batch = manager.launch("orders 7 x2")
            await batch.wait()
            run = replay_in_clean_process(manager, batch)
            await asyncio.gather(run.task, return_exceptions=True)  # type: ignore[arg-type]
            assert run.error is None
            assert [r.kind for r in run.replay.records] == ["orders", "orders"]
            assert all(r.state is TaskState.DONE for r in run.replay.records)
            assert batch.measured_sequential_s is not None


async def test_after_a_replay_ends_its_batch_can_be_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``R`` then ``ctrl+l``: the replayed batch and its replay go (they stayed for good)."""
    from loopscope.tasks import clean_replay

    monkeypatch.setattr(clean_replay, "engine_settings", lambda manager: {"no_such_option": 1})
    async with TaskManager(EngineOptions(monitors=False, demo_server=False)) as manager:
        batch = manager.launch("sleep 0.01 x3")
        await batch.wait()
        run = replay_in_clean_process(manager, batch)
        assert manager.ledger.clear_finished() == 0  # kept while its replay runs
        await asyncio.gather(run.task, return_exceptions=True)  # type: ignore[arg-type]
        assert run.replay.done
        manager.ledger.clear_finished()
        assert batch.id not in manager.ledger.batches
        assert run.replay.id not in manager.ledger.batches
        assert not manager.ledger.records
