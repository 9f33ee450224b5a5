"""Event-loop lag: how late the loop wakes a sleeper, sampled continuously.

A probe sleeps ``interval`` seconds again and again (a timer callback on the loop, cheaper
than a task); any time beyond that is lag, time the loop spent on something else. It resolves
a stall to one sample (the way aiodebug does), so a spike is also handed to ``blame``
(tasks/blame.py) with the evidence gathered over it: the CPU time the process and the loop's
thread got, and the line a watchdog thread caught the loop on while it was stuck.

Idle, the probe may sleep longer (``idle_interval``, the dashboard's: 1 s). Every wake-up of
an idle process costs about a quarter of a millisecond of CPU on these machines, so a 20 Hz
probe alone was a third of the idle dashboard's cost. It sleeps the short ``interval`` while
the engine is busy (``busy(True)``: a batch in flight), for ``settle`` samples after the
engine went idle, after a spike or after ``wake()`` (the dashboard calls it on every key,
click and resize), so a stall that a launch or a key causes is measured as before: ``wake``
cuts a long sleep short and starts a short one at once. While idle nothing but loopscope's
own timers runs on the loop, and a stall then still shows as the lateness of the next wake.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from loopscope.tasks.blame import SpikeCause, StallEvidence, Verdict

Blame = Callable[[float, float, StallEvidence], Verdict]
SETTLE_SAMPLES = 20
"""Short samples after the engine went idle, a spike or a ``wake()`` (a second at 50 ms)."""


@dataclass(frozen=True, slots=True)
class LagStats:
    """Percentiles of lag over a window of samples, in milliseconds."""

    p50_ms: float
    p99_ms: float
    max_ms: float
    samples: int

    def as_dict(self) -> dict[str, float]:
        return {
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
        }


@dataclass(frozen=True, slots=True)
class LagSpike:
    at: float
    """When the loop woke up late (clock time)."""
    lag_ms: float
    culprit: str | None
    """What held the loop, in words (the verdict of tasks/blame.py)."""
    cause: SpikeCause = SpikeCause.UNKNOWN


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 for none)."""
    if not sorted_values:
        return 0.0
    rank = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[rank]


class LagMonitor:
    """Samples loop lag every ``interval`` seconds while started (every ``idle_interval``
    while the engine is idle, when one is given)."""

    def __init__(
        self,
        *,
        interval: float = 0.05,
        window: int = 1200,
        spike_ms: float = 100.0,
        blame: Blame | None = None,
        clock: Callable[[], float] = time.perf_counter,
        process_cpu: Callable[[], float] = time.process_time,
        thread_cpu: Callable[[], float] = time.thread_time,
        watchdog: bool = True,
        idle_interval: float | None = None,
        settle: int = SETTLE_SAMPLES,
    ):
        self.interval = interval
        self.idle_interval = idle_interval
        """How long the probe sleeps while the engine is idle (None: always ``interval``)."""
        self.settle = settle
        """Short samples still taken after the engine went idle, a spike, or ``wake()``."""
        self.spike_ms = spike_ms
        self.blame = blame
        self.clock = clock
        self.process_cpu = process_cpu
        """CPU time of the whole process (injectable for tests)."""
        self.thread_cpu = thread_cpu
        """CPU time of the calling thread, the loop's (injectable for tests)."""
        self._watchdog = StallWatchdog(interval + spike_ms / 2000) if watchdog else None
        self.on_spike: Callable[[float, LagSpike], None] | None = None
        """Told of each spike (with when the stalled sleep began), after it is recorded."""
        self.samples: deque[tuple[float, float]] = deque(maxlen=window)
        """(clock time, lag in ms), newest last."""
        self.spikes: deque[LagSpike] = deque(maxlen=50)
        self.version = 0
        """Bumped on every sample, so a screen knows when to redraw."""
        self.sleeping = 0.0
        """How long the probe's current sleep is (0.0: stopped)."""
        self._busy = False
        self._short_left = settle
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._before = 0.0
        self._process_before = 0.0
        self._thread_before = 0.0

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            if self._watchdog is not None:
                self._watchdog.start()
            self._sleep(self.interval)

    async def stop(self) -> None:
        handle, self._handle, self._loop = self._handle, None, None
        self.sleeping = 0.0
        if handle is not None:
            handle.cancel()
        if self._watchdog is not None:
            self._watchdog.stop()

    def busy(self, busy: bool) -> None:
        """The engine started work with none in flight (True) or finished the last of it
        (False): short samples from now on, and for ``settle`` more after it ends."""
        self._busy = busy
        self.wake()

    def wake(self) -> None:
        """Something may be about to hold the loop (a key, a launch): sample at the short
        interval from now. A long idle sleep is cut short and not counted as a sample (no
        wake-up was measured); the next sleep starts now, so a stall that begins in the
        caller is timed from here. Call it on the loop's thread."""
        self._short_left = self.settle
        if self._handle is not None and self.sleeping > self.interval:
            self._handle.cancel()
            self._sleep(self.interval)

    def _sleep(self, seconds: float) -> None:
        loop = self._loop
        if loop is None:
            return
        self.sleeping = seconds
        self._before = self.clock()
        self._process_before, self._thread_before = self.process_cpu(), self.thread_cpu()
        if self._watchdog is not None:
            self._watchdog.beat(seconds - self.interval)
        self._handle = loop.call_later(seconds, self._woke)

    def _woke(self) -> None:
        after = self.clock()
        watchdog = self._watchdog
        caught = watchdog.take() if watchdog is not None else None
        evidence = StallEvidence(
            process_cpu_s=self.process_cpu() - self._process_before,
            loop_cpu_s=self.thread_cpu() - self._thread_before,
            caught=caught[0] if caught else None,
            caught_file=caught[1] if caught else None,
        )
        self.record(self._before, after, evidence, slept=self.sleeping)
        if self.samples[-1][1] >= self.spike_ms:  # a spike: keep looking closely
            self._short_left = self.settle
        self._sleep(self._next_sleep())

    def _next_sleep(self) -> float:
        """The short interval while busy or settling, else the idle one (if any)."""
        if self.idle_interval is None or self._busy:
            return self.interval
        if self._short_left > 0:
            self._short_left -= 1
            return self.interval
        return self.idle_interval

    def record(self, before: float, after: float, evidence: StallEvidence | None = None,
               *, slept: float | None = None) -> None:
        """Record one sample: a sleep of ``slept`` seconds (default ``interval``) began at
        ``before`` and woke at ``after``."""
        lag_ms = max(0.0, (after - before - (self.interval if slept is None else slept)) * 1000)
        self.samples.append((after, lag_ms))
        self.version += 1
        if lag_ms >= self.spike_ms:
            if self.blame is None:
                verdict = Verdict(SpikeCause.UNKNOWN, "cause unknown")
            else:
                verdict = self.blame(before, after, evidence or StallEvidence())
            spike = LagSpike(after, lag_ms, verdict.text, verdict.cause)
            self.spikes.append(spike)
            if self.on_spike is not None:
                self.on_spike(before, spike)

    def stats(self, since: float | None = None) -> LagStats:
        values = sorted(lag for at, lag in self.samples if since is None or at >= since)
        return LagStats(
            percentile(values, 0.50), percentile(values, 0.99), values[-1] if values else 0.0,
            len(values),
        )

    def recent(self, count: int) -> list[float]:
        """The newest ``count`` lag values in ms, oldest first (for a sparkline)."""
        values = [lag for _, lag in self.samples]
        return values[-count:]


