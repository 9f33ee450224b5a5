"""Busy time, steps and where suspended, for loopscope's own tasks (issue 9, item 7).

The agent (``tasks/agent``) answers these questions for a watched program; this module asks
the agent's pieces the same questions about the engine's tasks, rather than answering them a
second way:

* **where a task is suspended** is read from its coroutine chain (``cr_frame`` down
  ``cr_await``) with the agent's ``RowBuilder.await_chain``. It is sampled on demand, for the
  tasks a screen shows, so it costs nothing while nobody looks;
* **busy time, steps and the longest step** need a hook on every step of the loop. The agent's
  ``Recorder`` has one (``Handle._run``); installing it on the dashboard's own loop is what
  ``EngineOptions.step_timing`` does (``loopscope --step-timing``). It is off by default
  because it is not cheap: ``python -m bench.insight_bench`` measured 1.1x to 2.3x the run
  time of the same batch without it, side by side on a loaded 2-core machine (many tiny tasks,
  like 20,000 x ``sleep 0``, cost the most; the figures are noisy there).

Both give small typed objects (``WaitFrame``, ``Suspension``) that records and widgets carry.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from loopscope.tasks.agent import recorder as agent_recorder
from loopscope.tasks.agent.recorder import Recorder
from loopscope.tasks.agent.rows import RowBuilder

KEEP_FINISHED = 64
"""The agent's recorder keeps this many finished tasks: the engine copies what it needs when a
task ends, so the recorder's own history is only a small buffer."""


@dataclass(frozen=True, slots=True)
class WaitFrame:
    """One frame of a suspended task's await chain."""

    function: str
    filename: str
    line: int
    library: bool
    """The standard library's or an installed package's frame, not loopscope's or the user's."""

    @property
    def place(self) -> str:
        """``file.py:LINE``, short enough for a column."""
        return f"{os.path.basename(self.filename)}:{self.line}"

    def __str__(self) -> str:
        return f"{self.function} {self.place}"


@dataclass(frozen=True, slots=True)
class Suspension:
    """Where a task waits: its coroutine frames, outermost first, and what it awaits."""

    frames: tuple[WaitFrame, ...]
    awaiting: str | None
    """The future the task's innermost ``await`` is parked on (``Future pending``,
    ``Task fetch-3``, ``gather of 5``), when there is one."""

    @property
    def innermost(self) -> WaitFrame | None:
        return self.frames[-1] if self.frames else None

    @property
    def own_frame(self) -> WaitFrame | None:
        """The innermost frame that is not the standard library's or a package's."""
        for frame in reversed(self.frames):
            if not frame.library:
                return frame
        return self.innermost

    def __str__(self) -> str:
        frame = self.innermost
        if frame is None:
            return self.awaiting or "?"
        return str(frame)


@dataclass(frozen=True, slots=True)
class StepFigures:
    """What the step hook measured for one task."""

    busy_s: float
    """Time in its own steps on the loop."""
    steps: int
    longest_s: float


class Introspector:
    """The engine's source of busy time, steps and await chains (one per TaskManager).

    ``attach`` is called when a task is created, ``detach`` when it ends (both O(1)); the
    step hook, when on, is the agent's ``Recorder`` installed on the running loop.
    """

    def __init__(self, *, clock: Callable[[], float], step_timing: bool = False) -> None:
        self.clock = clock
        self.step_timing = step_timing
        """Asked for; ``timing`` says whether the hook is actually installed."""
        self._recorder = Recorder(clock=clock, keep_finished=KEEP_FINISHED)
        self._rows = RowBuilder(self._recorder)
        self._live: dict[int, Any] = {}
        """Engine record id -> the agent's record of its task, while the task lives."""
        self.unavailable: str | None = None
        """Why step timing was asked for but is not on (another hook owns the loop)."""

    @property
    def timing(self) -> bool:
        return self._recorder.installed

    def start(self) -> None:
        """Install the step hook if step timing is asked for and nobody else hooked asyncio."""
        if not self.step_timing or self.timing:
            return
        if not agent_recorder.step_hook_is_free():
            self.unavailable = "step timing is off: asyncio's step hook is taken (an agent?)"
            return
        self._recorder.install()

    def stop(self) -> None:
        self._recorder.uninstall()
        self._live.clear()

    def attach(self, record_id: int, task: asyncio.Task[Any]) -> None:
        """Follow ``task``'s steps (step timing on: the hook saw it created just now)."""
        if not self._recorder.installed:
            return
        recorder = self._recorder
        agent_record = recorder.live.get(id(task))
        if agent_record is not None:
            self._live[record_id] = agent_record
        # Nothing drains the recorder's change queue here (no sender): keep it empty.
        if len(recorder.dirty) > 1024:
            recorder.dirty.clear()

    def steps_of(self, record_id: int) -> StepFigures | None:
        agent_record = self._live.get(record_id)
        if agent_record is None:
            return None
        return StepFigures(agent_record.busy, agent_record.steps, agent_record.longest)

    def detach(self, record_id: int) -> StepFigures | None:
        """The task ended: its final figures (None when not timed)."""
        figures = self.steps_of(record_id)
        self._live.pop(record_id, None)
        if len(self._recorder.dirty) > 1024:
            self._recorder.dirty.clear()
        return figures

    def suspension(self, task: asyncio.Task[Any]) -> Suspension | None:
        """Where ``task`` is suspended now; None when it is done, running or never ran."""
        if task.done():
            return None
        coro = task.get_coro()
        if getattr(coro, "cr_running", False):
            return None
        frames, awaiting, _ = self._rows.await_chain(task)
        if not frames and awaiting is None:
            return None
        return Suspension(tuple(_frame(row) for row in frames), awaiting)

    def suspended_lines(self, tasks: Iterable[asyncio.Task[Any]], filename: str) -> Counter[int]:
        """How many of ``tasks`` are suspended at each line of ``filename`` right now.

        A task counts once on every line of that file its await chain passes through: the
        outer ``await gather(...)`` and the inner ``await fetch()`` both hold it. Reads frames
        only (the agent's await-chain walk): nothing is recorded, nothing hooked.
        """
        counts: Counter[int] = Counter()
        for task in tasks:
            if task.done() or getattr(task.get_coro(), "cr_running", False):
                continue
            frames, _, _ = self._rows.await_chain(task)
            counts.update({row[2] for row in frames if row[1] == filename})
        return counts


def _frame(row: list[Any]) -> WaitFrame:
    """The agent's frame row ``[qualname, filename, line(, 1 when library)]``."""
    return WaitFrame(str(row[0]), str(row[1]), int(row[2]), len(row) > 3 and bool(row[3]))

