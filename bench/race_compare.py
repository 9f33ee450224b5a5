"""The race three ways, compared fairly: a plain script, loopscope headless, the dashboard.

Used by bench/truth_bench.py. What makes the comparison fair and steady:

* every side is warmed the same way: one untimed round of all three first (interpreters,
  imports and the page cache are then warm for each), and within a run each side starts its
  process pool and makes its aiohttp session before the stopwatch;
* the rounds alternate, and the order rotates from round to round (plain, headless,
  dashboard; then headless, dashboard, plain; ...), so no side always runs first or last;
* agreement is judged round by round: each side's wall over the plain script's in the same
  round, the median over rounds (``paired_ratio``). These machines' speed drifts by tens of
  percent within a minute; a drift that lasts longer than a round (about ten seconds) hits
  all three sides alike and cancels out of the ratio. Judged on each side's own minimum
  instead (the figure printed beside it), a lane disagreed whenever one side had had a lucky
  quiet run: the plain script's own CPU runs spread 72-88% in one run of the bench;
* the figure printed per side, the same statistic for all three: CPU lanes the **minimum** of
  the rounds (other processes only ever add time to a CPU-bound lane, so the fastest run is
  the best estimate of the unloaded time); I/O lanes the **median** (they wait on the
  server's timers, load moves them little).

When a lane still disagrees, ``reasons`` says why from the numbers: how far each side's own
runs of that lane spread, whether loopscope's two sides agree with each other, and how much
of a core the dashboard used while that lane was timed.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import inspect
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loopscope.tasks.scenarios.race_results import RaceResults
from loopscope.tui.app import make_app
from loopscope.tui.screens.main import MainScreen
from loopscope.tui.screens.scenarios import RaceScreen

AGREE = 0.15
HERE = Path(__file__).resolve().parent
SIDES = ("plain", "headless", "dashboard")

Lanes = dict[str, dict[str, float]]
"""workload -> strategy -> a figure (wall seconds, or a CPU share)."""


@dataclass(slots=True)
class SideRun:
    """One run of the race by one side."""

    walls: Lanes
    shares: Lanes = field(default_factory=dict)
    """The watching process's CPU while each lane was timed (a fraction of one core);
    empty for the plain script, where nothing watches."""


def statistic_name(workload: str) -> str:
    return "minimum" if workload == "cpu" else "median"


def estimate(workload: str, values: Sequence[float]) -> float:
    """The figure a side reports for a lane: see the module's docstring for why."""
    return min(values) if workload == "cpu" else statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """How far one side's own runs of a lane lie apart: slowest over fastest, minus one."""
    return max(values) / min(values) - 1 if min(values) > 0 else 0.0


def near_minimum(values: Sequence[float], within: float = 0.05) -> int:
    """How many runs came within ``within`` of the fastest: one alone means the machine was
    rarely quiet enough during this lane, and the minimum is luck more than a measure."""
    best = min(values)
    return sum(value <= best * (1 + within) for value in values)


def agree(value: float, reference: float) -> bool:
    return reference > 0 and abs(value / reference - 1) <= AGREE


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "loopscope", "demo-server", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().split(" on ", 1)[1].split()[0]
    return process, url


def plain_race() -> SideRun:
    """bench/race_plain.py, with a demo server in a process of its own (as the race has)."""
    server, url = start_server()
    try:
        out = subprocess.run([sys.executable, str(HERE / "race_plain.py"), url],
                             capture_output=True, text=True, check=True).stdout
    finally:
        server.terminate()
        server.wait(5)
    walls: Lanes = json.loads(out)
    return SideRun(walls)


def headless_race() -> SideRun:
    out = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", "--scenario", "race", "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    race = json.loads(out)["results"]["race"]
    return SideRun({w: race[w]["walls_s"] for w in ("io", "cpu")},
                   race.get("watcher_cpu_by_lane", {}))


