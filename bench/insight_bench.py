"""What step timing costs the engine: ``EngineOptions(step_timing=True)`` over the same run
without it, side by side in one process, alternating, median of ``--repeats`` runs.

Step timing installs the agent's hook on every step of the loop (tasks/introspect.py) so the
engine's records get busy time, steps and the longest step. "Where suspended" is not measured
here: it is sampled only for the tasks a screen shows, and costs nothing otherwise.

    python -m bench.insight_bench              # about 30 s
    python -m bench.insight_bench --repeats 1
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time

from bench.run import start_server
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions

WORKLOADS = (
    ("20,000 x sleep 0", "sleep 0 x20000"),
    ("10,000 x sleep 0.2", "sleep 0.2 x10000"),
    ("2,000 x fetch /delay/0", "fetch /delay/0 x2000"),
)


async def one_run(spec: str, base: str, step_timing: bool) -> float:
    options = EngineOptions(demo_url=base, step_timing=step_timing)
    async with TaskManager(options) as manager:
        await manager.launch("fetch /delay/0 x100").wait()  # warm the connections
        gc.collect()
        start = time.perf_counter()
        await manager.launch(spec).wait()
        return time.perf_counter() - start


async def main(repeats: int) -> None:
    process, base = start_server()
    try:
        for label, spec in WORKLOADS:
            plain: list[float] = []
            timed: list[float] = []
            for _ in range(repeats):
                plain.append(await one_run(spec, base, False))
                timed.append(await one_run(spec, base, True))
            off, on = statistics.median(plain), statistics.median(timed)
            print(
                f"{label:24} step timing off {off * 1000:7.0f} ms   on {on * 1000:7.0f} ms   "
                f"ratio {on / off:.2f}x",
                flush=True,
            )
    finally:
        process.terminate()
        process.wait(5)
    print(f"median of {repeats} run(s) each; Python {sys.version.split()[0]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    asyncio.run(main(parser.parse_args().repeats))
