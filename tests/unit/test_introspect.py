"""Insight into the engine's own tasks: where each is suspended, and (with step timing) its
busy time and steps, read with the agent's pieces (tasks/introspect.py)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable

from loopscope.tasks.agent import recorder as agent_recorder
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskRecord

QUIET = EngineOptions(demo_server=False, monitors=False)


async def _settle(condition: Callable[[], bool], timeout: float = 10) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), timeout)


async def test_a_task_waiting_on_an_event_is_sampled_at_its_await_line() -> None:
    gate = asyncio.Event()
    reached = asyncio.Event()

    async def wait_at_the_gate(record: TaskRecord) -> str:
        reached.set()
        await gate.wait()  # the line the detail view must show
        return "through"

    line = next(
        number for number, text in enumerate(inspect.getsourcelines(wait_at_the_gate)[0],
                                             start=wait_at_the_gate.__code__.co_firstlineno)
        if "await gate.wait()" in text
    )
    async with TaskManager(QUIET) as manager:
        batch = manager.open_batch("gate")
        waiter = asyncio.ensure_future(manager.tracked(batch, "gate", "an Event", wait_at_the_gate))
        await asyncio.wait_for(reached.wait(), 5)
        await asyncio.sleep(0)
        (record,) = batch.records
        manager.sample_insight([record.id])
        where = record.suspended_at
        assert where is not None
        own = where.own_frame
        assert own is not None
        assert (own.function.rsplit(".", 1)[-1], own.filename, own.line) == (
            "wait_at_the_gate", __file__, line,
        )
        assert where.innermost is not None
        assert where.innermost.library  # inside asyncio's Event
        assert where.awaiting is not None
        assert "Future" in where.awaiting
        assert record.busy_s is None
        assert record.steps is None  # step timing is off by default
        counts = manager.introspect.suspended_lines(manager.live_tasks().values(), __file__)
        assert counts[line] == 1
        gate.set()
        assert await waiter == "through"
        assert manager.live_tasks() == {}


async def test_step_timing_counts_the_steps_and_keeps_them_when_the_task_ends() -> None:
    async def three_steps(record: TaskRecord) -> int:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return 3

    async with TaskManager(QUIET.replace(step_timing=True)) as manager:
        assert manager.introspect.timing
        batch = manager.open_batch("steps")
        await manager.tracked(batch, "steps", "three", three_steps)
        (record,) = batch.records
        await _settle(lambda: record.state.finished)
        assert record.steps == 3
        assert record.busy_s is not None
        assert record.busy_s > 0
        assert record.longest_step_s is not None
        assert record.longest_step_s <= record.busy_s
    # closing the manager puts asyncio's own step back
    assert agent_recorder.step_hook_is_free()


async def test_step_timing_steps_aside_when_another_hook_owns_the_loop() -> None:
    other = agent_recorder.Recorder()
    other.install()
    try:
        async with TaskManager(QUIET.replace(step_timing=True)) as manager:
            assert not manager.introspect.timing
            assert any("step timing is off" in notice for notice in manager.notices)
    finally:
        other.uninstall()
    assert agent_recorder.step_hook_is_free()


async def test_a_done_tasks_detail_shows_no_await_chain_target() -> None:
    """Trial: a done task's detail still said ``awaiting  Future pending``."""
    import io

    from rich.console import Console

    from loopscope.widgets.task_detail import describe_insight

    def shown(record: TaskRecord) -> str:
        out = io.StringIO()
        Console(file=out, width=120).print(describe_insight(record))
        return out.getvalue()

    gate = asyncio.Event()
    reached = asyncio.Event()

    async def wait_at_the_gate(record: TaskRecord) -> str:
        reached.set()
        await gate.wait()
        return "through"

    async with TaskManager(QUIET) as manager:
        batch = manager.open_batch("gate")
        waiter = asyncio.ensure_future(manager.tracked(batch, "gate", "an Event", wait_at_the_gate))
        await asyncio.wait_for(reached.wait(), 5)
        await asyncio.sleep(0)
        (record,) = batch.records
        manager.sample_insight([record.id])
        assert "awaiting" in shown(record)
        assert "Future pending" in shown(record)
        gate.set()
        assert await waiter == "through"
        assert record.state.finished
        assert "Future pending" not in shown(record)
        assert "last suspended at" in shown(record)  # where it was last seen stays, labelled
