"""The strategy race: the rule of thumb, proved by measurement.

"I/O-bound: asyncio or threads; CPU-bound: processes." One I/O workload (HTTP requests to the
demo server) and one CPU workload (pure-Python sums of squares), each run four ways:
sequential, asyncio, threads, processes. Every strategy is timed on the wall clock around the
whole of its work; the process pool is started beforehand, so spawning is not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from loopscope.tasks.batch import Batch
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.scenarios.base import Scenario, ScenarioContext
from loopscope.tasks.units import human_seconds
from loopscope.tasks.workers import announced, http_get, sum_of_squares, warm_up

STRATEGIES = ("sequential", "asyncio", "threads", "processes")


def winner(times: dict[str, float]) -> str:
    return min(times, key=times.__getitem__)


async def race(ctx: ScenarioContext) -> None:
    io_count: int = ctx.option("io_count", 10)
    io_ms: int = ctx.option("io_ms", 200)
    cpu_count: int = ctx.option("cpu_count", 4)
    cpu_n: int = ctx.option("cpu_n", 3_000_000)
    manager = ctx.manager
    loop = asyncio.get_running_loop()
    await asyncio.gather(*(manager.run_in_process(warm_up) for _ in range(manager.process_workers)))
    ctx.say(f"process pool of {manager.process_workers} started (not timed)")
    url = manager.resolve_url(f"/delay/{io_ms}")

    def in_thread(
        record: TaskRecord, function: Callable[..., Any], args: tuple[Any, ...]
    ) -> Awaitable[Any]:
        def job() -> Any:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(manager.mark_running, record, time.perf_counter())
            return function(*args)

        return loop.run_in_executor(manager.thread_pool, job)

    def in_process(
        record: TaskRecord, function: Callable[..., Any], args: tuple[Any, ...]
    ) -> Awaitable[Any]:
        manager.expect_process_start(record)
        return manager.run_in_process(announced, record.id, function, *args)

    async def on_loop(
        record: TaskRecord, function: Callable[..., Any], args: tuple[Any, ...]
    ) -> Any:
        manager.mark_running(record)
        start = manager.clock()
        value = function(*args)  # CPU work in a coroutine: the loop can do nothing else
        manager.note_on_loop(start, manager.clock(), f"task #{record.id}: CPU in a coroutine")
        return value

    async def io_on_loop(
        record: TaskRecord, function: Callable[..., Any], args: tuple[Any, ...]
    ) -> Any:
        manager.mark_running(record)
        return await ctx.get_json(f"/delay/{io_ms}", record)

    workloads: dict[str, tuple[str, Callable[..., Any], tuple[Any, ...], int]] = {
        "io": (f"GET /delay/{io_ms}", http_get, (url,), io_count),
        "cpu": (f"sum of squares to {cpu_n:,}", sum_of_squares, (cpu_n,), cpu_count),
    }
    results: dict[str, dict[str, float]] = {}
    for workload, (what, function, args, count) in workloads.items():
        times: dict[str, float] = {}
        runners: dict[str, Callable[..., Awaitable[Any]]] = {
            "sequential": in_thread,
            "asyncio": io_on_loop if workload == "io" else on_loop,
            "threads": in_thread,
            "processes": in_process,
        }
        for strategy in STRATEGIES:
            batch = ctx.batch(f"race, {workload}: {count} x {what}, {strategy}",
                              sequential=strategy == "sequential")
            run = runners[strategy]

            def job(
                batch: Batch = batch,
                run: Callable[..., Awaitable[Any]] = run,
                function: Callable[..., Any] = function,
                args: tuple[Any, ...] = args,
                label: str = f"{what} ({strategy})",
                kind: str = workload,
            ) -> Any:
                work = partial(run, function=function, args=args)
                return ctx.track(batch, kind, label, work, summary=lambda v: "ok",
                                 start_running=False)

            started = time.perf_counter()
            if strategy == "sequential":
                for _ in range(count):
                    await job()
            else:
                await asyncio.gather(*(job() for _ in range(count)))
            times[strategy] = time.perf_counter() - started
            ctx.close(batch)
            ctx.say(f"{workload:3} {strategy:10} {human_seconds(times[strategy])}")
        results[workload] = times
    io_best, cpu_best = winner(results["io"]), winner(results["cpu"])
    conclusion = (
        f"I/O-bound: {io_best} won ({human_seconds(results['io'][io_best])} vs "
        f"{human_seconds(results['io']['sequential'])} sequential). CPU-bound: {cpu_best} won "
        f"({human_seconds(results['cpu'][cpu_best])} vs "
        f"{human_seconds(results['cpu']['sequential'])} sequential); threads "
        f"{human_seconds(results['cpu']['threads'])}, no better than sequential: the GIL."
    )
    ctx.data["race"] = {
        "io": {k: round(v, 4) for k, v in results["io"].items()},
        "cpu": {k: round(v, 4) for k, v in results["cpu"].items()},
        "winner": {"io": io_best, "cpu": cpu_best},
        "workloads": {"io": f"{io_count} x {workloads['io'][0]}",
                      "cpu": f"{cpu_count} x {workloads['cpu'][0]}"},
        "process_workers": manager.process_workers,
        "conclusion": conclusion,
    }
    ctx.say(conclusion)


RACE_SCENARIOS = [
    Scenario(
        "race",
        "The strategy race",
        "The rule of thumb, measured: I/O-bound work belongs to asyncio or threads, CPU-bound "
        "work to processes. Ten 200 ms HTTP requests and four pure-Python sums of squares each "
        "run four ways: one after another, as coroutines, in threads and in processes. The bar "
        "chart shows each measured wall time and marks the winner. Watch the asyncio CPU run "
        "freeze the screen: CPU work in a coroutine blocks the loop.",
        race,
    ),
]
