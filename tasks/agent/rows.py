"""Turning the recorder's bookkeeping into wire rows: names, states, await chains, tracebacks.

Runs in the sender's thread, so the cost of reading frames and formatting tracebacks is paid
there (under the GIL, but off the loop's hot path), and only for tasks that changed.
"""

from __future__ import annotations

import asyncio
import threading
import traceback
from collections.abc import Iterable
from types import CodeType
from typing import Any

from loopscope.tasks.agent.places import is_library_file, line_at
from loopscope.tasks.agent.recorder import LoopState, Recorder, TaskRecord
from loopscope.tasks.agent.registry import finds_in_place

MAX_CHAIN = 64


class RowBuilder:
    """Builds rows in ``wire``'s field orders from live records."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._frames: dict[tuple[int, int], tuple[CodeType, list[Any]]] = {}
        self._tasks: dict[int, Any] = {}
        """The program's live tasks by id while a batch is built, found in asyncio's
        registry a chunk of records at a time (``find_tasks``); ``forget_tasks`` after each
        batch keeps no task alive."""
        self._looked: set[int] = set()
        """Ids already looked for in this batch (found or not)."""
        self._copied = False
        """Every task was copied for this batch (where ``registry`` cannot find in place)."""

    def find_tasks(self, records: Iterable[TaskRecord]) -> None:
        """Finds the live tasks of ``records`` in one look at asyncio's registry (a look
        per record cost a pass over the registry each)."""
        if self._copied:
            return
        looked = self._looked
        wanted = {
            record.task_id for record in records
            if record.end is None and record.task_id not in looked
        }
        if not wanted:
            return
        if finds_in_place():
            looked |= wanted
            found = self.recorder.tasks_by_id(wanted)
        else:
            self._copied = True
            found = self.recorder.tasks_by_id()
        if found:
            self._tasks.update(found)

    def task_of(self, record: TaskRecord) -> Any:
        """The live task of a record, or None (finished, or collected)."""
        if record.end is not None:
            return None
        if not self._copied and record.task_id not in self._looked:
            self.find_tasks((record,))
        return self._tasks.get(record.task_id)

    def forget_tasks(self) -> None:
        self._tasks = {}
        self._looked = set()
        self._copied = False

    def frame(self, where: tuple[CodeType, int] | None) -> list[Any] | None:
        if where is None:
            return None
        code, line = where
        key = (id(code), line)  # hashing a code object would hash its bytecode
        known = self._frames.get(key)
        if known is None or known[0] is not code:
            row = [code.co_qualname, code.co_filename, line]
            if is_library_file(code.co_filename):
                row.append(1)
            if len(self._frames) > 50_000:
                self._frames.clear()
            known = self._frames[key] = (code, row)
        return known[1]

    def state(self, record: TaskRecord, task: Any) -> str:
        if record.end is not None:
            return record.end
        if record.loop.current is record:
            return "running"
        if record.steps == 0:
            return "pending"
        if record.waiting:
            waiter = getattr(task, "_fut_waiter", None) if task is not None else None
            if waiter is not None and waiter.done():
                return "ready"
            return "suspended"
        return "ready"

    def task_row(self, record: TaskRecord, now: float) -> list[Any]:
        task = self.task_of(record)
        state = self.state(record, task)
        name = record.name
        qualname = record.qualname
        if task is not None and record.end is None:
            name = task.get_name()
            qualname = getattr(task.get_coro(), "__qualname__", None)
        scheduled = record.scheduled
        if state in ("pending", "ready") and record.ready_t and now > record.ready_t:
            scheduled += now - record.ready_t
        end = record.ended_t if record.ended_t is not None else now
        idle = max(0.0, end - record.created_t - record.busy - scheduled)
        chain: list[Any] = []
        awaiting: str | None = None
        awaiting_task: int | None = None
        if state in ("suspended", "ready") and task is not None:
            if record.chain is None or record.chain_steps != record.steps:
                record.chain = self.await_chain(task)
                record.chain_steps = record.steps
            chain, awaiting, awaiting_task = record.chain
        elif record.end is not None and record.chain is not None:
            # Where it was last seen suspended: for a task cancelled while it waited, where.
            chain = record.chain[0]
        if record.exc is not None and record.error is None:
            record.error = describe_error(record.exc)
            record.exc = None
        created = (
            (record.created_code, line_at(record.created_code, record.created_lasti))
            if record.created_code is not None else None
        )
        return [
            record.seq, name or f"task #{record.seq}", qualname or "?", record.loop.id,
            record.parent, self.frame(created), state, record.created_t, record.ended_t,
            record.busy, scheduled, idle, record.steps, record.longest,
            self.frame(record.longest_line), self.frame(record.blocked), chain, awaiting,
            awaiting_task, record.last_end if state == "suspended" else None, record.result,
            record.error,
        ]

    def await_chain(self, task: Any) -> tuple[list[Any], str | None, int | None]:
        """Where a suspended task waits: every coroutine frame, then the awaited object."""
        frames: list[Any] = []
        obj: Any = task.get_coro()
        while obj is not None and len(frames) < MAX_CHAIN:
            frame = getattr(obj, "cr_frame", None)
            follow = "cr_await"
            if frame is None:
                frame = getattr(obj, "gi_frame", None)
                follow = "gi_yieldfrom"
            if frame is None:
                frame = getattr(obj, "ag_frame", None)
                follow = "ag_await"
            if frame is None:
                break
            frames.append(self.frame((frame.f_code, frame.f_lineno)))
            obj = getattr(obj, follow, None)
        awaiting, awaiting_task = self.describe_waiter(getattr(task, "_fut_waiter", None))
        return frames, awaiting, awaiting_task

    def describe_waiter(self, waiter: Any) -> tuple[str | None, int | None]:
        if waiter is None:
            return None, None
        if isinstance(waiter, asyncio.Task):
            record = self.recorder.live.get(id(waiter))
            return f"Task {waiter.get_name()}", record.seq if record is not None else None
        children = getattr(waiter, "_children", None)
        if children is not None:
            return f"gather of {len(children)}", None
        state = str(getattr(waiter, "_state", "")).lower()
        return f"{type(waiter).__name__} {state}".strip(), None

    def loop_row(self, state: LoopState, now: float, tasks: int) -> list[Any]:
        loop = state.ref()
        running = bool(loop is not None and loop.is_running())
        closed = bool(loop is None or loop.is_closed())
        thread_id = getattr(loop, "_thread_id", None)
        # threading has no public lookup by id; this avoids listing every thread per row
        thread = threading._active.get(thread_id) if thread_id else None  # type: ignore[attr-defined]  # noqa: SLF001
        current = state.current
        step_s = now - state.step_t if current is not None else 0.0
        stall = state.stall if state.probe_t else None
        line = None
        if stall is not None:
            line = self.frame((stall[1], stall[2]))
            if current is None and state.probe_t:
                step_s = now - state.probe_t
        return [
            state.id, thread.name if thread is not None else state.thread_name, running, closed,
            tasks, round(step_s, 6), current.seq if current is not None else None, line,
        ]

    def spike_row(self, raw: list[Any]) -> list[Any]:
        at, lag_ms, loop_id, record, line, step_s = raw
        return [
            at, lag_ms, loop_id, record.seq if record is not None else None,
            (record.name or self._live_name(record)) if record is not None else None,
            self.frame(line), step_s,
        ]

    def _live_name(self, record: TaskRecord) -> str | None:
        task = self.task_of(record)
        return task.get_name() if task is not None else None

    def warning_row(self, raw: list[Any]) -> list[Any]:
        kind, at, task, line, message = raw
        # A place is (code, line) from the loop's thread, or already a row (stuck warnings).
        return [kind, at, task, self.frame(line) if isinstance(line, tuple) else line, message]


def describe_error(error: BaseException) -> list[str]:
    """``[type, message, traceback]`` for a failed task; never raises."""
    cls = type(error)
    name = cls.__qualname__
    if cls.__module__ != "builtins":
        name = f"{cls.__module__}.{name}"
    try:
        message = str(error)
    except Exception:
        message = "<unprintable>"
    try:
        text = "".join(traceback.format_exception(error))
    except Exception:
        text = f"{name}: {message}\n"
    if len(text) > 20_000:
        text = text[:10_000] + "\n…\n" + text[-10_000:]
    return [name, message, text]
