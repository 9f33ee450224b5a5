"""Why the event loop stalled: telling the causes of a lag spike apart.

For each spike the lag monitor hands over the stall's window, how much CPU time the process
and the loop's own thread got during it, and (when the watchdog caught one) the Python line
the loop thread was on. From those, one of four causes is named:

* **loopscope's own work** (start-up, starting the process pool, a big launch, drawing the
  screen): noted by the engine and the screen layer with ``note_own_work``, or seen in the
  caught line (a frame of textual or rich is the screen being drawn);
* **Python code holding the loop**: a task that said so (``note_on_loop``, the ``block``
  kind), or the line the watchdog caught;
* **the process starved by the operating system**: it got far less CPU time than the stall
  lasted, and the loop thread was not stuck in code: another process had the CPU;
* **CPU-bound threads holding the GIL**: the process was busy but the loop's thread was not,
  while CPU-bound thread jobs ran.
"""

from __future__ import annotations

import enum
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

STARVED_FRACTION = 0.3
"""Below this share of the stall in CPU time, the process (or the loop's thread) was not
running: someone else had the CPU (or the GIL)."""

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
"""loopscope's package folder, as its modules' code objects name it."""

SCREEN_MODULES = (
    "/textual/", "/rich/", os.path.join(_PACKAGE, "widgets", ""), os.path.join(_PACKAGE, "tui", ""),
)
"""A caught line in these packages means the loop was drawing the screen."""
POOL_MODULES = ("/multiprocessing/", "/concurrent/futures/")
"""A caught line here means the loop was starting (or feeding) the process pool."""
ENGINE_MODULES = os.path.join(_PACKAGE, "tasks", "")
TASK_MODULES = (
    os.path.join(ENGINE_MODULES, "kinds", ""), os.path.join(ENGINE_MODULES, "scenarios", "")
)
"""The engine's own code, except the kinds and scenarios: that is the tasks' code."""


class SpikeCause(enum.Enum):
    OWN_WORK = "loopscope's own work"
    LOOP_CODE = "Python code holding the loop"
    STARVED = "the process starved by the OS"
    GIL = "CPU-bound threads holding the GIL"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class StallEvidence:
    """What was measured over one stall (the lag monitor's sleep that woke late)."""

    process_cpu_s: float | None = None
    """CPU time of the whole process (all threads) over the stall."""
    loop_cpu_s: float | None = None
    """CPU time of the loop's own thread over the stall."""
    caught: str | None = None
    """``function (file:line)`` the loop thread was on when the watchdog looked, if it did."""
    caught_file: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    cause: SpikeCause
    text: str
    """One line for a person: the cause and what exactly, e.g. ``task #3 block 0.3 s``."""


class LoopBlame:
    """Notes of who held the loop, and the verdict for a stall."""

    def __init__(self, gil_jobs: Callable[[], int]):
        self._gil_jobs = gil_jobs
        self._on_loop: deque[tuple[float, float, str]] = deque(maxlen=200)
        self._own: deque[tuple[float, float, str]] = deque(maxlen=200)

    def note_on_loop(self, start: float, end: float, label: str) -> None:
        """Python code (a task) held the loop from ``start`` to ``end``."""
        self._on_loop.append((start, end, label))

    def note_own_work(self, start: float, end: float, label: str) -> None:
        """loopscope itself held the loop (start-up, the process pool, drawing the screen)."""
        self._own.append((start, end, label))

    def explain(self, start: float, end: float, evidence: StallEvidence) -> Verdict:
        """The cause of a stall from ``start`` to ``end`` (clock times)."""
        own, own_overlap = _best(self._own, start, end)
        code, code_overlap = _best(self._on_loop, start, end)
        if own is not None and own_overlap >= code_overlap:
            return Verdict(SpikeCause.OWN_WORK, f"loopscope's own work: {own}")
        if code is not None:
            return Verdict(SpikeCause.LOOP_CODE, code)
        caught, where = evidence.caught, evidence.caught_file or ""
        if caught is not None and any(module in where for module in SCREEN_MODULES):
            return Verdict(
                SpikeCause.OWN_WORK, f"loopscope's own work: drawing the screen ({caught})"
            )
        if caught is not None and any(module in where for module in POOL_MODULES):
            return Verdict(
                SpikeCause.OWN_WORK, f"loopscope's own work: the process pool ({caught})"
            )
        if (
            caught is not None
            and where.startswith(ENGINE_MODULES)
            and not where.startswith(TASK_MODULES)
        ):
            return Verdict(SpikeCause.OWN_WORK, f"loopscope's own work: the engine ({caught})")
        stall = max(end - start, 1e-9)
        process_cpu, loop_cpu = evidence.process_cpu_s, evidence.loop_cpu_s
        starved = process_cpu is not None and process_cpu < STARVED_FRACTION * stall
        loop_idle = loop_cpu is not None and loop_cpu < STARVED_FRACTION * stall
        jobs = self._gil_jobs()
        plural = "s" if jobs != 1 else ""
        if jobs and loop_idle and not starved:
            return Verdict(SpikeCause.GIL, f"the GIL: {jobs} CPU-bound thread job{plural} running")
        if caught is not None:
            # the watchdog thread ran during the stall, so the process had the CPU
            return Verdict(SpikeCause.LOOP_CODE, f"Python code holding the loop: {caught}")
        if starved:
            assert process_cpu is not None
            return Verdict(
                SpikeCause.STARVED,
                f"the OS starved the process: {process_cpu * 1000:,.0f} ms of CPU in a "
                f"{stall * 1000:,.0f} ms stall (another process had the CPU)",
            )
        if jobs:
            return Verdict(SpikeCause.GIL, f"the GIL: {jobs} CPU-bound thread job{plural} running")
        if loop_cpu is not None and not loop_idle:
            return Verdict(SpikeCause.LOOP_CODE, "Python code holding the loop (line not caught)")
        return Verdict(SpikeCause.UNKNOWN, "cause unknown")


def _best(
    notes: deque[tuple[float, float, str]], start: float, end: float
) -> tuple[str | None, float]:
    best, best_overlap = None, 0.0
    for begin, finish, label in notes:
        overlap = min(end, finish) - max(start, begin)
        if overlap > best_overlap:
            best, best_overlap = label, overlap
    return best, best_overlap
