"""The race comparison's arithmetic (bench/race_compare.py): one statistic per workload for
every side, agreement judged round by round, and reasons for a disagreement read from the
numbers, never made up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.race_compare import HERE, Comparison, MachineLoad, SideRun, estimate, near_minimum
from bench.race_cpu_lanes import LaneRounds, report
from loopscope.tasks.scenarios.race_results import Strategy

STRATEGIES = ("sequential", "asyncio", "threads", "processes")


def run(cpu_processes: float, share: float | None = None) -> SideRun:
    walls = {"io": dict.fromkeys(STRATEGIES, 1.0),
             "cpu": {"sequential": 0.4, "asyncio": 0.4, "threads": 0.4,
                     "processes": cpu_processes}}
    shares = {} if share is None else {"cpu": {"processes": share}}
    return SideRun(walls, shares)


def comparison(plain: list[float], headless: list[float], dashboard: list[float],
               share: float = 0.05) -> Comparison:
    return Comparison(
        {"plain": [run(x) for x in plain], "headless": [run(x, 0.01) for x in headless],
         "dashboard": [run(x, share) for x in dashboard]},
        MachineLoad(),
    )


def test_cpu_lanes_show_the_fastest_run_and_io_lanes_the_median() -> None:
    assert estimate("cpu", [0.5, 0.2, 0.9]) == 0.2
    assert estimate("io", [0.5, 0.2, 0.9]) == 0.5


def test_agreement_is_judged_round_by_round() -> None:
    """A busy round slows its three sides alike; one lucky quiet run of the plain script
    made a lane "disagree" when each side's minimum was compared."""
    busy_round = comparison([0.2, 0.5, 0.2], [0.21, 0.52, 0.2], [0.2, 0.5, 0.22])
    assert busy_round.agrees("cpu", "processes")
    lucky_plain = comparison([0.15, 0.3, 0.3], [0.3, 0.3, 0.31], [0.31, 0.3, 0.3])
    assert lucky_plain.figure("plain", "cpu", "processes") == 0.15  # what is printed
    assert lucky_plain.paired_ratio("headless", "cpu", "processes") == pytest.approx(1.0, abs=0.05)
    assert lucky_plain.agrees("cpu", "processes")
    steady = comparison([0.2, 0.5, 0.2], [0.2, 0.5, 0.2], [0.25, 0.62, 0.25])
    assert not steady.agrees("cpu", "processes"), "a quarter slower in every round"


def test_a_slower_dashboard_is_blamed_on_its_cpu_only_when_the_numbers_say_so() -> None:
    slow = comparison([0.2, 0.2, 0.2], [0.2, 0.21, 0.2], [0.3, 0.3, 0.31], share=0.22)
    assert not slow.agrees("cpu", "processes")
    assert slow.reasons("cpu", "processes") == [
        "only the dashboard differs; it used 22% of one core while this lane was timed "
        "and this lane needs every core",
    ]


def test_when_loopscopes_two_sides_agree_the_plain_script_is_named() -> None:
    result = comparison([0.2, 0.2, 0.2], [0.3, 0.3, 0.3], [0.31, 0.3, 0.3])
    assert result.reasons("cpu", "processes")[0] == (
        "loopscope's two sides agree with each other (1.00x); only the plain script differs")


def test_a_lucky_minimum_and_a_wide_spread_are_said_and_nothing_is_invented() -> None:
    noisy = comparison([0.2, 0.5, 0.5], [0.5, 0.3, 0.52], [0.5, 0.52, 0.3])
    reasons = noisy.reasons("cpu", "processes")
    assert "plain 150%" in reasons[0]
    assert "within 5% of the minimum on plain, headless, dashboard" in reasons[1]
    assert noisy.agrees("cpu", "processes"), "round by round the sides are alike"
    quiet = comparison([0.2, 0.2, 0.2], [0.2, 0.2, 0.2], [0.2, 0.2, 0.2])
    assert quiet.reasons("cpu", "processes") == ["no cause shows in these numbers"]
    assert near_minimum([0.2, 0.205, 0.3]) == 2


def test_the_close_look_pairs_each_round_with_the_plain_run_beside_it() -> None:
    """A busy moment slows all three sides of one round alike: paired, it cancels out."""
    rounds = LaneRounds(Strategy.PROCESSES, {"plain": [0.2, 0.6, 0.2],
                                             "headless": [0.21, 0.62, 0.3],
                                             "dashboard": [0.2, 0.4, 0.3]})
    assert rounds.paired_ratio("headless") == pytest.approx(1.05)
    assert rounds.agrees("headless")
    slow = LaneRounds(Strategy.SEQUENTIAL, {"plain": [0.4, 0.4], "headless": [0.4, 0.4],
                                            "dashboard": [0.5, 0.5]})
    assert not slow.agrees("dashboard")
    lines: list[str] = []
    assert report([rounds, slow], lines.append) == 1
    assert lines[1] == (
        "  cpu processes  headless 1.05x [agree within 15%]   dashboard 1.00x [agree within 15%]"
        "   fastest plain/headless/dashboard 0.200/0.210/0.200 s (1.05x/1.00x)")
    assert "dashboard 1.25x [DISAGREE (> 15%)]" in lines[2]


def test_the_plain_script_runs_one_lane_alone() -> None:
    out = subprocess.run(
        [sys.executable, str(HERE / "race_plain.py"), "--only", "cpu/sequential",
         "--cpu-n", "1000", "--cpu-count", "2"],
        capture_output=True, text=True, check=True,
    ).stdout
    walls = json.loads(out)
    assert list(walls) == ["cpu"]
    assert list(walls["cpu"]) == ["sequential"]
