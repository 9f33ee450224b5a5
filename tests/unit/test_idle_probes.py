"""An idle engine wakes its process rarely: the lag probe sleeps long while nothing runs and
samples closely again the moment work starts; the stall watchdog sleeps with it and is woken
when the probe goes back to short sleeps; psutil samples come from a thread of their own.

No test waits for a stretch of wall-clock time: each waits on the condition it checks, and
the long sleeps are an hour long so that none of them ends by itself during a test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from loopscope.tasks.lag import LagMonitor, StallWatchdog
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.process_stats import ProcessMonitor
from tests.staging import FakeClock

HOUR = 3600.0
"""An idle sleep that never ends during a test."""


async def until(condition: Callable[[], bool], timeout: float = 20) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.001)

    await asyncio.wait_for(poll(), timeout)


async def test_an_idle_probe_sleeps_long_and_a_wake_samples_closely_at_once() -> None:
    monitor = LagMonitor(interval=0.001, idle_interval=HOUR, settle=3, watchdog=False)
    monitor.start()
    try:
        await until(lambda: monitor.sleeping == HOUR)
        assert len(monitor.samples) == 4  # the first short sample, three more, then idle
        monitor.wake()  # a key, a launch
        assert monitor.sleeping == 0.001
        assert len(monitor.samples) == 4  # the cut hour-long sleep is no sample
        await until(lambda: len(monitor.samples) >= 5)
        await until(lambda: monitor.sleeping == HOUR)  # settled again
    finally:
        await monitor.stop()


async def test_a_busy_engine_is_probed_closely_until_it_is_idle_again() -> None:
    monitor = LagMonitor(interval=0.001, idle_interval=HOUR, settle=2, watchdog=False)
    monitor.start()
    try:
        await until(lambda: monitor.sleeping == HOUR)
        monitor.busy(True)
        assert monitor.sleeping == 0.001
        taken = len(monitor.samples)
        await until(lambda: len(monitor.samples) >= taken + 10)  # far beyond ``settle``
        assert monitor.sleeping == 0.001
        monitor.busy(False)
        await until(lambda: monitor.sleeping == HOUR)
    finally:
        await monitor.stop()


async def test_without_an_idle_interval_the_probe_never_slows() -> None:
    monitor = LagMonitor(interval=0.001, settle=1, watchdog=False)
    monitor.start()
    try:
        await until(lambda: len(monitor.samples) >= 10)
        assert monitor.sleeping == 0.001
    finally:
        await monitor.stop()


async def test_a_launch_on_an_idle_engine_brings_the_short_probe_back() -> None:
    async with TaskManager(EngineOptions(demo_server=False)) as manager:
        lag = manager.lag
        lag.idle_interval, lag.settle = HOUR, 1
        lag.wake()  # apply the settle count from now
        await until(lambda: lag.sleeping == HOUR)
        batch = manager.launch("sleep 0 x3")
        assert lag.sleeping == lag.interval  # at once: the launch itself is timed closely
        await batch.wait()
        await until(lambda: lag.sleeping == HOUR)


def spin(done: list[int]) -> None:
    while not done:
        pass


def test_a_short_beat_wakes_a_watchdog_asleep_for_an_idle_probe() -> None:
    """Without the nudge the watchdog would sleep out the hour and never catch the stall."""
    clock = FakeClock(100.0)
    done: list[int] = []
    ready = threading.Event()
    watchdogs: list[StallWatchdog] = []

    def loop_thread() -> None:
        watchdog = StallWatchdog(0.1, clock=clock)
        watchdogs.append(watchdog)
        watchdog.start()  # this thread is "the loop"
        watchdog.beat(grace=HOUR)  # the probe sleeps an hour: so does the watchdog
        ready.set()
        spin(done)  # then the loop is held

    thread = threading.Thread(target=loop_thread, daemon=True)
    thread.start()
    try:
        assert ready.wait(30)
        watchdog = watchdogs[0]
        assert wait_for(lambda: watchdog.wakes_at > clock.now + HOUR, 30)  # asleep for the hour
        watchdog.beat()  # a short sleep started (a key was pressed)
        assert watchdog.next_wait(clock.now) == watchdog.period
        clock.now += 1.0  # and the loop did not beat again: stuck
        caught: list[tuple[str, str] | None] = [None]

        def caught_it() -> bool:
            caught[0] = caught[0] or watchdog.take()
            return caught[0] is not None

        assert wait_for(caught_it, 30)
        assert caught[0] is not None
        assert caught[0][0].startswith("spin (test_idle_probes.py:")
    finally:
        done.append(1)
        thread.join(5)
        watchdogs[0].stop()


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    stop = threading.Event()
    deadline = threading.Timer(timeout, stop.set)
    deadline.start()
    try:
        while not stop.wait(0.005):
            if condition():
                return True
        return False
    finally:
        deadline.cancel()


async def test_psutil_samples_arrive_from_their_own_thread() -> None:
    monitor = ProcessMonitor(interval=0.001)
    monitor.start()
    try:
        await until(lambda: monitor.version >= 2)
        latest = monitor.latest
        assert latest is not None
        assert latest.rss_bytes > 0
        assert latest.threads >= 2
        names = {thread.name for thread in threading.enumerate()}
        assert "loopscope-psutil" in names
    finally:
        await monitor.stop()
    await until(lambda: "loopscope-psutil" not in {t.name for t in threading.enumerate()})
