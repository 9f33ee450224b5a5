"""The race's processes lane alone, three ways, a second apart: the close look at one lane.

Used by bench/truth_bench.py after the full race. Why a close look: the CPU processes lane is
the one that needs both cores, and in the full race the three sides' runs of it lie seconds
apart (each side runs eight lanes in between). On a shared machine other work comes and goes
faster than that, so one side's run can meet a quiet moment and another's a busy one. Here
the three sides take turns, about a second each, in rotating order:

* ``plain``: ``bench/race_plain.py --only cpu/processes`` (``ProcessPoolExecutor.map``, warmed
  as in the full race);
* ``headless``: the race's own code for that lane (``tasks/scenarios/race.py``'s ``run_lane``:
  a clean process, its events mirrored) on a bare engine in a process of its own, as
  ``loopscope run --scenario race`` does;
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
from loopscope.tasks.scenarios.race_results import Strategy, Workload
from loopscope.tui.app import make_app
from loopscope.tui.screens.main import MainScreen

CPU_N = 3_000_000
COUNT = 4
SIDES = ("plain", "headless", "dashboard")


@dataclass(slots=True)
class LaneRounds:
    """Every side's wall for the processes lane, round by round."""

    walls: dict[str, list[float]] = field(
        default_factory=lambda: {side: [] for side in SIDES})

    def paired_ratio(self, side: str) -> float:
        """Median over rounds of this side's wall over the plain script's in that round."""
        return statistics.median(
            mine / plain for mine, plain in zip(self.walls[side], self.walls["plain"],
                                                strict=True))

    def agrees(self, side: str) -> bool:
        return agree(self.paired_ratio(side), 1.0)


async def lane_on(manager: TaskManager) -> float:
    """The race's processes lane on ``manager``, by the race's own code; its timed wall."""
    ctx = ScenarioContext(manager, SCENARIOS["race"], {})
    return await run_lane(ctx, Workload.CPU, Strategy.PROCESSES,
                          f"sum of squares to {CPU_N:,}", CPU_N, COUNT)


async def headless_once() -> float:
    async with TaskManager(EngineOptions(demo_server=False)) as manager:
        return await lane_on(manager)


def plain_lane() -> float:
    out = subprocess.run([sys.executable, str(HERE / "race_plain.py"), "--only", "cpu/processes",
                          "--cpu-n", str(CPU_N), "--cpu-count", str(COUNT)],
                         capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["cpu"]["processes"])


def headless_lane() -> float:
    out = subprocess.run([sys.executable, "-m", "bench.race_processes", "--headless-once"],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])


async def compare_lane(
    rounds: int, say: Callable[[str], None], lock: Path | None = None
) -> LaneRounds:
    """One untimed round of each side, then ``rounds`` rounds in rotating order."""
    result = LaneRounds()
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        await pilot.pause(0.3)
        runners: dict[str, Callable[[], Awaitable[float]]] = {
            "plain": lambda: asyncio.to_thread(plain_lane),
            "headless": lambda: asyncio.to_thread(headless_lane),
            "dashboard": lambda: lane_on(app.manager),
        }
        with held(lock):
            for side in SIDES:  # warm-up, not counted
                await runners[side]()
            for index in range(rounds):
                for side in SIDES[index % 3:] + SIDES[:index % 3]:
                    result.walls[side].append(await runners[side]())
                    await pilot.pause(0.1)  # the dashboard draws the lane's end, untimed
        say(f"  {rounds} rounds of the processes lane alone, the sides a second apart")
        await pilot.press("q")
    return result


def report(result: LaneRounds, say: Callable[[str], None]) -> int:
    """Print the comparison; return how many sides disagree with the plain script."""
    say(f"  cpu processes, {COUNT} x sum of squares to {CPU_N:,}: each side's wall over the "
        "plain script's in the same round (median over rounds); minimum of the rounds beside it")
    plain = min(result.walls["plain"])
    missed = 0
    for side in ("headless", "dashboard"):
        ok = result.agrees(side)
        missed += not ok
        verdict = f"agree within {AGREE:.0%}" if ok else f"DISAGREE (> {AGREE:.0%})"
        fastest = min(result.walls[side])
        say(f"  {side:9} {result.paired_ratio(side):4.2f}x the plain script round by round "
            f"[{verdict}]   minimum {fastest:.3f} s against {plain:.3f} s "
            f"({fastest / plain:4.2f}x)")
    return missed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--headless-once", action="store_true",
                        help="run the lane once on a bare engine and print its wall (a side)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--lock", type=Path, metavar="FILE")
    options = parser.parse_args()
    if options.headless_once:
        print(asyncio.run(headless_once()))
    else:
        lane_rounds = asyncio.run(compare_lane(options.rounds, print, options.lock))
        raise SystemExit(1 if report(lane_rounds, print) else 0)