async def wait_for(condition: Callable[[], bool], timeout: float = 120) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def dashboard_race(*, quiet: bool = True) -> SideRun:
    """The race from the picker (``n``, the last entry, enter), read off its chart.

    ``quiet=False``: the screen pulls at 10 Hz while the lanes are timed, as it did before
    it kept quiet then (to measure what keeping quiet saves)."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: isinstance(app.screen, MainScreen))
        if not quiet:
            app.screen.timed_refresh_s = None  # type: ignore[attr-defined]
        await pilot.pause(0.3)
        await pilot.press("n", "end", "enter")
        await wait_for(lambda: isinstance(app.screen, RaceScreen))
        results = app.screen.results  # type: ignore[attr-defined]
        assert isinstance(results, RaceResults)
        await pilot.press("escape", "q")
    walls = {r.workload.value: {s.value: w for s, w in r.walls.items()}
             for r in results.workloads}
    shares: Lanes = {}
    for (workload, strategy), share in results.watcher_cpu_by_lane.items():
        shares.setdefault(workload.value, {})[strategy.value] = share
    return SideRun(walls, shares)


RUNNERS: dict[str, Callable[[], SideRun | Awaitable[SideRun]]] = {
    "plain": plain_race, "headless": headless_race, "dashboard": dashboard_race,
}


class MachineLoad:
    """What else ran on the machine: the load average, sampled before every run, and the
    CPU the other processes used (the machine's busy time from /proc/stat minus this
    bench's own and its children's)."""

    def __init__(self) -> None:
        self.load_averages: list[float] = []
        self._start = self._readings()

    @staticmethod
    def _busy_s() -> float | None:
        try:
            with open("/proc/stat") as stat:
                fields = [int(x) for x in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def _readings(self) -> tuple[float, float | None, float]:
        times = os.times()
        ours = times.user + times.system + times.children_user + times.children_system
        return time.perf_counter(), self._busy_s(), ours

    def sample(self) -> None:
        self.load_averages.append(os.getloadavg()[0])

    def others_cores(self) -> float | None:
        """Cores' worth of CPU the machine's other processes used since the start."""
        wall0, busy0, ours0 = self._start
        wall1, busy1, ours1 = self._readings()
        if busy0 is None or busy1 is None or wall1 <= wall0:
            return None
        return max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (wall1 - wall0)


def median_share(runs: Sequence[SideRun]) -> float | None:
    shares = [share for run in runs for lanes in run.shares.values() for share in lanes.values()]
    return statistics.median(shares) if shares else None


@dataclass(slots=True)
class Comparison:
    """Every round of every side, and what they add up to."""

    runs: dict[str, list[SideRun]]
    load: MachineLoad
    loud: SideRun | None = None
    """One dashboard run that did not keep quiet while the lanes were timed."""

    def values(self, side: str, workload: str, strategy: str) -> list[float]:
        return [run.walls[workload][strategy] for run in self.runs[side]]

    def figure(self, side: str, workload: str, strategy: str) -> float:
        return estimate(workload, self.values(side, workload, strategy))

    def share(self, side: str, workload: str, strategy: str) -> float | None:
        shares = [run.shares[workload][strategy] for run in self.runs[side]
                  if strategy in run.shares.get(workload, {})]
        return statistics.median(shares) if shares else None

    def overall_share(self, side: str) -> float | None:
        """The watching process's CPU over every lane and round (median)."""
        return median_share(self.runs[side])

    def loud_share(self) -> float | None:
        """The same for the dashboard that pulled at 10 Hz meanwhile (one run)."""
        return None if self.loud is None else median_share([self.loud])

    def agrees(self, workload: str, strategy: str) -> bool:
        """Each of loopscope's sides within ``AGREE`` of the plain script, round by round
        (``paired_ratio``)."""
        return all(agree(self.paired_ratio(side, workload, strategy), 1.0)
                   for side in ("headless", "dashboard"))

    def paired_ratio(self, side: str, workload: str, strategy: str) -> float:
        """The median over rounds of this side's wall over the plain script's in the same
        round: load that lasts longer than a round hits both alike and cancels out."""
        return statistics.median(
            mine / plain for mine, plain in zip(self.values(side, workload, strategy),
                                                self.values("plain", workload, strategy),
                                                strict=True)
        )

    def reasons(self, workload: str, strategy: str) -> list[str]:
        """Why a lane disagrees, as far as the numbers show it. Which side differs is read
        from the round-by-round ratios the verdict judges; the spread and a lucky minimum
        say how far the printed figures can be trusted."""
        found: list[str] = []
        noisy = [(side, spread(self.values(side, workload, strategy))) for side in SIDES]
        noisy = [(side, s) for side, s in noisy if s > AGREE]
        if noisy:
            found.append("its own runs spread more than the target on one side: " + ", ".join(
                f"{side} {s:.0%}" for side, s in noisy) + " (the machine's noise)")
        if workload == "cpu":
            lucky = [side for side in SIDES
                     if near_minimum(self.values(side, workload, strategy)) == 1]
            if lucky:
                found.append(f"only one run of {len(self.runs['plain'])} came within 5% of "
                             f"the minimum on {', '.join(lucky)}: the machine was rarely "
                             "quiet during this lane, so that minimum is luck, not the "
                             "unloaded time; more rounds would tell")
        headless, dashboard = (self.paired_ratio(side, workload, strategy)
                               for side in ("headless", "dashboard"))
        if agree(dashboard, headless) and all(
            (ratio > 1) == (headless > 1) and not agree(ratio, 1.0)
            for ratio in (headless, dashboard)
        ):
            found.append(f"loopscope's two sides agree with each other "
                         f"({dashboard / headless:.2f}x); only the plain script differs")
        elif not agree(dashboard, 1.0) and agree(headless, 1.0):
            share = self.share("dashboard", workload, strategy)
            if share is not None:
                need = " and this lane needs every core" if strategy == "processes" else ""
                found.append(f"only the dashboard differs; it used {share:.0%} of one core "
                             f"while this lane was timed{need}")
        return found or ["no cause shows in these numbers"]