LOOP_MACHINERY = (
    os.sep + "asyncio" + os.sep,
    os.sep + "selectors.py",
    os.sep + "uvloop" + os.sep,
)
"""Frames of the event loop itself: the loop waiting or dispatching, not code holding it."""


class StallWatchdog:
    """A thread that, when the loop has not beaten for ``threshold`` seconds, looks at which
    Python line the loop's thread is on. While the loop beats it wakes every ``period``; when
    the probe sleeps long (an idle engine), it sleeps until that beat is overdue instead, so an
    idle process is woken about once a second, not ten times."""

    def __init__(self, threshold: float, *, period: float = 0.1,
                 clock: Callable[[], float] = time.monotonic):
        self.threshold = threshold
        self.period = period
        self.clock = clock
        """Tests replace it to step time by hand."""
        self._deadline = clock() + threshold
        """When the loop counts as stuck, unless it beats before."""
        self.wakes_at = float("inf")
        """When the watching thread will look next (it is nudged if a beat makes that late)."""
        self._loop_thread = threading.get_ident()
        self._caught: tuple[str, str] | None = None
        self._nudge = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._loop_thread = threading.get_ident()
        self._deadline = self.clock() + self.threshold
        self._stopping = False
        self._nudge.clear()
        self._thread = threading.Thread(target=self._watch, name="loopscope-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._nudge.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=1)

    def beat(self, grace: float = 0.0) -> None:
        """The loop is alive (called by the lag monitor on the loop); it will beat again
        within ``threshold + grace`` seconds unless it is stuck (``grace``: how much longer
        than usual the probe sleeps this time)."""
        self._deadline = deadline = self.clock() + self.threshold + grace
        if self.wakes_at > deadline + self.period:  # asleep past it (an idle sleep ended)
            self._nudge.set()

    def take(self) -> tuple[str, str] | None:
        """``(function (file:line), file)`` caught since the last beat, if any."""
        caught, self._caught = self._caught, None
        return caught

    def next_wait(self, now: float) -> float:
        """How long the watching thread sleeps from ``now``: ``period`` while the loop is
        overdue or beats often, until the deadline when that is further off."""
        return max(self.period, self._deadline - now)

    def _watch(self) -> None:
        while not self._stopping:
            now = self.clock()
            if self._caught is None and now > self._deadline:
                self._caught = self.catch()
            wait = self.next_wait(now)
            self.wakes_at = now + wait
            # a beat just before ``wakes_at`` was set saw no reason to nudge: look again
            wait = min(wait, self.next_wait(now))
            self._nudge.wait(wait)
            self._nudge.clear()

    def catch(self) -> tuple[str, str] | None:
        """Where the loop's thread is now, unless it is in the loop's own machinery.

        Code made at run time (a namedtuple's ``__new__``, a dataclass's ``__init__``: file
        ``<string>``) is named by the line that called it, when that line is not the loop's
        own: "<lambda> (<string>:1)" told a user nothing."""
        # sys._current_frames is the documented way to see another thread's stack
        frame = sys._current_frames().get(self._loop_thread)
        caller = frame
        while caller is not None and caller.f_code.co_filename.startswith("<"):
            caller = caller.f_back
        if caller is not None and not _in_machinery(caller):
            frame = caller
        if frame is None or _in_machinery(frame):
            return None
        code = frame.f_code
        name = os.path.basename(code.co_filename)
        return f"{code.co_name} ({name}:{frame.f_lineno})", code.co_filename


def _in_machinery(frame: FrameType) -> bool:
    return any(part in frame.f_code.co_filename for part in LOOP_MACHINERY)
