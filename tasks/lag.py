"""Event-loop lag: how late the loop wakes a sleeper, sampled continuously.

A coroutine sleeps ``interval`` seconds again and again; any time beyond that is lag, time
the loop spent on something else. It resolves a stall to one sample (the way aiodebug does),
so a spike is also handed to ``blame``, which names what the manager knows ran on the loop
then (a ``block`` task, a launch of thousands of tasks).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Blame = Callable[[float, float], "str | None"]


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
    """What was running on the loop, when it is known."""


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
    ):
        self.interval = interval
        self.spike_ms = spike_ms
        self.blame = blame
        self.clock = clock
        self.samples: deque[tuple[float, float]] = deque(maxlen=window)
        """(clock time, lag in ms), newest last."""
        self.spikes: deque[LagSpike] = deque(maxlen=50)
        self.version = 0
        """Bumped on every sample, so a screen knows when to redraw."""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loopscope-lag")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            before = self.clock()
            await asyncio.sleep(self.interval)
            after = self.clock()
            self.record(before, after)

    def record(self, before: float, after: float) -> None:
        """Record one sample: the sleep began at ``before`` and woke at ``after``."""
        lag_ms = max(0.0, (after - before - self.interval) * 1000)
        self.samples.append((after, lag_ms))
        self.version += 1
        if lag_ms >= self.spike_ms:
            culprit = self.blame(before, after) if self.blame else None
            self.spikes.append(LagSpike(after, lag_ms, culprit))

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
