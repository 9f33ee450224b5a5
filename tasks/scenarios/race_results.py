"""The race's results as small typed values, and the conclusion composed from them alone.

The conclusion says only what the numbers support: each lane's speed relative to sequential,
the winner (or a tie, when lanes are within ``NOISE`` of each other), and an explanation
only where the figures show it: "the GIL" for threads on CPU work only when threads were no
faster than sequential. A machine that cannot show the rule (one core, a pool of one) is
named as such instead of a winner crowned by noise.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from loopscope.tasks.units import human_seconds

NOISE = 0.10
"""Walls within 10% of each other are a tie: closer than that is what repeated runs differ by
on a shared 2-core machine (the bench shows lane-to-lane spread)."""


class Strategy(enum.StrEnum):
    """The four ways of running a workload, in the order the race runs them."""

    SEQUENTIAL = "sequential"
    ASYNCIO = "asyncio"
    THREADS = "threads"
    PROCESSES = "processes"


STRATEGIES: tuple[Strategy, ...] = tuple(Strategy)


class Workload(enum.StrEnum):
    IO = "io"
    CPU = "cpu"

    @property
    def label(self) -> str:
        return "I/O-bound" if self is Workload.IO else "CPU-bound"


@dataclass(frozen=True, slots=True)
class WorkloadResult:
    """One workload's measured wall time per strategy."""

    workload: Workload
    what: str
    """e.g. ``10 x GET /delay/200``."""
    walls: dict[Strategy, float]

    def speedup(self, strategy: Strategy) -> float:
        """How many times faster than sequential (above 1: faster)."""
        wall = self.walls[strategy]
        return self.walls[Strategy.SEQUENTIAL] / wall if wall > 0 else float("inf")

    def noise(self, floor: float = NOISE) -> float:
        """How far apart two lanes may be and still tie, judged from this run's own figures.

        On CPU work a for loop and ``gather`` run the very same sums one after another in one
        thread, so whatever separates them is the machine's noise (another process taking the
        CPU); a gap smaller than that crowns nobody. Never below ``floor``.
        """
        if self.workload is not Workload.CPU:
            return floor
        sequential, gathered = self.walls[Strategy.SEQUENTIAL], self.walls[Strategy.ASYNCIO]
        spread = max(sequential, gathered) / min(sequential, gathered) - 1 if min(
            sequential, gathered) > 0 else 0.0
        return max(floor, spread)

    def leaders(self, noise: float | None = None) -> tuple[Strategy, ...]:
        """The fastest strategy and any within ``noise`` of it (default: this run's own noise),
        fastest first."""
        noise = self.noise() if noise is None else noise
        best = min(self.walls.values())
        ranked = sorted(self.walls, key=self.walls.__getitem__)
        return tuple(s for s in ranked if self.walls[s] <= best * (1 + noise))

    def as_json(self) -> dict[str, Any]:
        return {"what": self.what, "walls_s": {s.value: round(w, 4) for s, w in self.walls.items()},
                "leaders": [s.value for s in self.leaders()]}


@dataclass(frozen=True, slots=True)
class RaceResults:
    """Both workloads, the machine they ran on, and what they show."""

    io: WorkloadResult
    cpu: WorkloadResult
    process_workers: int
    cores: int
    conclusion: str
    watcher_cpu: float | None = None
    """CPU the process that watched the race (the dashboard, or ``loopscope run``) used while
    the lanes' stopwatches ran, as a fraction of one core: what it may have taken from the
    lanes' cores."""
    watcher_cpu_by_lane: dict[tuple[Workload, Strategy], float] = field(default_factory=dict)
    """The same, lane by lane (a process-pool lane needs every core: this is what it lost)."""

    @property
    def workloads(self) -> tuple[WorkloadResult, WorkloadResult]:
        return (self.io, self.cpu)

    def winner(self, workload: Workload) -> Strategy | None:
        """The one fastest strategy, or None for a tie or a machine that cannot tell."""
        result = self.io if workload is Workload.IO else self.cpu
        if workload is Workload.CPU and not can_parallelise(self.cores, self.process_workers):
            return None
        leaders = result.leaders()
        return leaders[0] if len(leaders) == 1 else None

    def as_json(self) -> dict[str, Any]:
        return {
            "io": self.io.as_json(),
            "cpu": self.cpu.as_json(),
            "winner": {w.value: (s.value if (s := self.winner(w)) else None) for w in Workload},
            "process_workers": self.process_workers,
            "cores": self.cores,
            "conclusion": self.conclusion,
            "watcher_cpu": None if self.watcher_cpu is None else round(self.watcher_cpu, 3),
            "watcher_cpu_by_lane": {
                w.value: {s.value: round(share, 3) for (lw, s), share in
                          self.watcher_cpu_by_lane.items() if lw is w}
                for w in Workload
            },
        }


