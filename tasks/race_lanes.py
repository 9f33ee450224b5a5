"""One lane of the strategy race, run inside a clean process (see tasks/isolated.py).

A lane is a workload (HTTP GETs or pure-Python sums) run one way: a for loop, ``gather``,
``ThreadPoolExecutor.map`` or ``ProcessPoolExecutor.map``: the plain script anyone would
write, plus one line per job start and end on the event stream so a screen can draw it live.
An I/O job is ``urllib`` in the for loop, the threads and the processes, and aiohttp under
``gather``: each strategy as a plain script would do it (bench/race_plain.py does the same).
Only the lane's own work is timed; starting the process pool (and waiting until every worker
is up) is not, just as a plain script would start its pool before the stopwatch.

The pool's workers import this module as they start (``lane_pool``), before their first job,
as a plain script's workers import the script itself. Imported later, by the first job, the
same sums took 3-14% more CPU in every job (measured; the same code, and with
``PYTHONMALLOC=malloc`` both ways ran alike: it is where the worker's objects lie in memory,
not extra work), and the processes lane read 1.2x the plain script's.

This module imports only the standard library (aiohttp on demand, for the asyncio I/O lane):
process-pool workers import it to find ``job``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from loopscope.tasks.protocol import emit
from loopscope.tasks.workers import http_get, sum_of_squares

SETTLE_S = 0.05
"""Each warm-up job sleeps this long, so every pool worker is started and idle before timing."""


def work_for(workload: str, argument: Any) -> Callable[[], Any]:
    """The blocking work of one job: ``http_get(url)`` or ``sum_of_squares(n)``."""
    if workload == "io":
        return lambda: http_get(argument)
    return lambda: sum_of_squares(argument)


def job(workload: str, argument: Any, index: int) -> None:
    """One job, announced on the stream as it starts and ends (in a thread or a process)."""
    emit("start", job=index, at=time.perf_counter())
    try:
        work_for(workload, argument)()
    except Exception as error:
        emit("end", job=index, at=time.perf_counter(), state="exception",
             error=f"{type(error).__name__}: {error}")
        raise
    emit("end", job=index, at=time.perf_counter(), state="done")


_loaded_at_start = False
"""In a lane pool's worker: True once ``_worker_started`` ran as the worker started."""


def _worker_started() -> None:
    """The lane pool's initializer. Unpickling it in a starting worker imports this module
    and the job's code before the worker takes its first job."""
    global _loaded_at_start
    _loaded_at_start = True


def loaded_at_start() -> bool:
    """Whether this pool worker imported the lane's code as it started (see ``lane_pool``)."""
    return _loaded_at_start


def lane_pool(processes: int) -> ProcessPoolExecutor:
    """The processes lane's pool: ``processes`` spawned workers that import the job's code as
    they start, as a plain script's workers do (see the module's docstring for why)."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(processes, mp_context=context, initializer=_worker_started)


def _settle() -> int:
    time.sleep(SETTLE_S)
    return os.getpid()


def start_every_worker(pool: ProcessPoolExecutor, workers: int) -> None:
    """Return once each of the pool's ``workers`` processes has run a job.

    Submitting ``workers`` jobs is not enough: a worker that started first can take them all
    while another is still importing, and that import would then run inside the timed region.
    """
    seen: set[int] = set()
    while len(seen) < workers:
        seen.update(f.result() for f in [pool.submit(_settle) for _ in range(workers)])


async def _gather(workload: str, argument: Any, count: int) -> float:
    """``gather`` of one coroutine per job; returns the timed wall (the session is made first,
    as a plain script would, and not timed)."""
    if workload == "cpu":

        async def one(index: int) -> None:
            job(workload, argument, index)  # CPU work in a coroutine: the loop does nothing else

        with Stopwatch() as stopwatch:
            await asyncio.gather(*(one(index) for index in range(count)))
        return stopwatch.wall_s
    import aiohttp

    async with aiohttp.ClientSession() as session:

        async def fetch(index: int) -> None:
            emit("start", job=index, at=time.perf_counter())
            async with session.get(argument) as response:
                await response.read()
                response.raise_for_status()
            emit("end", job=index, at=time.perf_counter(), state="done")

        with Stopwatch() as stopwatch:
            await asyncio.gather(*(fetch(index) for index in range(count)))
        return stopwatch.wall_s


class Stopwatch:
    """The lane's timed region. It says on the stream when it starts and stops (``timing``),
    so the watching process can keep quiet meanwhile and measure what it still spent, and
    when the jobs were launched (``launch``), so the screen's wall starts where this one
    does. Only ``wall_s`` is the figure; the two writes around it take microseconds."""

    def __init__(self) -> None:
        self.started = 0.0
        self.wall_s = 0.0

    def __enter__(self) -> Stopwatch:
        emit("timing", on=True)
        self.started = time.perf_counter()
        emit("launch", at=self.started)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall_s = time.perf_counter() - self.started
        emit("timing", on=False)


def run_lane(strategy: str, workload: str, argument: Any, count: int, processes: int) -> float:
    """Run ``count`` jobs of ``workload`` the ``strategy`` way; return the timed wall seconds."""
    indices = range(count)
    if strategy == "processes":
        with lane_pool(processes) as pool:
            start_every_worker(pool, processes)  # not timed
            with Stopwatch() as stopwatch:
                list(pool.map(job, [workload] * count, [argument] * count, indices))
            return stopwatch.wall_s
    if strategy == "threads":
        with ThreadPoolExecutor(count) as threads, Stopwatch() as stopwatch:
            list(threads.map(job, [workload] * count, [argument] * count, indices))
        return stopwatch.wall_s
    if strategy == "asyncio":
        return asyncio.run(_gather(workload, argument, count))
    with Stopwatch() as stopwatch:
        for index in indices:
            job(workload, argument, index)
    return stopwatch.wall_s
