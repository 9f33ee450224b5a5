"""What the engine records about each task: its state and its timestamps.

A ``TaskRecord`` is written only by the TaskManager (and the kind running it); screens and
reports read it. All timestamps come from the manager's clock (``time.perf_counter`` unless
one is injected), so differences between them are durations in seconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopscope.tasks.introspect import Suspension


class TaskState(enum.Enum):
    """The life of a task, in the order it can move through them."""

    PENDING = "pending"
    """Created, not yet doing its work. ``TaskRecord.waiting_for`` says what it waits for
    (a connection slot, an executor worker, the sample files...) when it waits for something."""
    RUNNING = "running"
    """Doing its work: a request in flight, a worker running the job."""
    DONE = "done"
    """Finished without error."""
    EXCEPTION = "exception"
    """Finished by raising; the record holds the type, message and traceback."""
    CANCELLED = "cancelled"
    """Stopped by ``cancel`` before it finished."""

    # Members are singletons: hash by identity in C. Enum's own __hash__ is Python code, and
    # the manager's per-state counters are looked up several times per task event.
    __hash__ = object.__hash__

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES

    def __str__(self) -> str:
        return self.value


FINISHED_STATES = frozenset({TaskState.DONE, TaskState.EXCEPTION, TaskState.CANCELLED})


@dataclass(slots=True, eq=False)
class TaskRecord:
    """One task: what it is, where it is in its life, and what it produced."""

    id: int
    batch_id: int
    kind: str
    target: str
    """What the task works on, as shown to a user: URL, path, seconds... (passwords masked)."""
    created: float
    state: TaskState = TaskState.PENDING
    started: float | None = None
    finished: float | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    result: str = ""
    """A short summary of the result, e.g. ``200 OK, 1.2 KiB``."""
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    version: int = 0
    """The manager's change counter when this record last changed."""
    preview: str | None = None
    """The first few hundred characters of what the task produced, for the detail view."""
    waiting_for: str | None = None
    """What the task waits (or waited) for while pending, e.g. ``a connection slot``; None
    when it never had to wait for anything in particular."""
    cancelling: str | None = None
    """Set when the task was cancelled but its work goes on (a process job cannot be
    interrupted): why, and what it waits for. The state moves to cancelled when it ends."""

    # Insight into its steps (tasks/introspect.py); the manager fills these, see
    # ``TaskManager.sample_insight``. They do not bump ``version``: they are sampled.
    busy_s: float | None = None
    """Time in its own steps on the loop; None unless step timing is on."""
    steps: int | None = None
    """How many times the loop ran it; None unless step timing is on."""
    longest_step_s: float | None = None
    """Its longest single step; None unless step timing is on."""
    suspended_at: Suspension | None = None
    """Where it waited when last sampled (kept after it ends: where it was last seen)."""

    @property
    def status(self) -> str:
        """The word to show for its state: ``cancelling`` while a cancelled job still runs."""
        if self.cancelling is not None and not self.state.finished:
            return "cancelling"
        return self.state.value

    def wait_s(self, now: float) -> float:
        """Seconds spent pending: from creation until it started (or ended, or until now)."""
        end = self.started if self.started is not None else (self.finished or now)
        return max(0.0, end - self.created)

    def run_s(self, now: float) -> float:
        """Seconds spent running: from start to finish (or until now), 0 if it never started."""
        if self.started is None:
            return 0.0
        end = self.finished if self.finished is not None else now
        return max(0.0, end - self.started)

    @property
    def error(self) -> str | None:
        """``Type: message`` for a failed task, else None."""
        if self.error_type is None:
            return None
        return f"{self.error_type}: {self.error_message}" if self.error_message else self.error_type

    def __repr__(self) -> str:
        return (
            f"<TaskRecord #{self.id} {self.kind} {self.target!r} {self.state.value}"
            f" batch={self.batch_id}>"
        )