def can_parallelise(cores: int, process_workers: int) -> bool:
    return cores > 1 and process_workers > 1


def _times(value: float) -> str:
    return f"{value:.1f}×" if value < 10 else f"{value:.0f}×"


def _names(strategies: tuple[Strategy, ...] | list[Strategy]) -> str:
    names = [s.value for s in strategies]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _no_faster(result: WorkloadResult, strategy: Strategy, noise: float) -> bool:
    return result.speedup(strategy) <= 1 + noise


def _faster(result: WorkloadResult, strategy: Strategy, noise: float) -> bool:
    return result.speedup(strategy) > 1 + noise


def describe_workload(
    result: WorkloadResult, *, cores: int, process_workers: int, count: int,
    noise: float = NOISE,
) -> str:
    """One workload's sentence: the ratios, the winner or tie, and what the numbers support."""
    others = [s for s in STRATEGIES if s is not Strategy.SEQUENTIAL]
    ratios = ", ".join(f"{s.value} {_times(result.speedup(s))}" for s in others)
    text = (f"{result.workload.label}: {ratios} the speed of sequential "
            f"({human_seconds(result.walls[Strategy.SEQUENTIAL])}). ")
    parallel = can_parallelise(cores, process_workers)
    measured = result.noise(noise)
    if measured > noise:
        text += (f"A for loop and gather ran the same sums one by one yet took "
                 f"{measured:.0%} apart: this run's noise, so only gaps wider than that "
                 "count. ")
        noise = measured
    leaders = result.leaders(noise)
    if result.workload is Workload.CPU and not parallel:
        why = "one core" if cores <= 1 else "a process pool of one"
        text += (f"No winner: with {why} nothing can run the sums side by side, so this "
                 "machine cannot show processes winning; any gap here is noise.")
        return text
    if len(leaders) == 1:
        text += f"{leaders[0].value} won."
    else:
        text += f"{_names(leaders)} tie (within {noise:.0%})."
    notes: list[str] = []
    if result.workload is Workload.IO:
        overlapped = [s for s in (Strategy.ASYNCIO, Strategy.THREADS)
                      if _faster(result, s, noise)]
        if overlapped:
            notes.append(f"{_names(overlapped)} overlapped the waits")
        processes = result.speedup(Strategy.PROCESSES)
        if (process_workers < count and _faster(result, Strategy.PROCESSES, noise)
                and processes <= process_workers * (1 + noise)
                and Strategy.PROCESSES not in leaders):
            notes.append(f"processes were held to {process_workers} requests at a time by a "
                         f"pool of {process_workers}")
    else:
        if _faster(result, Strategy.PROCESSES, noise):
            notes.append(f"processes ran the sums side by side on {min(cores, process_workers)} "
                         "cores")
        if _no_faster(result, Strategy.THREADS, noise):
            notes.append("threads were no faster than sequential: the GIL lets one thread run "
                         "Python code at a time")
        if _no_faster(result, Strategy.ASYNCIO, noise):
            notes.append("asyncio was no faster: the sums ran one by one on the loop")
    if notes:
        text += " " + "; ".join(notes) + "."
    return text


def compose_conclusion(
    io: WorkloadResult, cpu: WorkloadResult, *, cores: int, process_workers: int,
    io_count: int, cpu_count: int, noise: float = NOISE,
) -> str:
    """The race's conclusion, from the numbers alone."""
    parts = [
        describe_workload(io, cores=cores, process_workers=process_workers, count=io_count,
                          noise=noise),
        describe_workload(cpu, cores=cores, process_workers=process_workers, count=cpu_count,
                          noise=noise),
    ]
    io_leaders, cpu_leaders = io.leaders(io.noise(noise)), cpu.leaders(cpu.noise(noise))
    io_ok = set(io_leaders) <= {Strategy.ASYNCIO, Strategy.THREADS}
    if not can_parallelise(cores, process_workers):
        verdict = ("The I/O half of the rule of thumb held; the CPU half needs a second core."
                   if io_ok else
                   "The rule of thumb did not show on this run, and the CPU half needs a "
                   "second core.")
    elif io_ok and cpu_leaders == (Strategy.PROCESSES,):
        verdict = ("The rule of thumb held: I/O-bound work to asyncio or threads, CPU-bound "
                   "work to processes.")
    else:
        verdict = ("The rule of thumb did not show on this run (a busy machine, or "
                   "workloads too small): read the figures above.")
    parts.append(verdict)
    return " ".join(parts)
