"""Event-loop lag: how late the loop wakes a sleeper, sampled continuously.

A coroutine sleeps ``interval`` seconds again and again; any time beyond that is lag, time
the loop spent on something else. It resolves a stall to one sample (the way aiodebug does),
so a spike is also handed to ``blame`` (tasks/blame.py) with the evidence gathered over it:
the CPU time the process and the loop's thread got, and the line a watchdog thread caught
the loop on while it was stuck.
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
    """Samples loop lag every ``interval`` seconds while started."""

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
    ):
        self.interval = interval
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
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loopscope-lag")
            if self._watchdog is not None:
                self._watchdog.start()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._watchdog is not None:
            self._watchdog.stop()

    async def _run(self) -> None:
        watchdog = self._watchdog
        while True:
            before = self.clock()
            process_before, thread_before = self.process_cpu(), self.thread_cpu()
            if watchdog is not None:
                watchdog.beat()
            await asyncio.sleep(self.interval)
            after = self.clock()
            caught = watchdog.take() if watchdog is not None else None
            evidence = StallEvidence(
                process_cpu_s=self.process_cpu() - process_before,
                loop_cpu_s=self.thread_cpu() - thread_before,
                caught=caught[0] if caught else None,
                caught_file=caught[1] if caught else None,
            )
            self.record(before, after, evidence)

    def record(self, before: float, after: float, evidence: StallEvidence | None = None) -> None:
        """Record one sample: the sleep began at ``before`` and woke at ``after``."""
        lag_ms = max(0.0, (after - before - self.interval) * 1000)
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
    Python line the loop's thread is on. It wakes a few times a second and costs nothing
    measurable while the loop is healthy."""

    def __init__(self, threshold: float, *, period: float = 0.1):
        self.threshold = threshold
        self.period = period
        self._last_beat = time.monotonic()
        self._loop_thread = threading.get_ident()
        self._caught: tuple[str, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._loop_thread = threading.get_ident()
        self._last_beat = time.monotonic()
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="loopscope-watchdog", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=1)

    def beat(self) -> None:
        """The loop is alive (called by the lag monitor on the loop)."""
        self._last_beat = time.monotonic()

    def take(self) -> tuple[str, str] | None:
        """``(function (file:line), file)`` caught since the last beat, if any."""
        caught, self._caught = self._caught, None
        return caught

    def _watch(self) -> None:
        while not self._stop.wait(self.period):
            if self._caught is None and time.monotonic() - self._last_beat > self.threshold:
                self._caught = self.catch()

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
