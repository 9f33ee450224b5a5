"""One truth wherever it is shown (part of `make bench`): the dashboard's measured figures
beside the same measurements taken headless, and the race beside a plain script.

1. ``R``'s measured speedup on the dashboard (``run_test``, the spec typed into the command
   bar, then ``R``) against ``loopscope run SPEC --sequential --json``, for three workloads;
   also, for reference, what a replay inside the dashboard's own process measures (the old
   way, beside the screen). Target: dashboard within 15% of headless.
2. The strategy race: each lane's wall from a plain script (bench/race_plain.py: a for loop,
   gather, ThreadPoolExecutor.map, ProcessPoolExecutor.map, no loopscope), from
   ``loopscope run --scenario race`` and from the dashboard. Target: within 15% of the plain
   script, each lane. Then the CPU lanes alone, lane by lane, the three sides a second apart
   (bench/race_cpu_lanes.py says why).

    python -m bench.truth_bench [--replay-only | --race-only]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.race_compare import AGREE, SIDES, SideRun, compare, held, spread, wait_for
from bench.race_cpu_lanes import compare_lanes, report
from loopscope.tasks.scenarios.race_results import STRATEGIES, Workload
from loopscope.tui.app import make_app
from loopscope.tui.screens.main import TIMED_REFRESH_S, MainScreen

SPECS = ("cpu 3000000 x4 in=thread", "sleep 0.5 x10", "fetch /delay/200 x20")
LANE_ROUNDS = 10
"""Rounds of the CPU lanes alone (about 15 s each)."""


def agree(value: float, reference: float) -> bool:
    return reference > 0 and abs(value / reference - 1) <= AGREE


def verdict(ok: bool) -> str:
    return "agree within 15%" if ok else "DISAGREE (> 15%)"


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


async def replay_part(repeats: int, lock: Path | None = None) -> int:
    print("R's measured speedup: the dashboard (clean process) beside `loopscope run "
          f"--sequential`; CPU work: median of {repeats} alternating runs", flush=True)
    missed = 0
    for spec in SPECS:
        runs = repeats if spec.startswith("cpu") else 1  # the others wait: little noise
        headless_runs, dashboard_runs = [], []
        for _ in range(runs):
            with held(lock):
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


def save_runs(path: Path, runs: dict[str, list[SideRun]]) -> None:
    path.write_text(json.dumps({side: [dataclasses.asdict(run) for run in side_runs]
                                for side, side_runs in runs.items()}, indent=1))


async def race_part(repeats: int, lock: Path | None = None, save: Path | None = None) -> int:
    print("\nthe race, each lane's wall: a plain script (no loopscope) beside loopscope's "
          f"race headless and on the dashboard; {repeats} rounds after a warm-up round, the "
          "sides alternating in rotating order", flush=True)
    result = await compare(repeats, lambda line: print(line, flush=True), lock)
    if save is not None:  # every run's figures, for a closer look
        save_runs(save, result.runs)
    print("  each side's figure: CPU lanes the minimum of the rounds, I/O lanes the median; "
          "(x): its wall over the plain script's in the same round, the median over rounds, "
          "which the verdict judges (load lasting longer than a round cancels out)\n"
          "  spread: slowest run over fastest, per side (plain/headless/dashboard); cpu: what "
          "the watching process used (headless/dashboard, of one core) while the lane was "
          "timed", flush=True)
    missed = 0
    for workload in Workload:
        key = workload.value
        for strategy in STRATEGIES:
            name = strategy.value
            reference = result.figure("plain", key, name)
            headless = result.figure("headless", key, name)
            dashboard = result.figure("dashboard", key, name)
            ok = result.agrees(key, name)
            missed += not ok
            spreads = "/".join(f"{spread(result.values(side, key, name)):.0%}"
                               for side in SIDES)
            lane_shares = [result.share(side, key, name) for side in ("headless", "dashboard")]
            cpu = "" if None in lane_shares else "  cpu " + "/".join(
                f"{share:.0%}" for share in lane_shares if share is not None)
            ratios = [result.paired_ratio(side, key, name) for side in ("headless", "dashboard")]
            print(f"  {key:3} {name:10} plain {reference:6.3f} s   headless {headless:6.3f} s "
                  f"({ratios[0]:4.2f}x)   dashboard {dashboard:6.3f} s "
                  f"({ratios[1]:4.2f}x)  [{verdict(ok)}]   spread {spreads}{cpu}",
                  flush=True)
            if not ok:
                for reason in result.reasons(key, name):
                    print(f"  {'':14} why: {reason}", flush=True)
    dashboard_share, headless_share = result.overall_share("dashboard"), result.overall_share(
        "headless")
    loud = result.loud_share()
    if dashboard_share is not None and headless_share is not None and loud is not None:
        print(f"  while the lanes were timed the dashboard used {dashboard_share:.1%} of one core "
              f"(it pulls at most every {TIMED_REFRESH_S} s meanwhile; pulling at 10 Hz as "
              f"before, in one run beside them: {loud:.1%}), `loopscope run` "
              f"{headless_share:.1%} (medians over lanes and rounds)", flush=True)
    loads = result.load.load_averages
    others = result.load.others_cores()
    busy = "" if others is None else (f"; other processes used {others:.2f} of the "
                                       f"{os.cpu_count()} cores meanwhile")
    print(f"  load average (1 min) {min(loads):.1f}-{max(loads):.1f} during the race part"
          f"{busy}", flush=True)
    print("\nthe CPU lanes alone, lane by lane: the plain script, the race's lane on a bare "
          "engine and on a live dashboard, the sides a second apart", flush=True)
    lanes = await compare_lanes(max(LANE_ROUNDS, repeats), lambda line: print(line, flush=True),
                                lock)
    return missed + report(lanes, lambda line: print(line, flush=True))


async def main(
    replay: bool, race: bool, repeats: int, lock: Path | None = None, save: Path | None = None
) -> int:
    missed = 0
    if replay:
        missed += await replay_part(repeats, lock)
    if race:
        missed += await race_part(repeats, lock, save)
    print(f"\n{'all figures agree' if not missed else f'{missed} figure(s) disagree'} "
          f"(target: within {AGREE:.0%}); Python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replay-only", action="store_true")
    parser.add_argument("--race-only", action="store_true")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds per figure (after one warm-up round, for the race)")
    parser.add_argument("--lock", type=Path, metavar="FILE",
                        help="take this flock around each round of the race and each pair "
                             "of replays (a shared machine's timing lock), not around the "
                             "whole run")
    parser.add_argument("--save", type=Path, metavar="FILE",
                        help="write every run of the race, side by side, to FILE (JSON)")
    options = parser.parse_args()
    raise SystemExit(asyncio.run(main(not options.race_only, not options.replay_only,
                                      max(1, options.repeats), options.lock, options.save)))
