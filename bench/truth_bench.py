"""One truth wherever it is shown (part of `make bench`): the dashboard's measured figures
beside the same measurements taken headless, and the race beside a plain script.

1. ``R``'s measured speedup on the dashboard (``run_test``, the spec typed into the command
   bar, then ``R``) against ``loopscope run SPEC --sequential --json``, for three workloads;
   also, for reference, what a replay inside the dashboard's own process measures (the old
   way, beside the screen). Target: dashboard within 15% of headless.
2. The strategy race: each lane's wall from a plain script (bench/race_plain.py: a for loop,
   gather, ThreadPoolExecutor.map, ProcessPoolExecutor.map, no loopscope), from
   ``loopscope run --scenario race`` and from the dashboard. Target: within 15% of the plain
   script, each lane.

    python -m bench.truth_bench [--replay-only | --race-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from loopscope.tasks.scenarios.race_results import STRATEGIES, RaceResults, Workload
from loopscope.tui.app import make_app
from loopscope.tui.screens.main import MainScreen
from loopscope.tui.screens.scenarios import RaceScreen

SPECS = ("cpu 3000000 x4 in=thread", "sleep 0.5 x10", "fetch /delay/200 x20")
AGREE = 0.15
HERE = Path(__file__).resolve().parent


def agree(value: float, reference: float) -> bool:
    return reference > 0 and abs(value / reference - 1) <= AGREE


def verdict(ok: bool) -> str:
    return "agree within 15%" if ok else "DISAGREE (> 15%)"


async def wait_for(condition: Any, timeout: float = 120) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def headless_replay(spec: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", spec, "--sequential", "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    report: dict[str, Any] = json.loads(out)
    return report


async def dashboard_replay(spec: str) -> tuple[float, float, float, float]:
    """(measured speedup after R, clean wall, wall on screen, in-process replay speedup)."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await pilot.pause(0.3)
        await pilot.press("colon", *spec, "enter", "escape")
        manager = app.manager
        batch = manager.last_batch
        assert batch is not None
        await wait_for(lambda: batch.done)
        await pilot.pause(0.3)
        screen_wall = batch.timing(manager.clock()).wall_s
        # the old way, for reference: the replay in the dashboard's own process
        await manager.replay_sequential(batch).wait()
        in_process = (batch.measured_sequential_s or 0.0) / screen_wall
        batch.measured_sequential_s = None
        await pilot.pause(0.3)
        await pilot.press("R")
        await wait_for(lambda: batch.measured_sequential_s is not None)
        timing = batch.timing(manager.clock())
        await pilot.press("q")
    return timing.measured_speedup or 0.0, timing.measured_wall_s or 0.0, screen_wall, in_process


async def replay_part(repeats: int) -> int:
    print("R's measured speedup: the dashboard (clean process) beside `loopscope run "
          f"--sequential`; CPU work: median of {repeats} alternating runs", flush=True)
    missed = 0
    for spec in SPECS:
        runs = repeats if spec.startswith("cpu") else 1  # the others wait: little noise
        headless_runs, dashboard_runs = [], []
        for _ in range(runs):
            headless_runs.append(float(headless_replay(spec)["measured_speedup"]))
            dashboard_runs.append(await dashboard_replay(spec))
        headless = statistics.median(headless_runs)
        ours, clean_wall, screen_wall, in_process = (
            statistics.median(run[i] for run in dashboard_runs) for i in range(4)
        )
        ok = agree(ours, headless)
        missed += not ok
        print(f"  {spec:26} headless {headless:5.2f}x   dashboard {ours:5.2f}x   "
              f"[{verdict(ok)}]\n"
              f"  {'':26} replay inside the dashboard's process (before): {in_process:5.2f}x;"
              f" batch wall on screen {screen_wall:.3f} s, in the clean process "
              f"{clean_wall:.3f} s", flush=True)
    return missed


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "loopscope", "demo-server", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().split(" on ", 1)[1].split()[0]
    return process, url


def plain_race() -> dict[str, dict[str, float]]:
    server, url = start_server()
    try:
        out = subprocess.run([sys.executable, str(HERE / "race_plain.py"), url],
                             capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(5)
    result: dict[str, dict[str, float]] = json.loads(out)
    return result


def headless_race() -> dict[str, dict[str, float]]:
    out = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", "--scenario", "race", "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    race = json.loads(out)["results"]["race"]
    return {w: race[w]["walls_s"] for w in ("io", "cpu")}


WATCHER_CPU: list[float] = []
"""The dashboard's own CPU while each race ran (fraction of one core)."""


async def dashboard_race() -> dict[str, dict[str, float]]:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await pilot.pause(0.3)
        await pilot.press("n", "end", "enter")
        await wait_for(lambda: isinstance(app.screen, RaceScreen))
        results = app.screen.results  # type: ignore[attr-defined]
        assert isinstance(results, RaceResults)
        WATCHER_CPU.append(results.watcher_cpu or 0.0)
        await pilot.press("escape", "q")
    return {r.workload.value: {s.value: w for s, w in r.walls.items()} for r in results.workloads}


def medians(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {w: {s: statistics.median(run[w][s] for run in runs) for s in runs[0][w]}
            for w in runs[0]}


async def race_part(repeats: int) -> int:
    print("\nthe race, each lane's wall: a plain script (no loopscope) beside loopscope's "
          f"race headless and on the dashboard; median of {repeats} alternating runs",
          flush=True)
    plain_runs, headless_runs, dashboard_runs = [], [], []
    for _ in range(repeats):
        plain_runs.append(plain_race())
        headless_runs.append(headless_race())
        dashboard_runs.append(await dashboard_race())
    plain, headless, dashboard = map(medians, (plain_runs, headless_runs, dashboard_runs))
    missed = 0
    for workload in Workload:
        key = workload.value
        for strategy in STRATEGIES:
            name = strategy.value
            reference = plain[key][name]
            ok = agree(headless[key][name], reference) and agree(dashboard[key][name], reference)
            missed += not ok
            print(f"  {key:3} {name:10}  plain {reference:6.3f} s   headless "
                  f"{headless[key][name]:6.3f} s ({headless[key][name] / reference:4.2f}x)   "
                  f"dashboard {dashboard[key][name]:6.3f} s "
                  f"({dashboard[key][name] / reference:4.2f}x)   [{verdict(ok)}]", flush=True)
    print(f"  the dashboard itself used {statistics.median(WATCHER_CPU):.0%} of one core while "
          "the lanes ran (median)", flush=True)
    return missed


async def main(replay: bool, race: bool, repeats: int) -> int:
    missed = 0
    if replay:
        missed += await replay_part(repeats)
    if race:
        missed += await race_part(repeats)
    print(f"\n{'all figures agree' if not missed else f'{missed} figure(s) disagree'} "
          f"(target: within {AGREE:.0%}); Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replay-only", action="store_true")
    parser.add_argument("--race-only", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    options = parser.parse_args()
    raise SystemExit(asyncio.run(main(not options.race_only, not options.replay_only,
                                      max(1, options.repeats))))
