"""The race's CPU lanes alone, three ways, a second apart: the close look.

Used by bench/truth_bench.py after the full race. Why a close look: a CPU lane lasts 0.2-0.4 s,
and in the full race the three sides' runs of it lie seconds apart (each side runs eight
lanes in between). On this shared machine other work comes and goes faster than that, and the
machine's own speed drifts too (the same sum in one process took 0.09 s, and 0.18 s half an
hour later at a load below 1), so one side's run can meet a fast moment the others never
met. Here, lane by lane, the three sides take turns about a second each, in rotating order:

* ``plain``: ``bench/race_plain.py --only cpu/LANE`` (the for loop, ``gather``,
  ``ThreadPoolExecutor.map`` or ``ProcessPoolExecutor.map``, warmed as in the full race);
* ``headless``: the race's own code for that lane (``tasks/scenarios/race.py``'s ``run_lane``:
  a clean process, its events mirrored) on a bare engine (no screen; no demo server, which
  the CPU lanes do not use) in a process of its own, as ``loopscope run --scenario race`` does;
* ``dashboard``: the same call on the engine of a live dashboard (``run_test``) in this
  process, so the screen mirrors and draws the lane's jobs while it is timed.

Statistic: each side's wall over the plain script's in the same round, the median over the
rounds (load that lasts longer than a round hits the three alike and cancels out); the
minimum of each side beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.race_compare import AGREE, HERE, agree, held, wait_for
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.scenarios import SCENARIOS
from loopscope.tasks.scenarios.base import ScenarioContext
from loopscope.tasks.scenarios.race import run_lane
from loopscope.tasks.scenarios.race_results import STRATEGIES, Strategy, Workload
from loopscope.tui.app import make_app
from loopscope.tui.screens.main import MainScreen

CPU_N = 3_000_000
"""The race's default CPU workload: four sums of squares to three million."""
COUNT = 4
SIDES = ("plain", "headless", "dashboard")


@dataclass(slots=True)
class LaneRounds:
    """Every side's wall for one CPU lane, round by round."""

    strategy: Strategy
    walls: dict[str, list[float]] = field(
        default_factory=lambda: {side: [] for side in SIDES})

    def paired_ratio(self, side: str) -> float:
        """Median over rounds of this side's wall over the plain script's in that round."""
        return statistics.median(
            mine / plain for mine, plain in zip(self.walls[side], self.walls["plain"],
                                                strict=True))

    def agrees(self, side: str) -> bool:
        return agree(self.paired_ratio(side), 1.0)


async def lane_on(manager: TaskManager, strategy: Strategy) -> float:
    """The race's CPU lane on ``manager``, by the race's own code; its timed wall."""
    ctx = ScenarioContext(manager, SCENARIOS["race"], {})
    return await run_lane(ctx, Workload.CPU, strategy, f"sum of squares to {CPU_N:,}", CPU_N,
                          COUNT)


async def headless_once(strategy: Strategy) -> float:
    async with TaskManager(EngineOptions(demo_server=False)) as manager:
        return await lane_on(manager, strategy)


def plain_lane(strategy: Strategy) -> float:
    out = subprocess.run([sys.executable, str(HERE / "race_plain.py"),
                          "--only", f"cpu/{strategy.value}",
                          "--cpu-n", str(CPU_N), "--cpu-count", str(COUNT)],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["cpu"][strategy.value])


def headless_lane(strategy: Strategy) -> float:
    out = subprocess.run([sys.executable, "-m", "bench.race_cpu_lanes",
                          "--headless-once", strategy.value],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


async def compare_lanes(
    rounds: int, say: Callable[[str], None], lock: Path | None = None
) -> list[LaneRounds]:
    """Per round, lane by lane, each side in rotating order; one untimed round first. The
    lock is held one round at a time (about 15 s)."""
    results = [LaneRounds(strategy) for strategy in STRATEGIES]
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await pilot.pause(0.3)

        def runner(side: str, strategy: Strategy) -> Awaitable[float]:
            if side == "plain":
                return asyncio.to_thread(plain_lane, strategy)
            if side == "headless":
                return asyncio.to_thread(headless_lane, strategy)
            return lane_on(app.manager, strategy)

        for index in range(-1, rounds):  # round -1: the warm-up, not counted
            with held(lock):
                for result in results:
                    for side in SIDES[index % 3:] + SIDES[:index % 3]:
                        wall = await runner(side, result.strategy)
                        if index >= 0:
                            result.walls[side].append(wall)
                        await pilot.pause(0.1)  # the dashboard draws the lane's end, untimed
        say(f"  {rounds} rounds after a warm-up round")
        await pilot.press("q")
    return results


def report(results: list[LaneRounds], say: Callable[[str], None]) -> int:
    """Print the comparison; return how many figures disagree with the plain script."""
    say(f"  {COUNT} x sum of squares to {CPU_N:,}. Each side's wall over the plain script's in "
        "the same round (median over rounds); beside it, each side's fastest run")
    missed = 0
    for result in results:
        plain = min(result.walls["plain"])
        figures = []
        for side in ("headless", "dashboard"):
            ok = result.agrees(side)
            missed += not ok
            verdict = f"agree within {AGREE:.0%}" if ok else f"DISAGREE (> {AGREE:.0%})"
            figures.append(f"{side} {result.paired_ratio(side):4.2f}x [{verdict}]")
        fastest = "/".join(f"{min(result.walls[side]):.3f}" for side in SIDES)
        say(f"  cpu {result.strategy.value:10} " + "   ".join(figures) +
            f"   fastest plain/headless/dashboard {fastest} s "
            f"({min(result.walls['headless']) / plain:4.2f}x/"
            f"{min(result.walls['dashboard']) / plain:4.2f}x)")
    return missed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--headless-once", metavar="STRATEGY",
                        help="run that CPU lane once on a bare engine, print its wall (a side)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--lock", type=Path, metavar="FILE")
    options = parser.parse_args()
    if options.headless_once:
        print(asyncio.run(headless_once(Strategy(options.headless_once))))
    else:
        lane_rounds = asyncio.run(compare_lanes(options.rounds, print, options.lock))
        raise SystemExit(1 if report(lane_rounds, print) else 0)
