"""The manager's live tasks: a strong reference to each until it ends, and the one done-callback
that records how it ended.

The event loop keeps only weak references to tasks, so something must hold them; like
CPython's ``asyncio/taskgroups.py`` all bookkeeping happens in one done-callback,
``_on_task_done``, which reads ``task.cancelled()`` / ``task.exception()``: however a task
ended (even cancelled before its first step) its record ends too. One task's failure never
touches its siblings.

This is the engine's per-task path, run for every task of every batch, so it is kept lean
(README "Benchmarks" (c)): per task one ``create_task``, two dict entries and one
done-callback, the same bound method for every task (no ``functools.partial``); a launched
task's usual end (it returned its summary) is recorded without further calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures.process import BrokenProcessPool
from types import MappingProxyType
from typing import Any

from loopscope.tasks.failures import describe, format_traceback
from loopscope.tasks.introspect import Introspector
from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.process_records import ProcessRecords, Summary
from loopscope.tasks.records import TaskRecord, TaskState

DONE = TaskState.DONE
"""A module constant: on Python 3.11 reading ``TaskState.X`` goes through the slow hook of
``EnumType.__getattr__`` (a method-wrapper per read)."""


class LiveTasks:
    """Record id -> running task, and the bookkeeping when each ends."""

    def __init__(
        self, ledger: TaskLedger, introspect: Introspector, processes: ProcessRecords
    ):
        self._ledger = ledger
        self._introspect = introspect
        self._processes = processes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: dict[int, asyncio.Task[Any]] = {}
        """Live tasks by record id: the strong references."""
        self._record_of: dict[asyncio.Task[Any], TaskRecord] = {}
        """The same, the other way: which record the running task is (what does it wait for)."""
        self._summaries: dict[int, Callable[[Any], str]] = {}
        """How a tracked task's result reads, by record id, until it ends (launched tasks
        return their summary text themselves)."""
        self._awaiting_start = processes.awaiting
        """Process jobs not yet started (tested for emptiness once per task)."""
        self._done_callback = self._on_task_done
        """One bound method for every task's done-callback, made once."""
        self.step_timing = False
        """The step hook is installed (tasks/introspect.py): follow each task's steps."""
        processes.end_record = self.record_end

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.step_timing = self._introspect.timing

    def stop(self) -> None:
        self.step_timing = False

    # --- the per-task path ----------------------------------------------------------------

    def adopt(
        self,
        record: TaskRecord,
        coro: Any,
        summary: Callable[[Any], str] | None = None,
        name: str | None = None,
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as ``record``'s task; ``_on_task_done`` records how it ended."""
        assert self._loop is not None
        task = self._loop.create_task(coro, name=name)
        self._tasks[record.id] = task  # strong reference until it ends
        self._record_of[task] = record
        if summary is not None:
            self._summaries[record.id] = summary
        if self.step_timing:
            self._introspect.attach(record.id, task)
        task.add_done_callback(self._done_callback)
        return task

    def _on_task_done(self, task: asyncio.Task[Any]) -> None:
        """The done-callback of every task: drop the references, then record how it ended."""
        record = self._record_of.pop(task)
        record_id = record.id
        self._tasks.pop(record_id, None)
        summaries = self._summaries
        summary = summaries.pop(record_id, None) if summaries else None
        if self.step_timing:
            self._last_steps(record)
        if (
            summary is None
            and not self._awaiting_start
            and not task.cancelled()
            and task.exception() is None
        ):  # the usual end of a launched task: it returned its summary text
            self._ledger.finish(record, DONE, result=str(task.result()))
            return
        self.record_end(record, summary, task)

    def record_end(self, record: TaskRecord, summary: Summary, task: asyncio.Task[Any]) -> None:
        """Finish ``record`` as ``task`` ended: done (its summary), exception or cancelled."""
        processes = self._processes
        if processes and processes.ended_before_start(record, summary, task):
            return
        ledger = self._ledger
        if task.cancelled():
            if processes.still_cancelling(record):
                return
            ledger.finish(record, TaskState.CANCELLED)
            return
        error = task.exception()
        if error is not None:
            error_type, message = describe(error)
            ledger.finish(
                record, TaskState.EXCEPTION, error=(error_type, message, format_traceback(error))
            )
            if isinstance(error, BrokenProcessPool):
                processes.jobs.note_broken()
            return
        value = task.result()
        try:
            text = summary(value) if summary is not None else str(value)
        except Exception as failure:  # a scenario's summary must not lose the record
            text = f"(no summary: {type(failure).__name__})"
        ledger.finish(record, DONE, result=text)

    # --- reading and cancelling -----------------------------------------------------------

    def get(self, record_id: int) -> asyncio.Task[Any] | None:
        return self._tasks.get(record_id)

    def record_of(self, task: asyncio.Task[Any]) -> TaskRecord | None:
        """The record of ``task`` if it is one of these, else None."""
        return self._record_of.get(task)

    def view(self) -> Mapping[int, asyncio.Task[Any]]:
        """Record id -> its asyncio task, oldest first (a read-only view)."""
        return MappingProxyType(self._tasks)

    def tasks(self) -> list[asyncio.Task[Any]]:
        return list(self._tasks.values())

    def cancel(self, record_id: int) -> bool:
        """Cancel one task. False if it has already finished or does not exist."""
        task = self._tasks.get(record_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def cancel_all(self) -> int:
        cancelled = 0
        for task in list(self._tasks.values()):
            if not task.done():
                task.cancel()
                cancelled += 1
        return cancelled

    # --- insight (tasks/introspect.py) ----------------------------------------------------

    def sample_insight(self, record_ids: Iterable[int]) -> None:
        """Refresh the insight fields of these records (see ``TaskManager.sample_insight``)."""
        introspect = self._introspect
        for record_id in record_ids:
            record = self._ledger.get(record_id)
            task = self._tasks.get(record_id)
            if record is None or task is None:
                continue
            record.suspended_at = introspect.suspension(task)
            figures = introspect.steps_of(record_id)
            if figures is not None:
                record.busy_s, record.steps = figures.busy_s, figures.steps
                record.longest_step_s = figures.longest_s

    def _last_steps(self, record: TaskRecord) -> None:
        figures = self._introspect.detach(record.id)
        if figures is not None:
            record.busy_s, record.steps = figures.busy_s, figures.steps
            record.longest_step_s = figures.longest_s