async def run_side(side: str) -> SideRun:
    """One run of one side (the two in subprocesses block: nothing else runs meanwhile)."""
    run = RUNNERS[side]()
    return await run if inspect.isawaitable(run) else run


@contextlib.contextmanager
def held(lock: Path | None) -> Iterator[None]:
    """The shared timing lock around one round (``--lock``): a long comparison then never
    holds it for minutes, and another process's timing never overlaps a round."""
    if lock is None:
        yield
        return
    with open(lock, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


async def compare(
    repeats: int, say: Callable[[str], None], lock: Path | None = None
) -> Comparison:
    """A warm-up round of every side, then ``repeats`` rounds in rotating order."""
    load = MachineLoad()
    runs: dict[str, list[SideRun]] = {side: [] for side in SIDES}
    say("  warm-up round (not counted): " + ", ".join(SIDES))
    with held(lock):
        for side in SIDES:
            load.sample()
            await run_side(side)
    for round_index in range(repeats):
        order = SIDES[round_index % 3:] + SIDES[:round_index % 3]
        with held(lock):
            began = time.perf_counter()
            for side in order:
                load.sample()
                runs[side].append(await run_side(side))
        say(f"  round {round_index + 1}/{repeats}: {', '.join(order)} "
            f"({time.perf_counter() - began:.0f} s, load average {os.getloadavg()[0]:.1f})")
    say("  and once more on the dashboard pulling at 10 Hz while the lanes are timed, as it "
        "did before it kept quiet then (its walls are not counted)")
    with held(lock):
        loud = await dashboard_race(quiet=False)
    load.sample()
    return Comparison(runs, load, loud)
