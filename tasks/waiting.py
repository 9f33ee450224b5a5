"""What a pending task waits for, said on its record (``TaskRecord.waiting_for``).

A task the manager launched can be pending for reasons the task itself never mentions: a
thread worker, a process worker, a connection slot, the sample files being generated, or a
loop too busy to give it its first step. The manager's resources report the wait from
wherever they notice it (a pool's submit, a slot's queue, the lag monitor's spike), and
this component finds the record it is about: the running task's, or each launched task
still waiting for its first step through a stall.

Kept out of the manager because it is one concern with one state (the ledger's records of
live tasks) and several callers, each a callback handed to a resource at construction.
"""

from __future__ import annotations

import asyncio

from loopscope.tasks.lag import LagSpike
from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.live_tasks import LiveTasks
from loopscope.tasks.records import TaskRecord, TaskState

PENDING = TaskState.PENDING
"""A module constant: on Python 3.11 reading ``TaskState.X`` goes through
``EnumType.__getattr__``'s slow hook."""


class WaitReasons:
    """Notes on the right pending record what it waits for."""

    def __init__(self, ledger: TaskLedger, live: LiveTasks) -> None:
        self._ledger = ledger
        self._live = live

    def current_record(self) -> TaskRecord | None:
        """The record of the task running now, if it is one of the manager's."""
        try:
            task = asyncio.current_task()
        except RuntimeError:  # not on the loop (a worker thread)
            return None
        return self._live.record_of(task) if task is not None else None

    def current_waits(self, what: str) -> None:
        """The running task, if pending, now waits for ``what``."""
        record = self.current_record()
        if record is not None and record.state is PENDING:
            self._ledger.waiting(record, what)

    def for_thread(self) -> None:
        """A job was submitted to the thread pool (its ``on_submit``)."""
        self.current_waits("a thread worker")

    def busy_loop(self, began: float, spike: LagSpike) -> None:
        """Launched tasks still waiting for their first step through a stall waited for a
        busy loop: say so on their records (tasks waiting for something named keep it)."""
        ledger = self._ledger
        for record_id in self._live.view():
            record = ledger.records.get(record_id)
            if record is None:
                continue
            if record.created >= began:
                break  # the rest were created after the stall began
            if record.state is PENDING and record.waiting_for is None:
                batch = ledger.batches.get(record.batch_id)
                if batch is not None and batch.specs:  # launched, not a scenario's own task
                    ledger.waiting(record, f"a busy event loop ({spike.lag_ms:,.0f} ms stall)")
