"""The agent's recorder inside the watched program: every loop, every task, every step.

How it sees everything, on Python 3.11+ with asyncio's own (pure Python) event loop:

* every callback of every ``BaseEventLoop`` runs through ``asyncio.events.Handle._run``,
  including C task steps (``TaskStepMethWrapper``) and wake-ups (``task_wakeup``), whose
  ``__self__`` is the task. The replacement ``_run`` times the callbacks that belong to a
  task (busy time, steps, longest step) and lets the others through with one ``getattr``;
* ``BaseEventLoop.create_task`` is wrapped, so every task is seen at creation however the
  loop was made (``asyncio.run``, ``new_event_loop``, ``Runner``) and even under the
  program's own task factory: the parent is the task whose step is running, the creation
  line is the first frame outside asyncio;
* ``run_in_executor`` and ``call_exception_handler`` are wrapped for executor jobs and for
  the warnings the loop itself raises (exception never retrieved, task destroyed pending);
* each loop's selector ``select`` is wrapped to note when an iteration starts running
  callbacks: a task's scheduled time is measured from then (or from when it yielded).

Cost is paid per callback, so the hot path does as little as it can: no allocation for a
callback that is not a task's, a few attribute writes for a step. Where it was built (a C
compiler at install time), ``_hotpath.c`` is that hot path: ``Handle._run`` and
``create_task``'s bookkeeping in C, field for field what the Python hooks do, on the
same records (``asyncio_hooks._accelerate``); the Python hooks are the fallback
(``accelerated=False``, ``LOOPSCOPE_PURE_PYTHON=1``, or no compiler). Everything a screen needs
beyond that (names, await chains, tracebacks, source lines) is read later by the sender
thread (``rows``). Every hook is guarded: the agent never raises into the program. Memory is
bounded: finished tasks are kept up to ``keep_finished``, samples in bounded deques.

The program's garbage collector and its memory are the other half of the cost: the agent
holds no reference to a task (not even a weak one) and keeps one record per live task. The
Python path turns a finished record into a tuple of plain values that the collector stops
tracking (``TaskRecord.frozen``); the C path's records are never tracked (one allocation
each, numbers stored as C numbers) and are kept as they are. The queue of changed tasks
holds keys and such kept forms only, so the collector stops tracking it too.

Where each part lives: the hooks that patch asyncio, and the hot path (``asyncio_hooks``;
uvloop's in ``uvloop_hooks``); the record types (``records``); executor jobs
(``executor_jobs``); warnings and what the loop reports (``loop_reports``). This module
holds the ``Recorder``: the records, the counters, retention, and the queue of changed
tasks the sender reads, plus the Python methods the hooks (and the C module) call back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from array import array
from collections import deque
from collections.abc import Callable, Collection, MutableMapping
from types import CodeType, FrameType
from typing import Any

from loopscope.tasks.agent import asyncio_hooks, uvloop_hooks
from loopscope.tasks.agent.asyncio_hooks import LINE_STEP_S as LINE_STEP_S
from loopscope.tasks.agent.asyncio_hooks import PURE_PYTHON_ENV as PURE_PYTHON_ENV
from loopscope.tasks.agent.asyncio_hooks import _hotpath as _hotpath
from loopscope.tasks.agent.asyncio_hooks import step_hook_is_free as step_hook_is_free
from loopscope.tasks.agent.executor_jobs import ExecutorJobs
from loopscope.tasks.agent.loop_reports import LoopReports
from loopscope.tasks.agent.places import short_repr
from loopscope.tasks.agent.records import LoopState as LoopState
from loopscope.tasks.agent.records import TaskRecord as TaskRecord
from loopscope.tasks.agent.registry import tasks_by_id
from loopscope.tasks.units import human_seconds

SLOW_STEP_S = 0.1
"""A step that holds the loop this long is a warning (and the lag it causes is blamed on it)."""
STALL_S = 0.04
"""A probe this late means the loop is stalled: the agent's thread samples its stack."""

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep
_AGENT_DIR = os.path.dirname(__file__) + os.sep


COUNTERS = ("created", "retired", "done", "exception", "cancelled", "evicted")
"""``Recorder.counters``' slots, in order (the C hot path counts into the same array)."""
_CREATED, _RETIRED, _EVICTED = 0, 1, 5
_END_COUNTER = {"done": 2, "exception": 3, "cancelled": 4}


