"""What one batch to the viewer holds: the tasks that changed, a few that did not (their idle
time grows), what finished and was forgotten, executor jobs, lag, spikes, warnings, loops.

Built in the sender's thread while it holds the GIL the program needs, so a batch built while
the program works stops taking changed tasks once it has used ``budget`` seconds of the
thread's CPU; the rest stay queued for the next batch. Without the budget a burst of 100,000
short tasks made one batch of 2,000 rows that held the program back for 45-60 ms, five times
the sender's duty over a one-second run.
"""

from __future__ import annotations

import time
from typing import Any

from loopscope.tasks.agent.recorder import Recorder
from loopscope.tasks.agent.rows import RowBuilder
from loopscope.tasks.units import human_seconds

BATCH_BUDGET = 0.005
"""Seconds of the sender thread's CPU a batch may spend on changed tasks while the program
works (about 250 rows)."""
ROW_CHUNK = 50
"""Changed tasks taken at a time between looks at the budget."""


class BatchBuilder:
    """Builds the sender's batches (``wire``'s batch message) from a ``Recorder``."""

    def __init__(self, recorder: Recorder, status: dict[str, Any], *, max_rows: int = 2000,
                 refresh_rows: int = 200) -> None:
        self.recorder = recorder
        self.rows = RowBuilder(recorder)
        self.status = status
        """The program status row (``wire.status_row`` shape); the runner updates it."""
        self.max_rows = max_rows
        self.refresh_rows = refresh_rows
        self.full = False
        """The next batch is a full one: a viewer just connected and must be sent everything."""
        self.seq = 0
        self._refresh: list[int] = []
        """Keys of live records to refresh in turn: keys, not records, so that a task that
        finishes meanwhile leaves no record alive here."""
        self._refresh_at = 0
        self._loop_tasks: dict[int, int] = {}
        self._loop_tasks_t = 0.0

    def build(self, *, final: bool, limit: int | None = None, budget: float | None = None,
              merged: int = 0) -> dict[str, Any]:
        """The next batch: at most ``limit`` changed tasks (``max_rows``), and no more than fit
        in ``budget`` seconds of this thread's CPU (None: no such bound). ``merged`` is the
        sender's count of batches merged while a slow viewer read."""
        try:
            return self._build(final=final, limit=limit, budget=budget, merged=merged)
        finally:
            self.rows.forget_tasks()  # the agent keeps no task alive between batches

    def _build(self, *, final: bool, limit: int | None, budget: float | None,
               merged: int) -> dict[str, Any]:
        recorder = self.recorder
        rows = self.rows
        now = recorder.clock()
        deadline = None if budget is None else time.thread_time() + budget
        full = self.full
        if full:
            self.full = False
            recorder.gone.clear()
            recorder.discard_dirty()
            for kept in [*recorder.live.values(), *recorder.finished]:
                if not isinstance(kept, tuple):
                    kept.dirty = True
                    # a live Python record by its key (Recorder.dirty); a C record, or a
                    # failed one (kept as a record), itself
                    queued = kept.end is not None or recorder.accelerated
                    recorder.dirty[kept.seq] = kept if queued else kept.task_id
                elif not recorder.accelerated:  # frozen: the Python path's queue only
                    recorder.dirty[kept[0]] = kept
        left = self.max_rows if limit is None else limit
        task_rows: list[list[Any]] = []
        while left > 0 and recorder.dirty:
            take = min(ROW_CHUNK, left)
            left -= take
            records = [
                record for record in recorder.take_dirty(take) if not recorder.evicted(record)
            ]
            rows.find_tasks(records)
            task_rows.extend(rows.task_row(record, now) for record in records)
            if deadline is not None and time.thread_time() > deadline:
                break
        if deadline is None or time.thread_time() <= deadline:
            task_rows.extend(self._refreshed(now, final))
        gone = []
        while recorder.gone:
            gone.append(recorder.gone.popleft())
        jobs: dict[int, list[Any]] = {}
        while recorder.dirty_jobs:
            job = recorder.dirty_jobs.popleft()
            jobs[job[0]] = list(job)
        lag = _drain(recorder.lag)
        spikes = [rows.spike_row(raw) for raw in _drain(recorder.spikes)]
        warnings = [rows.warning_row(raw) for raw in _drain(recorder.warnings)]
        self.seq += 1
        return {
            "kind": "batch", "seq": self.seq, "t": now, "full": full, "final": final,
            "tasks": task_rows, "gone": gone, "jobs": list(jobs.values()), "lag": lag,
            "spikes": spikes, "warnings": warnings, "loops": self._loop_rows(now),
            "status": dict(self.status), "counts": self._counts(merged),
        }

    def _refreshed(self, now: float, final: bool) -> list[list[Any]]:
        """A few live tasks that did not step (idle time grows; stuck tasks get a warning)."""
        recorder = self.recorder
        if final:
            return []
        if self._refresh_at >= len(self._refresh):
            self._refresh = list(recorder.live)
            self._refresh_at = 0
        keys = self._refresh[self._refresh_at : self._refresh_at + self.refresh_rows]
        self._refresh_at += len(keys)
        live = recorder.live
        records = [
            record for record in map(live.get, keys)
            if record is not None and record.end is None and not record.dirty
        ]
        self.rows.find_tasks(records)
        rows = []
        for record in records:
            row = self.rows.task_row(record, now)
            rows.append(row)
            if (row[6] == "suspended" and not record.warned_stuck
                    and now - record.last_end >= recorder.stuck_s):
                record.warned_stuck = True
                where = _innermost_program_frame(row[16])
                place = f" at {where[1]}:{where[2]}" if where else ""
                recorder.warn(
                    "stuck", record.seq, where,
                    f"suspended for {human_seconds(now - record.last_end)}{place}", now,
                )
        return rows

    def _loop_rows(self, now: float) -> list[list[Any]]:
        recorder = self.recorder
        if now - self._loop_tasks_t > 1.0:
            counts: dict[int, int] = {}
            if len(recorder.loops) == 1:  # the usual case: no walk over every live record
                counts[recorder.loops[0].id] = len(recorder.live)
            else:
                for record in list(recorder.live.values()):
                    counts[record.loop.id] = counts.get(record.loop.id, 0) + 1
            self._loop_tasks = counts
            self._loop_tasks_t = now
        return [
            self.rows.loop_row(state, now, self._loop_tasks.get(state.id, 0))
            for state in recorder.loops
        ]

    def _counts(self, merged: int) -> dict[str, Any]:
        recorder = self.recorder
        dropped = {key: value for key, value in recorder.all_dropped().items() if value}
        if merged:
            dropped["merged_batches"] = merged
        return {"created": recorder.created, "finished": dict(recorder.ended),
                "dropped": dropped}


def _drain(queue: Any) -> list[Any]:
    items = []
    while queue:
        items.append(queue.popleft())
    return items


def _innermost_program_frame(chain: list[list[Any]]) -> list[Any] | None:
    frame: list[Any]  # reversed() of a list of Any-holding lists types its items as Any
    for frame in reversed(chain):
        if len(frame) == 3:
            return frame
    return chain[-1] if chain else None
