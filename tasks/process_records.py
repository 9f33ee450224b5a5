"""The records of jobs run in the manager's process pool: when they start, and how they end.

A process job's record is pending until a worker announces that it picked the job up (the
announcement travels by its own queue, tasks/process_jobs.py). Two races follow from that, and
this module owns both:

* the job may end before its start announcement reaches the loop: the record is then finished
  when the announcement arrives (or after ``CLOSE_GRACE_S`` without one), so it has a start;
* a cancelled job goes on in its worker (a process cannot be interrupted): the record shows
  "cancelling" with the reason until the worker is free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.process_jobs import ProcessJobs, call_soon
from loopscope.tasks.records import TaskRecord, TaskState

CLOSE_GRACE_S = 1.0
"""How long a finished job's record waits for its start announcement."""
PROCESS_CANCELLING = (
    "cancelled; a job running in a process cannot be interrupted: its worker finishes it first"
)

Summary = Callable[[Any], str] | None
EndRecord = Callable[[TaskRecord, Summary, "asyncio.Task[Any]"], None]
"""How a record ends once its task did (``LiveTasks.record_end``)."""


class ProcessRecords:
    """The process pool's jobs and their records' starts and ends."""

    def __init__(
        self,
        ledger: TaskLedger,
        pool_size: int,
        *,
        on_broken: Callable[[], None],
        on_pool_started: Callable[[float, float], None],
    ):
        self._ledger = ledger
        self.jobs = ProcessJobs(
            pool_size, self._started, on_broken=on_broken, on_pool_started=on_pool_started
        )
        """The pool (started on first use)."""
        self.awaiting: dict[int, TaskRecord] = {}
        """Records whose job has not announced its start yet, by record id (never replaced:
        the done-callback holds this dict and tests it for emptiness, the fast way)."""
        self._finish_on_start: dict[int, tuple[Summary, asyncio.Task[Any]]] = {}
        """Jobs that ended before their start announcement arrived."""
        self.end_record: EndRecord | None = None
        """Set by the owner: how a record ends (called when a late start arrives)."""
        self.closed = False

    def __bool__(self) -> bool:
        """True while some record waits for its job's start (the done-callback's fast test)."""
        return bool(self.awaiting)

    def expect_start(self, record: TaskRecord) -> None:
        self.awaiting[record.id] = record

    def ended_before_start(
        self, record: TaskRecord, summary: Summary, task: asyncio.Task[Any]
    ) -> bool:
        """``task`` ended well before its job's start announcement arrived: hold the record
        until it does (True), so the record has a start. False: end it now."""
        if (
            record.id in self.awaiting
            and not task.cancelled()
            and task.exception() is None
            and not self.closed
        ):
            self._finish_on_start[record.id] = (summary, task)
            asyncio.get_running_loop().call_later(
                CLOSE_GRACE_S, self.finish_without_start, record.id
            )
            return True
        self.awaiting.pop(record.id, None)
        return False

    def still_cancelling(self, record: TaskRecord) -> bool:
        """A cancelled task whose job still runs in a worker: the record shows cancelling
        until the worker is free, then ends cancelled (True). False: nothing runs."""
        job = self.jobs.running(record.id)
        if job is None or self.closed:
            return False
        ledger = self._ledger
        ledger.mark_cancelling(record, PROCESS_CANCELLING)
        loop = asyncio.get_running_loop()
        job.add_done_callback(
            lambda _: call_soon(loop, ledger.finish, record, TaskState.CANCELLED)
        )
        return True

    def _started(self, job_id: int, at: float) -> None:
        record = self.awaiting.pop(job_id, None)
        if record is not None:
            self._ledger.mark_running(record, at)
            finished = self._finish_on_start.pop(job_id, None)
            if finished is not None and self.end_record is not None:
                self.end_record(record, *finished)

    def finish_without_start(self, job_id: int) -> None:
        finished = self._finish_on_start.pop(job_id, None)
        record = self.awaiting.pop(job_id, None)
        if finished is not None and record is not None and self.end_record is not None:
            self.end_record(record, *finished)

    async def close(self) -> None:
        """Stop the pool (if it started); then the jobs that ended well but never announced
        their start end now."""
        if self.jobs.started:
            await asyncio.to_thread(self.jobs.stop)
        await asyncio.sleep(0)  # the process jobs' last callbacks
        self.finish_all_without_start()  # ended well; their start never came

    def finish_all_without_start(self) -> None:
        """On close: the jobs that ended well but never announced their start end now."""
        for job_id in list(self._finish_on_start):
            self.finish_without_start(job_id)
