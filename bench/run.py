"""`make bench`: loopscope measured side by side with a raw asyncio/aiohttp script, in one run.

Every figure is a ratio of two timings taken here, now, on the same server and loop, so a
slow or busy machine moves both sides together. Nothing here is asserted by the test suite.

The demo server runs in a separate process (``loopscope demo-server``) so neither side's
client work is mixed with the server's.

    python -m bench.run            # everything (about a minute: two 20 s sequential runs)
    python -m bench.run --quick    # skip the sequential runs, one repeat each
    python -m bench.run --throughput [--repeats N]   # only (c), bench/throughput.py
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp

from bench import throughput
from bench.throughput import loopscope_batch, raw_gather
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "loopscope", "demo-server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    url = line.split(" on ", 1)[1].split()[0]
    return process, url


async def raw_sequential(session: aiohttp.ClientSession, url: str, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        async with session.get(url) as response:
            await response.read()
    return time.perf_counter() - start


async def raw_sleeps(count: int, seconds: float) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(asyncio.create_task(asyncio.sleep(seconds)) for _ in range(count)))
    return time.perf_counter() - start


async def side_by_side(
    repeats: int, raw: Callable[[], Awaitable[float]], ours: Callable[[], Awaitable[float]]
) -> tuple[float, float]:
    """Medians of ``repeats`` runs of each, alternating so drift hits both sides alike."""
    raw_times, our_times = [], []
    for _ in range(repeats):
        gc.collect()
        raw_times.append(await raw())
        gc.collect()
        our_times.append(await ours())
    return statistics.median(raw_times), statistics.median(our_times)


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


async def main(quick: bool, only_throughput: bool = False, throughput_repeats: int = 7) -> int:
    repeats = 1 if quick else 5
    process, base = start_server()
    results: list[str] = []
    missed = 0
    try:
        async with (
            TaskManager(EngineOptions(demo_url=base)) as manager,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session,
        ):
            if not only_throughput:
                # warm both sides the same way (connections opened, code paths run once)
                await raw_gather(session, f"{base}/delay/0", 200)
                await loopscope_batch(manager, "fetch /delay/0 x200")

                # (a) 100 x fetch /delay/200
                raw_a, ours_a = await side_by_side(
                    repeats,
                    lambda: raw_gather(session, f"{base}/delay/200", 100),
                    lambda: loopscope_batch(manager, "fetch /delay/200 x100"),
                )
                line = (
                    f"(a) 100 x fetch /delay/200   raw gather {raw_a * 1000:7.1f} ms   "
                    f"loopscope {ours_a * 1000:7.1f} ms   ratio {ours_a / raw_a:.2f}x"
                )
                if not quick:
                    raw_seq = await raw_sequential(session, f"{base}/delay/200", 100)
                    batch = manager.last_batch
                    assert batch is not None
                    replay = manager.replay_sequential(batch)
                    await replay.wait()
                    timing = batch.timing(manager.clock())
                    replayed = timing.measured_sequential_s or 0.0
                    measured = replayed / ours_a
                    line += (
                        f"\n    speedup over sequential, MEASURED (sequential run / median "
                        f"concurrent wall): raw {raw_seq / raw_a:.1f}x "
                        f"(sequential {raw_seq:.1f} s), "
                        f"loopscope {measured:.1f}x (replay {replayed:.1f} s)  "
                        f"[target >= 90x: {verdict(measured >= 90)}]"
                        f"\n    loopscope's own figures for its last batch: measured "
                        f"{timing.measured_speedup or 0:.1f}x, estimate {timing.speedup or 0:.1f}x"
                    )
                    missed += measured < 90
                results.append(line)
                print(results[-1], flush=True)

                # (b) 10,000 x sleep 0.2
                raw_b, ours_b = await side_by_side(
                    repeats,
                    lambda: raw_sleeps(10_000, 0.2),
                    lambda: loopscope_batch(manager, "sleep 0.2 x10000"),
                )
                ratio_b = ours_b / raw_b
                results.append(
                    f"(b) 10,000 x sleep 0.2       raw gather {raw_b * 1000:7.1f} ms   "
                    f"loopscope {ours_b * 1000:7.1f} ms   ratio {ratio_b:.2f}x  "
                    f"[target <= 1.25x: {verdict(ratio_b <= 1.25)}]"
                )
                missed += ratio_b > 1.25
                print(results[-1], flush=True)

            # (c) 5,000 x fetch /delay/0, against the better simple raw script (bench/throughput.py)
            rounds = 1 if quick else throughput_repeats
            text, met = await throughput.measure(session, manager, base, rounds)
            results.append(text)
            missed += not met
            print(results[-1], flush=True)
    finally:
        process.terminate()
        process.wait(5)
    if not only_throughput:
        print(f"\nmedian of {repeats} run(s) each; Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, no sequential runs")
    parser.add_argument("--tui", action="store_true", help="also run the dashboard benchmark")
    parser.add_argument("--truth", action="store_true",
                        help="also compare the dashboard's figures with headless ones")
    parser.add_argument("--throughput", action="store_true",
                        help="only (c), the engine's throughput beside the raw scripts")
    parser.add_argument("--repeats", type=int, default=7, metavar="N",
                        help="alternating runs of each side in (c) (default 7)")
    options = parser.parse_args()
    if options.repeats < 1:
        parser.error("--repeats must be at least 1")
    code = asyncio.run(main(options.quick, options.throughput, options.repeats))
    if options.throughput:
        raise SystemExit(code)
    if options.tui or not options.quick:
        code |= subprocess.call([sys.executable, "-m", "bench.tui_bench"])
    if options.truth or not options.quick:
        code |= subprocess.call([sys.executable, "-m", "bench.truth_bench"])
    raise SystemExit(code)
