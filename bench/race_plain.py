"""The race as anyone would write it, with no loopscope at all: the yardstick for its figures.

    python bench/race_plain.py URL [--io-count 10] [--io-ms 200] [--cpu-count 4] [--cpu-n N]
    python bench/race_plain.py --only cpu/processes

URL is a server with a ``/delay/MS`` route (``loopscope demo-server --port 0``). Prints one
line of JSON: the wall seconds of each lane, ``{"io": {...}, "cpu": {...}}``; ``--only``
runs one lane alone (a CPU lane needs no URL). Each lane is a
for loop, ``asyncio.gather``, ``ThreadPoolExecutor.map`` or ``ProcessPoolExecutor.map``; the
process pool is started before the stopwatch, the aiohttp session is made before it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import time
import urllib.request
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, TypeVar

import aiohttp

Argument = TypeVar("Argument")
"""What one job takes: a URL for the I/O workload, n for the CPU one."""


def get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=60) as response:
        return len(response.read())


def squares(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def idle() -> int:
    time.sleep(0.05)
    return os.getpid()


async def gather_get(url: str, count: int) -> float:
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            async with session.get(url) as response:
                await response.read()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return time.perf_counter() - start


async def gather_squares(n: int, count: int) -> float:
    async def one() -> int:
        return squares(n)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - start


def lanes(
    function: Callable[[Argument], int],
    argument: Argument,
    count: int,
    workers: int,
    gathered: Callable[[Argument, int], Coroutine[Any, Any, float]],
    only: str | None = None,
) -> dict[str, float]:
    walls = {}
    if only in (None, "sequential"):
        start = time.perf_counter()
        for _ in range(count):
            function(argument)
        walls["sequential"] = time.perf_counter() - start
    if only in (None, "asyncio"):
        walls["asyncio"] = asyncio.run(gathered(argument, count))
    if only in (None, "threads"):
        with ThreadPoolExecutor(count) as threads:
            start = time.perf_counter()
            list(threads.map(function, [argument] * count))
            walls["threads"] = time.perf_counter() - start
    if only not in (None, "processes"):
        return walls
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        seen: set[int] = set()
        while len(seen) < workers:  # every worker has run a job: none is still starting
            seen.update(f.result() for f in [pool.submit(idle) for _ in range(workers)])
        start = time.perf_counter()
        list(pool.map(function, [argument] * count))
        walls["processes"] = time.perf_counter() - start
    return walls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url", nargs="?", default="")
    parser.add_argument("--io-count", type=int, default=10)
    parser.add_argument("--io-ms", type=int, default=200)
    parser.add_argument("--cpu-count", type=int, default=4)
    parser.add_argument("--cpu-n", type=int, default=3_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--only", metavar="WORKLOAD/STRATEGY", help="one lane alone")
    args = parser.parse_args()
    workload, _, only = (args.only or "/").partition("/")
    url = f"{args.url}/delay/{args.io_ms}"
    result = {}
    if workload in ("", "io"):
        result["io"] = lanes(get, url, args.io_count, args.workers, gather_get, only or None)
    if workload in ("", "cpu"):
        result["cpu"] = lanes(squares, args.cpu_n, args.cpu_count, args.workers, gather_squares,
                              only or None)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
