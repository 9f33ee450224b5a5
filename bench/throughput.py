"""`make bench` (c): the engine's throughput beside the best simple raw aiohttp script.

5,000 x ``fetch /delay/0`` through ``TaskManager.launch`` against two raw scripts on one
shared ``ClientSession`` (connector limit 100): one that queues in aiohttp's connector
(``gather``) and one with an ``asyncio.Semaphore(100)`` in front (the faster raw one). Every
side is warmed the same way before timing (200 requests each, so every connection is open).
The demo server runs in its own process; the client sides share this one.

On a shared 2-core machine requests per second swing between runs seconds apart (the server is
often the bottleneck, and other work takes the cores), so each side runs ``repeats`` times,
in an order that rotates every round, and the figures are medians. Two figures per side:

* requests per second (wall), what a stopwatch sees;
* client CPU per request: this process's CPU time (``time.process_time``, every thread) over
  the requests. It moves far less with the machine's load, so the verdict uses it: in each
  round, the better raw script's CPU per request over loopscope's (requests per CPU-second),
  and the median of those paired ratios (a round's sides run seconds apart, so a drift in the
  machine's load moves both).

The garbage collector's share of each side is measured with ``gc.callbacks``. The engine
raises the collector's young threshold while its batch runs (tasks/busy_gc.py); the raw
scripts run under the process's setting, as a simple script would. For the record, the
semaphore script is also run under the engine's threshold (``semaphore, same gc``): a
reference line, not the baseline.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from loopscope.tasks.busy_gc import BUSY_THRESHOLD
from loopscope.tasks.manager import TaskManager

REQUESTS = 5_000
TARGET = 0.95
RAW_SIDES = ("queue", "semaphore")


@dataclass
class Side:
    """One side's runs: wall, process CPU and garbage-collector time of each."""

    name: str
    run: Callable[[], Awaitable[float]]
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    gcs: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Median requests per second."""
        return REQUESTS / statistics.median(self.walls)

    @property
    def rates(self) -> tuple[float, float]:
        return REQUESTS / max(self.walls), REQUESTS / min(self.walls)

    @property
    def cpu_us(self) -> float:
        """Median client CPU per request, microseconds."""
        return statistics.median(self.cpus) / REQUESTS * 1e6

    @property
    def gc_us(self) -> float:
        return statistics.median(self.gcs) / REQUESTS * 1e6


class CollectorClock:
    """CPU time spent in the garbage collector, from ``gc.callbacks`` (the thread's CPU time,
    so time the process waited for a core is not counted as the collector's)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.thread_time()
        else:
            self.total += time.thread_time() - self._began


async def raw_gather(session: aiohttp.ClientSession, url: str, count: int) -> float:
    """The raw script that queues in the connector: one session (limit 100), gather."""

    async def one() -> None:
        async with session.get(url) as response:
            await response.read()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - start


async def raw_semaphore(
    session: aiohttp.ClientSession, url: str, count: int, limit: int = 100
) -> float:
    """The other simple raw script: a ``Semaphore(limit)`` in front of the same session, so
    requests wait on the semaphore (cheap) rather than in the connector's queue."""
    slots = asyncio.Semaphore(limit)

    async def one() -> None:
        async with slots, session.get(url) as response:
            await response.read()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - start


async def under_threshold(run: Callable[[], Awaitable[float]], threshold: int) -> float:
    """``run`` with the collector's young threshold at ``threshold`` (restored after)."""
    before = gc.get_threshold()
    gc.set_threshold(threshold, *before[1:])
    try:
        return await run()
    finally:
        gc.set_threshold(*before)


async def loopscope_batch(manager: TaskManager, spec: str) -> float:
    """Launch to last task finished, timed from outside, like the raw side."""
    start = time.perf_counter()
    await manager.launch(spec).wait()
    return time.perf_counter() - start


async def measure(
    session: aiohttp.ClientSession, manager: TaskManager, base: str, repeats: int
) -> tuple[str, bool]:
    """Run the sides alternately; the report's lines and whether the target is met."""
    url = f"{base}/delay/0"
    spec = f"fetch /delay/0 x{REQUESTS}"
    await raw_gather(session, url, 200)  # warm every side the same way
    await raw_semaphore(session, url, 200)
    await loopscope_batch(manager, "fetch /delay/0 x200")
    sides = [
        Side("queue", lambda: raw_gather(session, url, REQUESTS)),
        Side("semaphore", lambda: raw_semaphore(session, url, REQUESTS)),
        Side("loopscope", lambda: loopscope_batch(manager, spec)),
        Side(
            "semaphore, same gc",
            lambda: under_threshold(lambda: raw_semaphore(session, url, REQUESTS), BUSY_THRESHOLD),
        ),
    ]
    collector = CollectorClock()
    gc.callbacks.append(collector)
    try:
        for round_ in range(repeats):
            shift = round_ % len(sides)
            for side in sides[shift:] + sides[:shift]:
                gc.collect()
                cpu, in_gc = time.process_time(), collector.total
                side.walls.append(await side.run())
                side.cpus.append(time.process_time() - cpu)
                side.gcs.append(collector.total - in_gc)
    finally:
        gc.callbacks.remove(collector)
    return report(sides, repeats)


def report(sides: list[Side], repeats: int) -> tuple[str, bool]:
    by_name = {side.name: side for side in sides}
    ours = by_name["loopscope"]
    best = min((by_name[name] for name in RAW_SIDES), key=lambda side: side.cpu_us)
    paired = [raw / our for raw, our in zip(best.cpus, ours.cpus, strict=True)]
    cpu_ratio = statistics.median(paired)
    rate_ratio = ours.rate / max(by_name[name].rate for name in RAW_SIDES)
    met = cpu_ratio >= TARGET
    lines = [f"(c) {REQUESTS:,} x fetch /delay/0, median of {repeats} alternating runs each"]
    for side in sides:
        low, high = side.rates
        lines.append(
            f"    {side.name:<19} {side.rate:6.0f} req/s ({low:5.0f}-{high:5.0f})"
            f"   client CPU {side.cpu_us:5.1f} us/request, of which gc {side.gc_us:4.1f} us"
        )
    verdict = "meets target" if met else "MISSES target"
    lines.append(
        f"    loopscope beside the better raw script ({best.name}), by client CPU per request:"
        f" {cpu_ratio:.2f}x (median of the rounds' ratios, {min(paired):.2f}-{max(paired):.2f})"
        f"  [target >= {TARGET}x: {verdict}]"
    )
    lines.append(
        f"    by requests per second: {rate_ratio:.2f}x (the wall moves with the machine's load"
        f" and the server's; the verdict uses the CPU figure)"
    )
    reference = by_name["semaphore, same gc"]
    same_gc = statistics.median(
        raw / our for raw, our in zip(reference.cpus, ours.cpus, strict=True)
    )
    lines.append(
        f"    the engine raises the collector's young threshold to {BUSY_THRESHOLD:,} while a "
        f"batch runs; beside the semaphore script under the same threshold (a reference, not "
        f"the baseline): {same_gc:.2f}x"
    )
    load = os.getloadavg()[0]
    lines.append(f"    load average {load:.1f} on {os.cpu_count()} cores")
    return "\n".join(lines), met
