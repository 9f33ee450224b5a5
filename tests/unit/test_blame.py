"""Lag spikes name their cause: loopscope's own work, code on the loop, the OS, the GIL."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from types import ModuleType

import loopscope.tasks.kinds.block
import loopscope.tasks.ledger
import loopscope.widgets.task_list
from loopscope.tasks.blame import LoopBlame, SpikeCause, StallEvidence
from loopscope.tasks.lag import LagMonitor
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions


def scripted(values: list[float]) -> Callable[[], float]:
    """A clock (or CPU-time function) that returns ``values`` in turn, then the last one."""
    it: Iterator[float] = itertools.chain(values, itertools.repeat(values[-1]))
    return lambda: next(it)


def test_loopscopes_own_work_is_never_cause_unknown() -> None:
    blame = LoopBlame(gil_jobs=lambda: 0)
    blame.note_own_work(10.0, 10.3, "starting the process pool")
    verdict = blame.explain(10.0, 10.4, StallEvidence(process_cpu_s=0.39, loop_cpu_s=0.39))
    assert verdict.cause is SpikeCause.OWN_WORK
    assert verdict.text == "loopscope's own work: starting the process pool"


def test_a_task_that_held_the_loop_is_named() -> None:
    blame = LoopBlame(gil_jobs=lambda: 0)
    blame.note_on_loop(1.0, 1.5, "task #7 block 0.5 s")
    verdict = blame.explain(0.9, 1.6, StallEvidence(process_cpu_s=0.0, loop_cpu_s=0.0))
    assert (verdict.cause, verdict.text) == (SpikeCause.LOOP_CODE, "task #7 block 0.5 s")


def test_the_line_caught_on_the_loop_is_named() -> None:
    blame = LoopBlame(gil_jobs=lambda: 0)
    evidence = StallEvidence(0.4, 0.4, "spin (user.py:3)", "/home/me/user.py")
    verdict = blame.explain(0.0, 0.5, evidence)
    assert verdict.cause is SpikeCause.LOOP_CODE
    assert verdict.text == "Python code holding the loop: spin (user.py:3)"


def test_drawing_the_screen_is_loopscopes_own_work() -> None:
    blame = LoopBlame(gil_jobs=lambda: 0)
    where = "/venv/lib/python3.11/site-packages/textual/_compositor.py"
    verdict = blame.explain(0.0, 0.3, StallEvidence(0.3, 0.3, "render (_compositor.py:9)", where))
    assert verdict.cause is SpikeCause.OWN_WORK
    assert "drawing the screen" in verdict.text


def test_a_starved_process_is_told_apart() -> None:
    blame = LoopBlame(gil_jobs=lambda: 0)
    verdict = blame.explain(0.0, 0.5, StallEvidence(process_cpu_s=0.01, loop_cpu_s=0.01))
    assert verdict.cause is SpikeCause.STARVED
    assert verdict.text == (
        "the OS starved the process: 10 ms of CPU in a 500 ms stall (another process had the CPU)"
    )


def test_threads_holding_the_gil_are_told_apart() -> None:
    blame = LoopBlame(gil_jobs=lambda: 3)
    verdict = blame.explain(0.0, 0.5, StallEvidence(process_cpu_s=0.49, loop_cpu_s=0.02))
    assert (verdict.cause, verdict.text) == (
        SpikeCause.GIL, "the GIL: 3 CPU-bound thread jobs running"
    )


def test_busy_loop_code_that_was_not_caught() -> None:
    blame = LoopBlame(gil_jobs=lambda: 0)
    verdict = blame.explain(0.0, 0.5, StallEvidence(process_cpu_s=0.5, loop_cpu_s=0.48))
    assert verdict.cause is SpikeCause.LOOP_CODE
    assert "line not caught" in verdict.text


async def test_the_lag_monitor_measures_cpu_time_over_each_stall() -> None:
    """Injected clock and CPU-time functions: a 500 ms stall with 10 ms of CPU is the OS."""
    blame = LoopBlame(gil_jobs=lambda: 0)
    monitor = LagMonitor(
        interval=0.001,
        blame=blame.explain,
        clock=scripted([0.0, 0.501, 1.0, 1.001]),
        process_cpu=scripted([0.0, 0.0, 0.01, 0.01]),
        thread_cpu=scripted([0.0, 0.0, 0.005, 0.005]),
        watchdog=False,
    )
    monitor.start()
    try:
        while not monitor.spikes:
            await asyncio.sleep(0)
    finally:
        await monitor.stop()
    spike = monitor.spikes[0]
    assert round(spike.lag_ms) == 500
    assert spike.cause is SpikeCause.STARVED


async def test_start_up_is_noted_as_own_work() -> None:
    ticks = itertools.count()
    async with TaskManager(
        EngineOptions(demo_server=False, monitors=False), clock=lambda: float(next(ticks))
    ) as manager:
        began, ended = 0.0, manager.clock()  # start() read the clock in between
        manager.lag.record(began, ended)
        spike = manager.lag.spikes[-1]
        assert spike.cause is SpikeCause.OWN_WORK
        assert spike.culprit == "loopscope's own work: start-up"


async def test_starting_the_process_pool_is_noted_as_own_work() -> None:
    async with TaskManager(EngineOptions(demo_server=False, process_workers=1)) as manager:
        before = time.perf_counter()
        await manager.launch("cpu 1000").wait()
        assert manager.blame(before, time.perf_counter()) is not None
        assert "loopscope's own work" in (manager.blame(before, time.perf_counter()) or "")


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_the_watchdog_names_the_line_that_held_the_loop() -> None:
    async with TaskManager(EngineOptions(demo_server=False)) as manager:
        await asyncio.sleep(0.1)  # the monitor is sampling
        spin(0.5)
        while not manager.lag.spikes:
            await asyncio.sleep(0.01)
        spike = manager.lag.spikes[-1]
        assert spike.cause is SpikeCause.LOOP_CODE, spike
        assert spike.culprit is not None
        assert "spin (test_blame.py:" in spike.culprit


def test_a_line_in_loopscopes_own_widgets_or_engine_is_own_work() -> None:
    """Seen on the dashboard: "Python code holding the loop: _layout (task_list.py:201)"."""
    blame = LoopBlame(gil_jobs=lambda: 0)

    def caught_in(module: ModuleType) -> StallEvidence:
        return StallEvidence(0.3, 0.3, "f (x.py:1)", module.__file__)

    verdict = blame.explain(0.0, 0.3, caught_in(loopscope.widgets.task_list))
    assert verdict.cause is SpikeCause.OWN_WORK
    assert "drawing the screen" in verdict.text
    assert blame.explain(0.0, 0.3, caught_in(loopscope.tasks.ledger)).cause is SpikeCause.OWN_WORK
    task = blame.explain(0.0, 0.3, caught_in(loopscope.tasks.kinds.block))
    assert task.cause is SpikeCause.LOOP_CODE
