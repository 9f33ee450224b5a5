"""The ledger: every task's record, the batches, the counters, and what changed since when.

The TaskManager owns one and changes it only through the methods below (``add_record``,
``mark_running``, ``finish`` ...); screens and reports read it. Each batch counts its tasks
per state as they change (the session's counts add up the open batches and the folded counts
of the completed ones), and the ids that changed are kept in the order they last changed, so
``changes_since`` costs O(changes), not O(tasks). History is capped: past ``history_limit``
records, the oldest finished batches are dropped.

Completing a batch costs O(1) amortised whatever the age of the session: the finished spans
that can no longer overlap anything are folded into one number, so only the few that may
still overlap a live batch are kept.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections import Counter, OrderedDict
from collections.abc import Callable

from loopscope.tasks.batch import Batch
from loopscope.tasks.records import FINISHED_STATES, TaskRecord, TaskState
from loopscope.tasks.safe_text import printable, printable_or_none
from loopscope.tasks.spec import TaskSpec
from loopscope.tasks.timing import Timing, union_length

# Module constants: on Python 3.11 every ``TaskState.X`` read goes through the slow hook of
# ``EnumType.__getattr__``, and these are read several times per task.
PENDING, RUNNING = TaskState.PENDING, TaskState.RUNNING
DONE, EXCEPTION, CANCELLED = TaskState.DONE, TaskState.EXCEPTION, TaskState.CANCELLED


class TaskLedger:
    """Records, batches and counters, updated in O(1) per event."""

    def __init__(self, *, clock: Callable[[], float], history_limit: int):
        self.clock = clock
        self._clock_is_perf_counter = clock is time.perf_counter
        self.history_limit = history_limit
        self.version = 0
        """Bumped on every change to any record or batch."""
        self.history_version = 0
        """Bumped when old batches are dropped to keep memory flat."""
        self._open: dict[int, Batch] = {}
        """Batches whose counts are not folded into ``_folded_counts`` yet: the incomplete
        ones (and one that got a record after it completed). ``counts`` adds them up, so a
        state change updates only its batch's counts (README "Benchmarks" (c))."""
        self._folded_counts: dict[TaskState, int] = dict.fromkeys(TaskState, 0)
        """Tasks in each state of the completed batches, dropped history included."""
        self.records: dict[int, TaskRecord] = {}
        self.batches: dict[int, Batch] = {}
        self._record_ids = itertools.count(1)
        self._batch_ids = itertools.count(1)
        self._changed: dict[int, int] = {}
        self._live: OrderedDict[int, Batch] = OrderedDict()
        """Concurrent batches not yet done, oldest first: the session figures look at these."""
        self._spans: list[tuple[float, float]] = []
        """Spans of finished concurrent batches that may still overlap a live one: disjoint,
        sorted. The others are folded into ``_folded_wall``."""
        self._spans_wall = 0.0
        self._folded_wall = 0.0
        self._finished_run_sum = 0.0
        self._replayed_wall = 0.0
        """Summed concurrent wall of the batches that were replayed."""
        self._replayed_sequential = 0.0
        """Summed measured sequential time of those replays."""
        self._live_replays: Counter[int] = Counter()
        """Replays not yet done, by the batch they replay: that batch must stay in history."""
        self._last_target = ""
        self._last_safe_target = ""
        """The last target escaped, and how: every copy of a spec shares one target string."""
        self.span_work = 0
        """Spans visited while completing batches (a test checks it stays O(1) per batch)."""
        self.in_flight = 0
        """Batches launched and not yet complete, replays included."""
        self.on_busy: Callable[[bool], None] | None = None
        """Told True when a batch starts with none in flight, False when the last one
        completes (the manager raises the collector's threshold meanwhile, busy_gc.py)."""

    # --- batches --------------------------------------------------------------------------

    def new_batch(
        self,
        specs: tuple[TaskSpec, ...],
        *,
        label: str = "",
        planned: int = 0,
        sequential: bool = False,
        replay_of: int | None = None,
    ) -> Batch:
        """A new batch, launching: it is done once ``launch_finished`` and all its tasks end."""
        batch = Batch(
            id=next(self._batch_ids), specs=specs, created=self.clock(), planned=planned,
            sequential=sequential, replay_of=replay_of, label=label,
        )
        self.batches[batch.id] = batch
        self._open[batch.id] = batch
        self.in_flight += 1
        if self.in_flight == 1 and self.on_busy is not None:
            self.on_busy(True)
        if not sequential:
            self._live[batch.id] = batch
        if replay_of is not None:
            self._live_replays[replay_of] += 1
        self.version += 1
        return batch

    def launch_finished(self, batch: Batch) -> None:
        """No more tasks will be added to ``batch``."""
        if not batch.launching:
            return
        batch.launching = False
        batch.planned = len(batch.records)
        self.version += 1
        self._check_batch_done(batch)

    def record_measurement(self, original: Batch, wall_s: float, sequential_s: float) -> None:
        """A clean process measured ``original`` again (tasks/clean_replay.py): its wall
        there and its sequential replay's, taken side by side away from any screen."""
        original.measured_wall_s = wall_s
        original.measured_sequential_s = sequential_s
        self._replayed_wall += wall_s
        self._replayed_sequential += sequential_s
        self.version += 1

    def record_replay(self, original: Batch, replay: Batch) -> None:
        """``replay`` (a sequential replay of ``original``) completed: keep the measured truth."""
        now = self.clock()
        measured = replay.timing(now).wall_s
        original.measured_sequential_s = measured
        self._replayed_wall += original.timing(now).wall_s
        self._replayed_sequential += measured
        self.version += 1

    # --- records --------------------------------------------------------------------------

    def add_record(
        self, batch: Batch, kind: str, target: str, *, planned: bool = True
    ) -> TaskRecord:
        """A new pending record in ``batch``. With ``planned=False`` it was not counted in the
        batch's plan (a tracked task added as it comes), so the plan grows by one."""
        if target is not self._last_target:  # the copies of one spec share their target
            self._last_target = target
            self._last_safe_target = printable(target)  # a name or URL may hold escapes
        record_id = next(self._record_ids)
        record = TaskRecord(record_id, batch.id, kind, self._last_safe_target, self.clock())
        self.records[record_id] = record
        batch.records.append(record)
        if not planned:
            batch.planned += 1
        batch.counts[PENDING] += 1
        if batch.id not in self._open:  # a record after its batch completed (rare)
            self._unfold(batch)
        self.version = version = self.version + 1
        record.version = version
        self._changed[record_id] = version  # a new id: it goes last, no need to pop it first
        return record

    def touch(self, record: TaskRecord) -> None:
        """Say that ``record`` changed (screens redraw it)."""
        self.version = version = self.version + 1
        record.version = version
        changed = self._changed
        changed.pop(record.id, None)  # keep ids in the order they last changed
        changed[record.id] = version

    def _set_state(self, record: TaskRecord, batch: Batch, state: TaskState) -> None:
        """Move ``record`` to ``state`` (its batch's counts) and touch it. ``mark_running``
        and ``finish`` do the same inline: they run for every task (README "Benchmarks" (c))."""
        counts = batch.counts
        counts[record.state] -= 1
        counts[state] += 1
        record.state = state
        self.touch(record)

    def mark_running(self, record: TaskRecord, at: float | None = None) -> None:
        """The task got its slot and is doing its work now. Ignored unless it is pending.

        ``at`` is a ``time.perf_counter`` stamp taken elsewhere (a worker thread or process);
        it is used only when the ledger's clock is perf_counter too.
        """
        if record.state is not PENDING:
            return
        now = self.clock()
        if at is None:
            started = now
        else:
            started = at if self._clock_is_perf_counter else now
            started = min(max(started, record.created), now)
        record.started = started
        batch = self.batches[record.batch_id]
        first = batch.first_start
        if first is None or started < first:
            batch.first_start = started
        batch.running_start_sum += started
        # _set_state(record, batch, RUNNING), inlined: this runs once per task
        counts = batch.counts
        counts[PENDING] -= 1
        counts[RUNNING] += 1
        record.state = RUNNING
        self.version = version = self.version + 1
        record.version = version
        changed = self._changed
        record_id = record.id
        del changed[record_id]  # a live record is always in the log: move it to the end
        changed[record_id] = version

    def mark_pending(self, record: TaskRecord, waiting_for: str | None = None) -> None:
        """The task must wait after all (a fetch queued for a connection)."""
        if record.state is not RUNNING or record.started is None:
            return
        batch = self.batches[record.batch_id]
        batch.running_start_sum -= record.started
        record.started = None
        if waiting_for is not None:
            record.waiting_for = waiting_for
        self._set_state(record, batch, PENDING)

    def waiting(self, record: TaskRecord, what: str) -> None:
        """A pending task now waits for ``what`` (a connection slot, a worker ...)."""
        if record.state is PENDING and record.waiting_for != what:
            record.waiting_for = what
            self.version = version = self.version + 1  # touch(record), inlined: once a task
            record.version = version
            changed = self._changed
            record_id = record.id
            del changed[record_id]  # a live record is always in the log: move it to the end
            changed[record_id] = version

    def mark_cancelling(self, record: TaskRecord, reason: str) -> None:
        """The task was cancelled but its work cannot be interrupted: say so until it ends."""
        if not record.state.finished:
            record.cancelling = reason
            self.touch(record)

    def progress(self, record: TaskRecord, done: int, total: int | None = None) -> None:
        record.bytes_done = done
        if total is not None:
            record.bytes_total = total
        self.touch(record)

    def finish(
        self,
        record: TaskRecord,
        state: TaskState,
        *,
        result: str = "",
        error: tuple[str, str | None, str | None] | None = None,
        at: float | None = None,
    ) -> None:
        """The task ended in ``state`` (done, exception or cancelled). Once only.

        ``error`` is (type, message, traceback) for the exception state. ``at`` is when it
        ended, if another process stamped it (tasks/isolated.py), on the perf_counter clock.
        """
        old = record.state
        if old in FINISHED_STATES:
            return
        now = self.clock()
        if at is not None and self._clock_is_perf_counter:  # stamped elsewhere (isolated.py)
            now = min(max(at, record.started or record.created), now)
        batch = self.batches[record.batch_id]
        record.finished = now
        # Text from outside (a reason phrase, a file name, an error) is stored escaped, so no
        # screen ever writes a terminal escape sequence it did not mean (safe_text.py). Text
        # with nothing to escape (str.isprintable, in C) is kept as it is: the usual case.
        if result:
            record.result = result if result.isprintable() else printable(result)
        if error is not None:
            kind, message, traceback = error
            record.error_type = printable(kind)
            record.error_message = printable_or_none(message)
            record.traceback = printable_or_none(traceback, keep_lines=True)
        started = record.started
        if old is RUNNING and started is not None:
            batch.running_start_sum -= started
            run = now - started
            batch.finished_run_sum += run
            if not batch.sequential:
                self._finished_run_sum += run
        last = batch.last_finish
        if last is None or now > last:
            batch.last_finish = now
        # _set_state(record, batch, state), inlined: this runs once per task
        counts = batch.counts
        counts[old] -= 1
        counts[state] += 1
        record.state = state
        self.version = version = self.version + 1
        record.version = version
        changed = self._changed
        record_id = record.id
        del changed[record_id]  # a live record is always in the log: move it to the end
        changed[record_id] = version
        if counts[RUNNING] == 0:
            batch.running_start_sum = 0.0  # no float drift across long sessions
        if not batch.launching and (
            counts[DONE] + counts[EXCEPTION] + counts[CANCELLED] >= batch.planned
        ):
            self._check_batch_done(batch)

    # --- completing batches, O(1) amortised -----------------------------------------------

    def _check_batch_done(self, batch: Batch) -> None:
        if not batch.done or batch.completed:
            return
        batch.complete()
        self._fold(batch)
        self.in_flight -= 1
        if self.in_flight == 0 and self.on_busy is not None:
            self.on_busy(False)
        replayed = batch.replay_of
        if replayed is not None and replayed in self._live_replays:
            self._live_replays[replayed] -= 1  # never below one: a -1 would pin it forever
            if self._live_replays[replayed] <= 0:
                del self._live_replays[replayed]
        if self._live.pop(batch.id, None) is not None:
            self._add_finished_span(batch.span(self.clock()))
        self._forget_old_history()

    def _fold(self, batch: Batch) -> None:
        """A completed batch's counts go into the folded ones (they change no more)."""
        if self._open.pop(batch.id, None) is not None:
            folded = self._folded_counts
            for state, n in batch.counts.items():
                folded[state] += n

    def _unfold(self, batch: Batch) -> None:
        """A folded batch changes again (a tracked task added after it completed): its
        counts are added up live again, from now on."""
        folded = self._folded_counts
        for state, n in batch.counts.items():
            folded[state] -= n
        folded[PENDING] += 1  # the new record: in the batch's counts, never folded
        self._open[batch.id] = batch

    def _add_finished_span(self, span: tuple[float, float]) -> None:
        """Add a finished batch's span to the session's wall.

        Batches are launched in clock order, so the oldest live batch will cover everything
        from its launch until at least now: a finished span that starts after that launch adds
        nothing, ever, and one that ends before it can never overlap anything again (it is
        folded into a sum). At most one kept span straddles the oldest live launch.
        """
        self.span_work += 1
        earliest = next(iter(self._live.values())).created if self._live else float("inf")
        start, end = span
        if start >= earliest:
            return  # inside the oldest live batch's span
        spans = self._spans
        index = bisect.bisect_left(spans, span)
        low = index
        while low > 0 and spans[low - 1][1] >= start:
            low -= 1
            start, end = min(start, spans[low][0]), max(end, spans[low][1])
        high = index
        while high < len(spans) and spans[high][0] <= end:
            end = max(end, spans[high][1])
            high += 1
        self.span_work += high - low
        spans[low:high] = [(start, end)]
        kept = []
        for s, e in spans:
            self.span_work += 1
            if e <= earliest:
                self._folded_wall += e - s
            else:
                kept.append((s, e))
        self._spans = kept
        self._spans_wall = sum(e - s for s, e in kept)

    def _forget_old_history(self) -> None:
        """Drop the oldest finished batches while history holds more than ``history_limit``."""
        if len(self.records) <= self.history_limit:
            return
        newest = next(reversed(self.batches))
        dropped = []
        for batch_id, batch in self.batches.items():
            if len(self.records) <= self.history_limit:
                break
            if batch_id == newest or not batch.completed or batch_id in self._live_replays:
                continue
            for record in batch.records:
                self.records.pop(record.id, None)
                self._changed.pop(record.id, None)
            self._fold(batch)  # its counts stay in the session's
            dropped.append(batch_id)
        for batch_id in dropped:
            del self.batches[batch_id]
        if dropped:
            self.history_version += 1
            self.version += 1

    def clear_finished(self) -> int:
        """Drop every finished batch and start the session's figures again; returns how many
        records went.

        Batches still in flight stay whole (their finished tasks too), and so does a batch
        whose replay is running. The counts and the session figures are then recomputed from
        what is left, so they describe what the screen still shows: after a clear with nothing
        running, everything reads zero.
        """
        dropped = 0
        for batch_id, batch in list(self.batches.items()):
            if not batch.completed or batch_id in self._live_replays:
                continue
            for record in batch.records:
                self.records.pop(record.id, None)
                self._changed.pop(record.id, None)
                dropped += 1
            del self.batches[batch_id]
            self._open.pop(batch_id, None)
        folded = self._folded_counts = dict.fromkeys(TaskState, 0)
        for batch in self.batches.values():
            if batch.id not in self._open:
                for state, n in batch.counts.items():
                    folded[state] += n
        self._spans = []
        self._spans_wall = 0.0
        self._folded_wall = 0.0
        self._finished_run_sum = sum(batch.finished_run_sum for batch in self._live.values())
        self._replayed_wall = 0.0
        self._replayed_sequential = 0.0
        self.history_version += 1
        self.version += 1
        return dropped

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
    def counts(self) -> dict[TaskState, int]:
        """Tasks in each state, over the whole session (dropped history included); a new
        dict each time, added up from the folded counts and the open batches (few)."""
        counts = dict(self._folded_counts)
        for batch in self._open.values():
            for state, n in batch.counts.items():
                counts[state] += n
        return counts

    @property
    def live_count(self) -> int:
        live = 0
        for batch in self._open.values():
            counts = batch.counts
            live += counts[PENDING] + counts[RUNNING]
        return live

    def session_timing(self) -> Timing:
        """Gain over the whole session: concurrent batches only (replays are the yardstick).

        Wall is the time during which any batch was in flight (gaps between batches excluded).
        The measured figures cover only the batches that were replayed.
        """
        now = self.clock()
        live_spans = []
        estimate = self._finished_run_sum
        for batch in self._live.values():
            live_spans.append(batch.span(now))
            running = batch.counts[TaskState.RUNNING]
            if running:
                estimate += max(0.0, running * now - batch.running_start_sum)
        wall = self._folded_wall + self._spans_wall
        if live_spans:
            # only the kept finished spans can overlap the live ones: re-merge just those
            wall += union_length([*self._spans, *live_spans]) - self._spans_wall
        measured_wall = self._replayed_wall or None
        measured = self._replayed_sequential or None
        return Timing(wall, estimate, measured, measured_wall)
