"""The ledger: every task's record, the counters, and what changed since when.

The manager writes it as tasks move (``mark_running``, ``progress``, ``_finish``); screens and
reports read it. Counters per state are kept as they change, and the ids that changed are
kept in the order they last changed, so ``changes_since`` costs O(changes), not O(tasks).
History is capped: past ``history_limit`` records, the oldest finished batches are dropped.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from loopscope.tasks.batch import Batch
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.timing import Timing, merge_spans, union_length


class TaskLedger:
    """Records, batches and counters, updated in O(1) per event."""

    def __init__(self, *, clock: Callable[[], float], history_limit: int):
        self.clock = clock
        self._clock_is_perf_counter = clock is time.perf_counter
        self.history_limit = history_limit
        self.version = 0
        """Bumped on every change to any record."""
        self.history_version = 0
        """Bumped when old batches are dropped to keep memory flat."""
        self.counts: dict[TaskState, int] = dict.fromkeys(TaskState, 0)
        """Tasks in each state, over the whole session (dropped history included)."""
        self.records: dict[int, TaskRecord] = {}
        self.batches: dict[int, Batch] = {}
        self._changed: dict[int, int] = {}
        self._live: dict[int, Batch] = {}
        """Concurrent batches not yet done: all the session figures need to look at live."""
        self._finished_spans: list[tuple[float, float]] = []
        """Spans of finished concurrent batches, merged: disjoint and sorted."""
        self._finished_wall = 0.0
        self._finished_run_sum = 0.0
        self._replayed: list[tuple[float, float]] = []
        """(concurrent wall, measured sequential) for each batch that was replayed."""
        self._on_loop: deque[tuple[float, float, str]] = deque(maxlen=200)
        self._awaiting_process: dict[int, TaskRecord] = {}
        self.gil_jobs_running = 0
        """CPU-bound jobs running in threads now: they starve the loop of the GIL."""

    # --- state changes (also the TaskContext API the kinds call) -------------------------

    def _touch(self, record: TaskRecord) -> None:
        self.version += 1
        record.version = self.version
        changed = self._changed
        changed.pop(record.id, None)
        changed[record.id] = self.version

    def _set_state(self, record: TaskRecord, state: TaskState) -> None:
        old = record.state
        batch = self.batches[record.batch_id]
        self.counts[old] -= 1
        self.counts[state] += 1
        batch.counts[old] -= 1
        batch.counts[state] += 1
        record.state = state
        self._touch(record)

    def mark_running(self, record: TaskRecord, at: float | None = None) -> None:
        """The task got its slot and is doing its work now. Ignored unless it is pending."""
        if record.state is not TaskState.PENDING:
            return
        now = self.clock()
        started = at if at is not None and self._clock_is_perf_counter else now
        started = min(max(started, record.created), now)
        record.started = started
        batch = self.batches[record.batch_id]
        if batch.first_start is None or started < batch.first_start:
            batch.first_start = started
        batch.running_start_sum += started
        self._set_state(record, TaskState.RUNNING)

    def mark_pending(self, record: TaskRecord) -> None:
        """The task must wait for a slot after all (a fetch queued for a connection)."""
        if record.state is not TaskState.RUNNING or record.started is None:
            return
        batch = self.batches[record.batch_id]
        batch.running_start_sum -= record.started
        record.started = None
        self._set_state(record, TaskState.PENDING)

    def progress(self, record: TaskRecord, done: int, total: int | None = None) -> None:
        record.bytes_done = done
        if total is not None:
            record.bytes_total = total
        self._touch(record)

    def _finish(self, record: TaskRecord, state: TaskState, at: float | None = None) -> None:
        if record.state.finished:
            return
        now = self.clock()
        if at is not None and self._clock_is_perf_counter:  # stamped elsewhere (isolated.py)
            now = min(max(at, record.started or record.created), now)
        batch = self.batches[record.batch_id]
        record.finished = now
        if record.state is TaskState.RUNNING and record.started is not None:
            batch.running_start_sum -= record.started
            run = now - record.started
            batch.finished_run_sum += run
            if not batch.sequential:
                self._finished_run_sum += run
            if batch.last_finish is None or now > batch.last_finish:
                batch.last_finish = now
        self._awaiting_process.pop(record.id, None)
        self._set_state(record, state)
        if batch.counts[TaskState.RUNNING] == 0:
            batch.running_start_sum = 0.0  # no float drift across long sessions
        self._check_batch_done(batch)

    def _track_live(self, batch: Batch) -> None:
        if not batch.sequential:
            self._live[batch.id] = batch

    def _check_batch_done(self, batch: Batch) -> None:
        if not batch.done or batch._done.is_set():
            return
        batch._done.set()
        if not batch.sequential and (span := batch.span(self.clock())) is not None:
            self._finished_spans = merge_spans([*self._finished_spans, span])
            self._finished_wall = sum(end - start for start, end in self._finished_spans)
        self._live.pop(batch.id, None)
        self._forget_old_history()

    def _forget_old_history(self) -> None:
        """Drop the oldest finished batches while history holds more than ``history_limit``."""
        if len(self.records) <= self.history_limit:
            return
        newest = max(self.batches)
        for batch_id in list(self.batches):
            if len(self.records) <= self.history_limit:
                break
            batch = self.batches[batch_id]
            if batch_id == newest or not batch.done or batch.launching:
                continue
            if any(b.replay_of == batch_id and not b.done for b in self.batches.values()):
                continue
            for record in batch.records:
                self.records.pop(record.id, None)
                self._changed.pop(record.id, None)
            del self.batches[batch_id]
            self.history_version += 1
        self.version += 1

    # --- reading --------------------------------------------------------------------------

    def changes_since(self, version: int) -> tuple[int, list[int]]:
        """``(current version, ids of records changed after version)``, newest first.

        Costs O(changes), not O(tasks): the ids are kept in the order they last changed.
        """
        ids: list[int] = []
        for record_id, changed_at in reversed(self._changed.items()):
            if changed_at <= version:
                break
            ids.append(record_id)
        return self.version, ids

    def get(self, task_id: int) -> TaskRecord | None:
        return self.records.get(task_id)

    @property
    def last_batch(self) -> Batch | None:
        """The newest batch that is not a replay."""
        for batch in reversed(self.batches.values()):
            if not batch.sequential:
                return batch
        return None

    @property
    def current_batch(self) -> Batch | None:
        """The newest batch of any kind, replays included."""
        return next(reversed(self.batches.values()), None)

    @property
    def live_count(self) -> int:
        return self.counts[TaskState.PENDING] + self.counts[TaskState.RUNNING]

    def session_timing(self) -> Timing:
        """Gain over the whole session: concurrent batches only (replays are the yardstick).

        Wall is the time during which any batch was running (gaps between batches excluded).
        The measured figures cover only the batches that were replayed.
        """
        now = self.clock()
        live_spans = []
        estimate = self._finished_run_sum
        for batch in self._live.values():
            if (span := batch.span(now)) is not None:
                live_spans.append(span)
            running = batch.counts[TaskState.RUNNING]
            if running:
                estimate += max(0.0, running * now - batch.running_start_sum)
        wall = self._finished_wall
        if live_spans:
            # only the newest finished spans can overlap the live ones: re-merge just those
            earliest = min(start for start, _ in live_spans)
            finished = self._finished_spans
            first = len(finished)
            while first and finished[first - 1][1] >= earliest:
                first -= 1
            tail = finished[first:]
            wall += union_length([*tail, *live_spans]) - sum(e - s for s, e in tail)
        measured_wall = sum(w for w, _ in self._replayed) or None
        measured = sum(seq for _, seq in self._replayed) or None
        return Timing(wall, estimate, measured, measured_wall)

    def blame(self, start: float, end: float) -> str | None:
        """What the manager knows held the loop between ``start`` and ``end``, if anything:
        a task that ran on it, or else CPU-bound thread jobs holding the GIL."""
        best, best_overlap = None, 0.0
        for begin, finish, label in self._on_loop:
            overlap = min(end, finish) - max(start, begin)
            if overlap > best_overlap:
                best, best_overlap = label, overlap
        if best is None and self.gil_jobs_running:
            jobs = self.gil_jobs_running
            best = f"the GIL: {jobs} CPU-bound thread job{'s' if jobs != 1 else ''} running"
        return best

    def note_on_loop(self, start: float, end: float, label: str) -> None:
        """Remember that ``label`` held the loop from ``start`` to ``end`` (for blame)."""
        self._on_loop.append((start, end, label))