class Recorder:
    """All the agent's records, and the methods its hooks call to fill them."""

    def __init__(self, *, keep_finished: int = 10_000,
                 clock: Callable[[], float] = time.perf_counter,
                 slow_step_s: float = SLOW_STEP_S, stuck_s: float = 10.0,
                 accelerated: bool | None = None) -> None:
        self.clock = clock
        self.accelerated = _hotpath is not None and accelerated is not False
        """Whether ``install`` puts in the C hot path (``_hotpath.c``; the default when it was
        built) or the Python hooks (``accelerated=False``, or no C module)."""
        self.record_class: type[TaskRecord] = (
            _hotpath.TaskRecord if self.accelerated else TaskRecord
        )
        """The C path's records are its own type (``_hotpath.TaskRecord``: the same
        attributes, its numbers as C numbers, kept as they are once finished); the Python
        hooks' are ``records.TaskRecord``."""
        self.keep_finished = keep_finished
        self.slow_step_s = slow_step_s
        self.stuck_s = stuck_s
        self.live: MutableMapping[int, TaskRecord] = (
            _hotpath.LiveTable() if self.accelerated else {}
        )
        """id(task) -> record, for tasks not finished (removed when the task is collected).
        The C path's own table (``live_table.h``: keyed by the task's address, no int made
        per lookup) or a dict; the same mapping either way to the rest of the agent."""
        self.finished: deque[TaskRecord | tuple[Any, ...]] = deque()
        """The last ``keep_finished`` finished tasks, as ``record.kept()`` gives them: the
        Python path's ``TaskRecord.frozen`` tuples, the C path's records themselves; and the
        record itself for a task that failed (its exception waits for the sender)."""
        self.counters = array("q", bytes(8 * len(COUNTERS)))
        """Tasks created, finished (``retired``; ``TaskRecord.finish_no`` counts them), by
        how they ended, and evicted by retention: machine integers that the C hot path
        increments in place (an attribute or dict increment cost it more than the rest)."""
        self.gone: deque[int] = deque(maxlen=100_000)
        """Ids of finished records dropped by retention, for the sender to announce."""
        self.dirty: Any = _hotpath.ChangedQueue() if self.accelerated else {}
        """Changed since the sender last looked, oldest first (``take_dirty``). The C path's
        own queue, linked through its records (``changed_queue.h``: no hash or table entry
        per task). The Python path's dict by seq: a live record by its key in ``live``, or a
        finished one as kept (``_retire`` puts it in the same place: a frozen tuple, a
        failed task's record). Keys and frozen tuples only (neither tracked), so the
        program's garbage collector stops tracking this dict, which holds every task that
        finished since the sender last looked (100,000 of them when the sender is behind): a
        dict that holds Python records is walked on every full collection."""
        self.loops: list[LoopState] = []
        self.lag: deque[list[Any]] = deque(maxlen=2000)
        self.spikes: deque[list[Any]] = deque(maxlen=500)
        self.dropped = {"lag": 0, "spikes": 0, "warnings": 0, "jobs": 0}
        """Samples dropped from full queues (finished tasks dropped: ``all_dropped``)."""
        self.executor_jobs = ExecutorJobs(clock, self.loop_state, self.dropped)
        self.jobs = self.executor_jobs.jobs
        self.dirty_jobs = self.executor_jobs.changed
        """Executor jobs changed since the sender last looked (it drains this)."""
        self.reports = LoopReports(
            clock=clock, live=self.live, dirty=self.dirty, loops=self.loops,
            destroyed=self._destroyed, dropped=self.dropped,
        )
        """Warnings, and what the loop itself reports (``loop_reports``)."""
        self.warnings = self.reports.warnings
        self._seq = itertools.count(1)
        self._loop_seq = itertools.count(1)
        self._library_ids: set[int] = set()
        self._program_ids: set[int] = set()
        self._codes_seen: list[CodeType] = []
        """The code objects classified so far, held so that their ids are never reused."""
        self._task_types: dict[type, bool] = {}
        self.installed = False
        self.disabled = False

    @property
    def created(self) -> int:
        return self.counters[_CREATED]

    @property
    def retired(self) -> int:
        return self.counters[_RETIRED]

    @property
    def ended(self) -> dict[str, int]:
        """How many tasks ended, by how."""
        return {end: self.counters[index] for end, index in _END_COUNTER.items()}

    def all_dropped(self) -> dict[str, int]:
        """What was dropped, finished tasks (evicted by retention) included."""
        return {"finished_tasks": self.counters[_EVICTED], **self.dropped}

    # -- installation ----------------------------------------------------------------------

    def install(self) -> None:
        """Hook asyncio (idempotent). Loops already running are picked up at their next step."""
        if self.installed:
            return
        asyncio_hooks.install(self)
        self.installed = True
        uvloop_hooks.install(self)  # uvloop's loops are not asyncio's: hooked on their own

    def uninstall(self) -> None:
        """Put asyncio back as it was (records stay readable)."""
        if not self.installed:
            return
        asyncio_hooks.uninstall(self)
        uvloop_hooks.uninstall()
        self.installed = False

    # -- loops and tasks -------------------------------------------------------------------

    def _is_task_type(self, cls: type) -> bool:
        answer = issubclass(cls, asyncio.Task) or issubclass(cls, asyncio.tasks._PyTask)  # type: ignore[attr-defined]
        self._task_types[cls] = answer
        return answer

    def loop_state(self, loop: Any) -> LoopState:
        # An attribute read, never ``loop.__dict__``: reading that turns the loop's inline
        # attribute values into a dict for good, and every ``self.…`` in the loop's own
        # methods (call_soon, _run_once, create_task) then takes the slower lookup, about
        # twice as long per read on 3.11, for the whole program (test_agent_recorder).
        state: LoopState | None = getattr(loop, "_loopscope_state", None)
        if state is None:
            state = LoopState(next(self._loop_seq), loop)
            loop._loopscope_state = state
            self.loops.append(state)
            self._hook_selector(loop, state)
        return state

    def _hook_selector(self, loop: Any, state: LoopState) -> None:
        selector = getattr(loop, "_selector", None)
        select = getattr(selector, "select", None)
        if select is None:
            return
        clock = self.clock

        def timed_select(timeout: float | None = None) -> Any:
            events = select(timeout)
            try:  # noqa: SIM105 - every loop iteration: no context manager
                state.batch_start = clock()
            except Exception:  # the agent never raises into the program
                pass
            return events

        with contextlib.suppress(AttributeError):
            selector.select = timed_select  # type: ignore[union-attr]

    def _destroyed(self, record: TaskRecord) -> None:
        """A task garbage-collected before it finished: it ends here, as cancelled."""
        if record.end is not None:
            return
        record.ended_t = self.clock()
        record.result = "destroyed while pending"
        self._retire(record, "cancelled")

    def _created(self, task: Any, loop: Any, frame: FrameType | None) -> TaskRecord:
        state = loop._loopscope_state
        if state is None:
            state = self.loop_state(loop)
        # By id(code) in sets (hashing a code object hashes its bytecode and constants);
        # ``_codes_seen`` holds every classified code, so an id always means the same code.
        library = self._library_ids
        program = self._program_ids
        while frame is not None:
            code_id = id(frame.f_code)
            if code_id in library:
                frame = frame.f_back
                continue
            if code_id in program or not self._classify(frame.f_code):
                break
            frame = frame.f_back
        current = state.current
        key = id(task)
        live = self.live
        old = live.get(key)
        if old is not None and old.end is None:
            self._destroyed(old)  # its task was collected and the id is in use again
        record = live[key] = self.record_class(
            next(self._seq), key, state,
            current.seq if current is not None else None,
            frame.f_code if frame is not None else None,
            frame.f_lasti if frame is not None else -1,
            self.clock(),
        )
        self.counters[_CREATED] += 1
        record.dirty = True
        # A C record is out of the collector's sight: queued as itself, no lookup later.
        self.dirty[record.seq] = record if self.accelerated else key
        return record

    def tasks_by_id(self, ids: Collection[int] | None = None) -> dict[int, Any] | None:
        """Tasks asyncio still knows of (pending, or done and not yet collected), by id:
        those of ``ids``, or all; None if asyncio's registry could not be read. For the
        sender's thread: the result holds the tasks strongly, so it must be dropped after
        use (``registry``)."""
        return tasks_by_id(self.loops, ids)

    def _classify(self, code: CodeType) -> bool:
        """Whether ``code`` is asyncio's or the agent's (a creation line skips it)."""
        library = code.co_filename.startswith((_ASYNCIO_DIR, _AGENT_DIR))
        self._codes_seen.append(code)
        (self._library_ids if library else self._program_ids).add(id(code))
        return library

    def sweep(self) -> None:
        """Finish the records of tasks that were garbage-collected while pending (the
        sender's thread; ``LoopReports.sweep``)."""
        self.reports.sweep()

    def _adopt(self, task: Any, loop: Any) -> TaskRecord:
        """A task created without ``create_task`` (``asyncio.Task(...)``): no creation line."""
        record = self._created(task, loop, None)
        record.ready_t = 0.0
        return record

    def _finish(self, record: TaskRecord, task: Any, now: float) -> None:
        record.ended_t = now
        record.waiting = False
        record.name = task.get_name()
        record.qualname = getattr(task.get_coro(), "__qualname__", None)
        if task.cancelled():
            end = "cancelled"
        else:
            exc = task._exception
            if exc is not None:
                end = "exception"
                record.exc = exc
            else:
                end = "done"
                result = task._result
                if result is not None:
                    record.result = short_repr(result)
        self.live.pop(record.task_id, None)
        self._retire(record, end)

    def _retire(self, record: TaskRecord, end: str) -> None:
        record.end = end
        counters = self.counters
        counters[_END_COUNTER[end]] += 1
        if end == "exception":
            self.reports.failed(record)  # named when the loop reports "never retrieved"
        counters[_RETIRED] += 1
        record.finish_no = counters[_RETIRED]
        kept = record if end == "exception" else record.kept()
        record.dirty = True
        self.dirty[record.seq] = kept
        finished = self.finished
        finished.append(kept)
        if len(finished) > self.keep_finished:
            old = finished.popleft()
            if not isinstance(old, tuple):
                old.exc = None
                old_seq = old.seq
                announce = old.sent
            else:
                old_seq = old[0]
                announce = True  # a frozen tuple does not know: announced
            if announce:  # a viewer is told to forget only what it may have been sent
                self.gone.append(old_seq)
            # Never sent now (``take_dirty`` skips it): out of the queue at once, so the queue
            # holds at most the kept tasks however far behind the sender is, and the memory
            # of 100,000 short tasks is reused rather than grown.
            if self.accelerated:
                self.dirty.discard(old)
            else:
                self.dirty.pop(old_seq, None)
            counters[_EVICTED] += 1

    def take_dirty(self, limit: int) -> list[TaskRecord]:
        """The oldest ``limit`` changed tasks, as records, no longer marked changed (the
        sender's thread; the loop's thread may add meanwhile)."""
        loops = self.loops
        oldest_kept = self.retired - self.keep_finished  # finished up to it: evicted
        if self.accelerated:  # C records, marked taken by the queue
            return [record for record in self.dirty.take(limit)
                    if not 0 < record.finish_no <= oldest_kept]
        taken: list[TaskRecord] = []
        for kept in self._take_dirty(limit):
            if isinstance(kept, tuple):  # frozen (the Python path): not thawed to be skipped
                if kept[-1] > oldest_kept:
                    taken.append(TaskRecord.thawed(kept, loops))
            elif not 0 < kept.finish_no <= oldest_kept:
                taken.append(kept)
        return taken

    def discard_dirty(self) -> None:
        """Forget what changed (no viewer to tell)."""
        while self.dirty:
            if self.accelerated:
                self.dirty.take(10_000)
            else:
                self._take_dirty(10_000)

    def _take_dirty(self, limit: int) -> list[TaskRecord | tuple[Any, ...]]:
        dirty = self.dirty
        for _ in range(100):
            try:
                keys = list(itertools.islice(dirty, limit))
                break
            except RuntimeError:  # changed size during iteration: the loop's thread added
                continue
        else:
            return []
        taken: list[TaskRecord | tuple[Any, ...]] = []
        live = self.live
        for key in keys:
            kept = dirty.pop(key, None)
            if kept is None:
                continue
            if kept.__class__ is int:  # a live record, by its key (unless it ended since)
                record = live.get(kept)
                if record is None or record.seq != key:
                    continue
                kept = record
            if not isinstance(kept, tuple):
                kept.dirty = False
                kept.sent = True
            taken.append(kept)
        return taken

    def evicted(self, record: TaskRecord) -> bool:
        """Finished and dropped by retention: announced as gone, never sent again."""
        return 0 < record.finish_no <= self.retired - self.keep_finished

    def _longest_line(self, record: TaskRecord, task: Any) -> None:
        """Where a step that is the task's longest so far (and long enough) ended."""
        frame = getattr(task.get_coro(), "cr_frame", None)
        if frame is not None:
            record.longest_line = (frame.f_code, frame.f_lineno)

    def _slow_step(self, record: TaskRecord, task: Any, took: float, now: float) -> None:
        line = record.blocked
        if line is None and not task.done():
            frame = getattr(task.get_coro(), "cr_frame", None)
            if frame is not None:
                line = (frame.f_code, frame.f_lineno)
        record.loop.last_slow = (record, took, line, now)
        self.warn("slow-step", record.seq, line,
                  f"a step held the loop for {human_seconds(took)}", now)

    def warn(self, kind: str, task: int | None, line: Any, message: str,
             now: float | None = None) -> None:
        """Queue a warning; ``line`` is ``(code, lineno)``, a frame row, or None."""
        self.reports.warn(kind, task, line, message, now)

    def _job(self, loop: Any, executor: Any, func: Callable[..., Any]) -> Callable[..., Any]:
        """An executor job queued: ``func`` wrapped to time it (``ExecutorJobs.wrap``)."""
        return self.executor_jobs.wrap(loop, executor, func)

    def _loop_error(self, context: dict[str, Any]) -> None:
        """What the loop handed its exception handler (``LoopReports.loop_error``)."""
        self.reports.loop_error(context)
