"""A batch: the tasks one launch created, with running totals kept as they change.

The totals (first start, last finish, summed run time, counts) are updated by the ledger on
every state change, so a batch's timing costs O(1) to read even with 100,000 tasks.

Wall time is what a stopwatch around the launch sees: from the moment the batch was created
(the launch) to its last finish, including any time before the first task could start
(sample files being generated, a full pool).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.spec import TaskSpec, format_spec
from loopscope.tasks.timing import Timing


@dataclass(eq=False)
class Batch:
    """The records of one launch and their running totals."""

    id: int
    specs: tuple[TaskSpec, ...]
    created: float
    planned: int
    """How many tasks this batch will have once launching finishes."""
    sequential: bool = False
    """True for a replay that runs its tasks one after another."""
    replay_of: int | None = None
    label: str = ""
    records: list[TaskRecord] = field(default_factory=list)
    counts: dict[TaskState, int] = field(default_factory=lambda: dict.fromkeys(TaskState, 0))
    first_start: float | None = None
    """When its first task started running (None until one does)."""
    last_finish: float | None = None
    """When its last task finished, whatever its end (None until one does)."""
    finished_run_sum: float = 0.0
    running_start_sum: float = 0.0
    """Sum of ``started`` over running tasks: with the running count it gives their elapsed time."""
    measured_sequential_s: float | None = None
    """Set when a replay of this batch completes."""
    measured_wall_s: float | None = None
    """Set when the replay ran in a clean process: the batch's own wall there, measured beside
    the replay and away from the screen; the measured speedup divides by it."""
    launching: bool = True
    _done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def text(self) -> str:
        """The batch's specs as one line, passwords masked."""
        return "; ".join(format_spec(spec) for spec in self.specs)

    @property
    def finished_count(self) -> int:
        return (
            self.counts[TaskState.DONE]
            + self.counts[TaskState.EXCEPTION]
            + self.counts[TaskState.CANCELLED]
        )

    @property
    def done(self) -> bool:
        """Launching is over and every task it made has finished."""
        return not self.launching and self.finished_count >= self.planned

    @property
    def completed(self) -> bool:
        """``done``, and those waiting in ``wait()`` have been told."""
        return self._done.is_set()

    def complete(self) -> None:
        """Wake everyone waiting in ``wait()``. Called once, by the ledger, when ``done``."""
        self._done.set()

    async def wait(self) -> Batch:
        """Wait until every task of the batch has finished, whatever its end."""
        await self._done.wait()
        return self

    def timing(self, now: float) -> Timing:
        """Gain figures so far (live while tasks run). Wall runs from the launch."""
        start, end = self.span(now)
        running = self.counts[TaskState.RUNNING]
        in_progress = running * now - self.running_start_sum if running else 0.0
        return Timing(
            wall_s=max(0.0, end - start),
            sequential_estimate_s=self.finished_run_sum + max(0.0, in_progress),
            measured_sequential_s=self.measured_sequential_s,
            measured_wall_s=self.measured_wall_s,
        )

    def span(self, now: float) -> tuple[float, float]:
        """``(launch, last finish)``; while the batch is not done, ``(launch, now)``."""
        end = (self.last_finish or self.created) if self.done else now
        return (self.created, max(self.created, end))

    def __repr__(self) -> str:
        return f"<Batch #{self.id} {self.text!r} {self.finished_count}/{self.planned} finished>"
