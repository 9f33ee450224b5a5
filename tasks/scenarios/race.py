"""The strategy race: the rule of thumb, proved by measurement.

"I/O-bound: asyncio or threads; CPU-bound: processes." One I/O workload (HTTP requests) and
one CPU workload (pure-Python sums of squares), each run four ways: a for loop, ``gather``,
``ThreadPoolExecutor.map`` and ``ProcessPoolExecutor.map``.

Every lane is timed under the same conditions: each in a fresh Python process of its own
(tasks/isolated.py, tasks/race_lanes.py) that never shares a GIL or an event loop with the
screen, timed inside that process around the lane's work alone (starting the interpreter and
the process pool is not counted). The lanes stream each job's start and end, and the screen
mirrors them as ordinary records, so the race is still drawn live. The requests go to a demo
server in a process of its own too, so neither the screen nor the lane being timed slows the
answers. Why this design: timed in the dashboard's process, the sequential lane (a worker
thread) competed with the screen for the GIL while the asyncio lane ran alone, and the CPU
race on the dashboard crowned asyncio where headless crowned threads; bench/truth_bench.py
checks that the figures now agree with a plain script within 15%, on the dashboard and off it.
"""

from __future__ import annotations

import os
from typing import Any

from loopscope.tasks.isolated import STOPWATCHES, CleanProcess, Mirror, cpu_share, run_clean
from loopscope.tasks.scenarios.base import Scenario, ScenarioContext
from loopscope.tasks.scenarios.race_results import (
    STRATEGIES,
    RaceResults,
    Strategy,
    Workload,
    WorkloadResult,
    compose_conclusion,
)
from loopscope.tasks.units import human_seconds


def usable_cores() -> int:
    """Cores this process may run on (its affinity), not merely the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class DemoServerProcess:
    """The demo server alone in a clean process, for as long as the race needs it."""

    def __init__(self) -> None:
        self._child = CleanProcess({"job": "server"})
        self.url = ""

    async def __aenter__(self) -> DemoServerProcess:
        await self._child.start()
        result = await self._child.events(lambda _: None)
        self.url = str(result["url"])
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._child.close_stdin()
        await self._child.stop()


async def run_lane(
    ctx: ScenarioContext, workload: Workload, strategy: Strategy, what: str,
    argument: Any, count: int,
) -> float:
    """One lane in a clean process, its jobs mirrored live; returns its measured wall."""
    batch = ctx.batch(f"{workload.value}: {count} x {what}, {strategy.value}",
                      sequential=strategy is Strategy.SEQUENTIAL)
    mirror = Mirror(ctx.manager, batch)
    mirror.expect(count, workload.value, f"{what} ({strategy.value})")
    job = {"job": "lane", "strategy": strategy.value, "workload": workload.value,
           "argument": argument, "count": count, "processes": ctx.manager.process_workers}
    try:
        result = await run_clean(job, mirror.apply)
    finally:
        mirror.cancel_rest()
        ctx.close(batch)
    return float(result["wall_s"])


async def race(ctx: ScenarioContext) -> None:
    io_count: int = ctx.option("io_count", 10)
    io_ms: int = ctx.option("io_ms", 200)
    cpu_count: int = ctx.option("cpu_count", 4)
    cpu_n: int = ctx.option("cpu_n", 3_000_000)
    workers = ctx.manager.process_workers
    cores = usable_cores()
    ctx.say(f"each lane in a clean process of its own, away from the screen; {cores} cores, "
            f"process pool of {workers} (starting them is not timed)")
    walls: dict[Workload, dict[Strategy, float]] = {}
    shares: dict[tuple[Workload, Strategy], float] = {}
    before_all = STOPWATCHES.totals()
    whats = {Workload.IO: f"GET /delay/{io_ms}", Workload.CPU: f"sum of squares to {cpu_n:,}"}
    counts = {Workload.IO: io_count, Workload.CPU: cpu_count}
    async with DemoServerProcess() as server:
        arguments: dict[Workload, Any] = {Workload.IO: f"{server.url}/delay/{io_ms}",
                                          Workload.CPU: cpu_n}
        for workload in Workload:
            walls[workload] = {}
            for strategy in STRATEGIES:
                before = STOPWATCHES.totals()
                wall = await run_lane(ctx, workload, strategy, whats[workload],
                                      arguments[workload], counts[workload])
                walls[workload][strategy] = wall
                if (share := cpu_share(before, STOPWATCHES.totals())) is not None:
                    shares[workload, strategy] = share
                ctx.say(f"{workload.value:3} {strategy.value:10} {human_seconds(wall)}")
    # what this process (the dashboard, or `loopscope run`) spent while the stopwatches ran
    watcher_cpu = cpu_share(before_all, STOPWATCHES.totals())
    io, cpu = (WorkloadResult(w, f"{counts[w]} x {whats[w]}", walls[w]) for w in Workload)
    conclusion = compose_conclusion(io, cpu, cores=cores, process_workers=workers,
                                    io_count=io_count, cpu_count=cpu_count)
    ctx.data["race"] = RaceResults(io, cpu, workers, cores, conclusion, watcher_cpu, shares)
    ctx.say(conclusion)


RACE_SCENARIOS = [
    Scenario(
        "race",
        "The strategy race",
        "The rule of thumb, measured: I/O-bound work belongs to asyncio or threads, CPU-bound "
        "work to processes. Ten 200 ms HTTP requests and four pure-Python sums of squares each "
        "run four ways: a for loop, asyncio.gather, ThreadPoolExecutor.map and "
        "ProcessPoolExecutor.map. Each lane runs in a clean process of its own, so the screen "
        "never slows the lane it times, and streams its jobs here as they start and end. The "
        "bar chart shows each measured wall time and its speed relative to sequential; the "
        "conclusion says only what the numbers support (and ties within 10% are ties). Key w "
        "reopens the chart.",
        race,
    ),
]
