"""The agent's records: one ``TaskRecord`` per task, one ``LoopState`` per event loop.

Kept apart from the recorder that fills them because several parties share them: the
recorder's hooks write them on the loop's thread, the sender's thread reads them (``rows``,
``stalls``). The C hot path (``_hotpath.c``) has a record type of its own with the same
attributes (``_hotpath.TaskRecord``: its times and counts as C numbers, one allocation), and
writes ``LoopState``'s slots directly, at offsets it reads from the member descriptors when
it is configured: those slots are an interface.

The program's garbage collector is why this ``TaskRecord`` looks as it does: slots rather
than a ``__dict__`` (one object per record to walk, not two), and a finished record turned
into a tuple of plain values that the collector stops tracking (``TaskRecord.frozen``).
"""

from __future__ import annotations

import asyncio
import threading
import types
import weakref
from types import CodeType
from typing import Any


class TaskRecord:
    """What the agent knows about one task. Written by the loop's thread, read by the sender.

    Slots, not a ``__dict__``: the program's garbage collector walks every record on each
    full collection, and a record with a dict is two objects to walk, not one.
    """

    __slots__ = (
        "blocked",
        "busy",
        "chain",
        "chain_steps",
        "created_code",
        "created_lasti",
        "created_t",
        "dirty",
        "end",
        "ended_t",
        "error",
        "exc",
        "finish_no",
        "last_end",
        "longest",
        "longest_line",
        "loop",
        "name",
        "parent",
        "qualname",
        "ready_t",
        "result",
        "scheduled",
        "sent",
        "seq",
        "steps",
        "task_id",
        "waiting",
        "warned_stuck",
    )

    def __init__(self, seq: int, task_id: int, loop: LoopState, parent: int | None,
                 code: CodeType | None, lasti: int, now: float) -> None:
        self.seq = seq
        self.task_id = task_id
        """``id(task)``, not a reference, not even a weak one: the agent never keeps a task
        alive, and a weakref per task was a second object for every collection of the
        program's garbage collector to walk (it cost more than the record). The sender finds
        the task by this id in asyncio's own registry (``Recorder.tasks_by_id``)."""
        self.loop = loop
        self.parent = parent
        self.created_code = code
        self.created_lasti = lasti
        """The creating frame's instruction offset: cheaper to read than ``f_lineno``; the
        sender turns it into a line (``line_at``)."""
        self.created_t = now
        self.ready_t = now
        """When it last became ready, if known (0.0: woken by a future, time unknown)."""
        self.last_end = self.busy = self.scheduled = self.longest = 0.0
        self.steps = 0
        self.longest_line: tuple[CodeType, int] | None = None
        self.blocked: tuple[CodeType, int] | None = None
        """Where the sampler saw a long step (innermost program frame)."""
        self.waiting = self.dirty = self.warned_stuck = self.sent = False
        """waiting: its last step ended on an await of a future (suspended), not on a bare
        yield. sent: the sender took it at least once (a viewer may show it), so its
        eviction is announced (``Recorder.gone``)."""
        self.finish_no = 0
        """The how-manieth task to finish it was (0: not finished): the retention keeps the
        last ``keep_finished`` (``Recorder.evicted``)."""
        self.end: str | None = None
        """``done``, ``exception`` or ``cancelled`` once it finished."""
        self.ended_t: float | None = None
        self.name: str | None = None
        self.qualname: str | None = None
        self.result: str | None = None
        self.exc: BaseException | None = None
        """The exception until the sender formats it into ``error``."""
        self.error: list[str] | None = None
        self.chain: tuple[list[Any], str | None, int | None] | None = None
        self.chain_steps = -1

    def __repr__(self) -> str:
        return f"<TaskRecord #{self.seq} {self.qualname or '?'} steps={self.steps} end={self.end}>"

    def frozen(self) -> tuple[Any, ...]:
        """A finished record as a tuple of plain values, which the garbage collector stops
        tracking at its next collection: kept finished tasks cost it nothing. Keeping the
        records themselves (10,000 by default) made each task's record survive into the
        oldest generation and every full collection walk them: a third of the agent's cost
        for 100,000 short tasks."""
        return (
            self.seq, self.task_id, self.loop.id, self.parent, self.created_code,
            self.created_lasti, self.created_t, self.last_end, self.busy, self.scheduled,
            self.longest, self.steps, self.longest_line, self.blocked, self.end, self.ended_t,
            self.name, self.qualname, self.result, self.error, self.chain, self.finish_no,
        )

    def kept(self) -> tuple[Any, ...]:
        """What the recorder keeps once the task finished (the C path's record keeps
        itself: it is out of the collector's sight already)."""
        return self.frozen()

    @classmethod
    def thawed(cls, frozen: tuple[Any, ...], loops: list[LoopState]) -> TaskRecord:
        """A record again from ``frozen`` (for a new viewer's full batch)."""
        (seq, task_id, loop_id, parent, code, lasti, created_t, last_end, busy, scheduled,
         longest, steps, longest_line, blocked, end, ended_t, name, qualname, result, error,
         chain, finish_no) = frozen
        loop: Any = next((state for state in loops if state.id == loop_id), None)
        if loop is None:  # a closed loop, pruned since
            loop = types.SimpleNamespace(id=loop_id, current=None)
        record = cls(seq, task_id, loop, parent, code, lasti, created_t)
        record.last_end, record.busy, record.scheduled = last_end, busy, scheduled
        record.longest, record.steps, record.longest_line = longest, steps, longest_line
        record.blocked, record.end, record.ended_t, record.name = blocked, end, ended_t, name
        record.qualname, record.result, record.error = qualname, result, error
        record.chain, record.finish_no = chain, finish_no
        return record


class LoopState:
    """Per-loop bookkeeping, hung on the loop as ``_loopscope_state``."""

    __slots__ = (
        "__weakref__", "batch_start", "current", "id", "last_slow", "probe_t", "ref", "stall",
        "step_t", "thread_name",
    )

    def __init__(self, loop_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self.id = loop_id
        self.ref = weakref.ref(loop)
        self.current: TaskRecord | None = None
        """The task whose step runs now."""
        self.step_t = 0.0
        self.batch_start = 0.0
        self.probe_t = 0.0
        """When the sender's lag probe was posted (0.0: none in flight)."""
        self.stall: tuple[TaskRecord | None, CodeType, int] | None = None
        self.last_slow: tuple[TaskRecord, float, tuple[CodeType, int] | None, float] | None = None
        self.thread_name = threading.current_thread().name
