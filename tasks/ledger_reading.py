"""What the TaskManager shows of its ledger: records, batches, counts and session figures.

Screens and reports read these through the manager (``manager.counts``, ``manager.records``...).
They only read: every change goes through the ledger's own methods, called by the manager.
Kept apart so the manager's module holds what it does, not what it lends out.
"""

from __future__ import annotations

from loopscope.tasks.batch import Batch
from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.timing import Timing


class LedgerReading:
    """Read-only views of ``self.ledger`` (the TaskManager's)."""

    ledger: TaskLedger

    @property
    def records(self) -> dict[int, TaskRecord]:
        return self.ledger.records

    @property
    def batches(self) -> dict[int, Batch]:
        return self.ledger.batches

    @property
    def counts(self) -> dict[TaskState, int]:
        return self.ledger.counts

    @property
    def version(self) -> int:
        return self.ledger.version

    @property
    def history_version(self) -> int:
        return self.ledger.history_version

    @property
    def history_limit(self) -> int:
        return self.ledger.history_limit

    def changes_since(self, version: int) -> tuple[int, list[int]]:
        return self.ledger.changes_since(version)

    def get(self, task_id: int) -> TaskRecord | None:
        return self.ledger.get(task_id)

    @property
    def last_batch(self) -> Batch | None:
        return self.ledger.last_batch

    @property
    def current_batch(self) -> Batch | None:
        return self.ledger.current_batch

    @property
    def live_count(self) -> int:
        return self.ledger.live_count

    @property
    def batches_in_flight(self) -> int:
        """Batches launched and not yet complete (replays included)."""
        return self.ledger.in_flight

    def session_timing(self) -> Timing:
        return self.ledger.session_timing()
