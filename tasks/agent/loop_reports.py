"""What the agent warns about, and what the event loop itself reports.

The loop reports through ``call_exception_handler``: an exception never retrieved, a task
destroyed while pending, any other loop error. Each becomes a warning naming the task it
is about, which takes finding the task's record again after the task finished or was
collected: ``failed_by_id`` and ``swept_by_id`` keep the recent ones by the task's id.

A task collected while pending can be found two ways, and either can come first: the
loop's "destroyed but it is pending" report (from the task's ``__del__``), or the sender's
``sweep``, which finds records whose task is gone from asyncio's registry (the collector
drops it from the registry before ``__del__`` runs). Both end the record here, once.

Kept out of the recorder's task bookkeeping because none of it is on the per-step hot
path: it runs on a report, on a slow step, or on the sender's thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from loopscope.tasks.agent.places import line_at
from loopscope.tasks.agent.registry import tasks_by_id

if TYPE_CHECKING:
    from loopscope.tasks.agent.records import LoopState, TaskRecord

KEEP_BY_ID = 1000
"""Failed and swept records remembered by the task's id (the oldest forgotten first)."""


class LoopReports:
    """The warnings queue, and the records a late report may still need to name."""

    def __init__(self, *, clock: Callable[[], float], live: MutableMapping[int, TaskRecord],
                 dirty: Any, loops: list[LoopState],
                 destroyed: Callable[[TaskRecord], None], dropped: dict[str, int]) -> None:
        self.clock = clock
        self._live = live
        """The recorder's live records, by ``id(task)``."""
        self._dirty = dirty
        """The recorder's queue of changed tasks (a record named late is sent again)."""
        self._loops = loops
        self._destroyed = destroyed
        """Ends a record whose task was collected before it finished."""
        self._dropped = dropped
        self.warnings: deque[list[Any]] = deque(maxlen=1000)
        """``[kind, at, task seq, place, message]``, drained by the sender."""
        self._failed_by_id: dict[int, TaskRecord] = {}
        self._swept_by_id: dict[int, TaskRecord] = {}
        """Records the sweep ended, by the task's id: the report that comes after names
        them."""

    def failed(self, record: TaskRecord) -> None:
        """A task ended with an exception: found again by id when the loop reports
        "exception never retrieved"."""
        failed = self._failed_by_id
        failed[record.task_id] = record
        if len(failed) > KEEP_BY_ID:
            del failed[next(iter(failed))]

    def warn(self, kind: str, task: int | None, line: Any, message: str,
             now: float | None = None) -> None:
        """Queue a warning; ``line`` is ``(code, lineno)``, a frame row, or None."""
        if len(self.warnings) == self.warnings.maxlen:
            self._dropped["warnings"] += 1
        self.warnings.append([kind, self.clock() if now is None else now, task, line, message])

    def loop_error(self, context: dict[str, Any]) -> None:
        """What the loop handed its exception handler, as a warning about its task."""
        message = str(context.get("message", "loop error"))
        task: Any = context.get("task") or context.get("future")
        record = self._live.get(id(task)) if task is not None else None
        if record is None and task is not None:
            record = (self._failed_by_id.pop(id(task), None)
                      or self._swept_by_id.pop(id(task), None))
        seq = record.seq if record is not None else None
        line = (
            (record.created_code, line_at(record.created_code, record.created_lasti))
            if record and record.created_code else None
        )
        if "never retrieved" in message:
            kind = "never-retrieved"
            exc = context.get("exception")
            if exc is not None:
                message = f"{message}: {type(exc).__name__}: {exc}"
        elif "destroyed but it is pending" in message:
            kind = "destroyed-pending"
            if record is not None:
                self._live.pop(id(task), None)
                record.name = task.get_name()
                record.qualname = getattr(task.get_coro(), "__qualname__", None)
                if record.end is None:
                    self._destroyed(record)
                else:  # the sweep was first: send it again, with its name
                    self._dirty[record.seq] = record.kept()
        else:
            kind = "loop-error"
            exc = context.get("exception")
            if exc is not None:
                message = f"{message}: {type(exc).__name__}: {exc}"
        self.warn(kind, seq, line, message)

    def sweep(self) -> None:
        """Finish the records of tasks that were garbage-collected while pending (the
        sender's thread calls this now and then; usually the loop's "destroyed but it is
        pending" report has done it already)."""
        live = self._live
        candidates = list(live.items())  # before the registry: a task made after it
        # is not in ``candidates``, so never taken as gone. By their ids: where the registry
        # is read in place, no reference is made to every task of the program.
        present = tasks_by_id(self._loops, [key for key, _ in candidates])
        if present is None:
            return
        for key, record in candidates:
            if (key not in present and record.end is None and record.loop.current is not record
                    and live.get(key) is record):
                del live[key]
                self._destroyed(record)
                swept = self._swept_by_id
                swept[key] = record
                if len(swept) > KEEP_BY_ID:
                    del swept[next(iter(swept))]
        del present
