"""(c) in instructions: the client's CPU instructions per request, counted by callgrind.

Requests per second and even CPU time move with a shared machine's load; instruction counts do
not. Each side runs in its own client process under ``valgrind --tool=callgrind`` (the demo
server runs outside valgrind, in a process of its own), once with 500 and once with 2,500
requests after the same warm-up; the difference over the 2,000 extra requests is the marginal
cost of a request, start-up and warm-up cancelled out. The machine monitors are off on every
side (under valgrind the loop is slow enough to look stalled, and the lag monitor would then
do work it never does at full speed).

    python -m bench.throughput_instructions      # about five minutes; needs valgrind

Sides: the semaphore script (the better simple raw script of (c)), the same script under the
engine's collector threshold (a reference), and loopscope.
"""

from __future__ import annotations

import asyncio
import gc
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

from bench.run import start_server
from bench.throughput import loopscope_batch, raw_semaphore
from loopscope.tasks.busy_gc import BUSY_THRESHOLD
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions

SIDES = ("semaphore", "semaphore, same gc", "loopscope")
SMALL, LARGE = 500, 2_500


async def client(side: str, count: int, base: str) -> None:
    """One side: warm up with 200 requests, then ``count`` more."""
    options = EngineOptions(demo_url=base, monitors=False)
    async with (
        TaskManager(options) as manager,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session,
    ):
        url = f"{base}/delay/0"
        if side == "loopscope":
            await loopscope_batch(manager, "fetch /delay/0 x200")
            gc.collect()
            await loopscope_batch(manager, f"fetch /delay/0 x{count}")
            return
        if side == "semaphore, same gc":
            gc.set_threshold(BUSY_THRESHOLD, *gc.get_threshold()[1:])
        await raw_semaphore(session, url, 200)
        gc.collect()
        await raw_semaphore(session, url, count)


def instructions(side: str, count: int, base: str, folder: Path) -> int:
    out = folder / f"callgrind.{SIDES.index(side)}.{count}"
    run = subprocess.run(
        [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            sys.executable, "-m", "bench.throughput_instructions", "--client", side,
            str(count), base,
        ],
        capture_output=True, text=True, check=True,
    )
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        raise SystemExit(f"callgrind gave no count for {side}: {run.stderr[-500:]}")
    return int(found.group(1))


def main() -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing measured", file=sys.stderr)
        return 1
    process, base = start_server()
    per_request: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for side in SIDES:
                small = instructions(side, SMALL, base, Path(folder))
                large = instructions(side, LARGE, base, Path(folder))
                per_request[side] = (large - small) / (LARGE - SMALL)
                print(f"  {side:<19} {per_request[side] / 1000:7.1f} k instructions/request",
                      flush=True)
    finally:
        process.terminate()
        process.wait(5)
    ours = per_request["loopscope"]
    print(
        f"(c) in instructions (callgrind, marginal over {LARGE - SMALL:,} requests, monitors off):"
        f" loopscope beside the semaphore script {per_request['semaphore'] / ours:.2f}x,"
        f" beside it under the same collector threshold (a reference)"
        f" {per_request['semaphore, same gc'] / ours:.2f}x  (above 1: loopscope runs fewer)"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--client":
        asyncio.run(client(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    else:
        raise SystemExit(main())
