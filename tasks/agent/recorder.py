"""The agent's hooks inside the watched program: every loop, every task, every step.

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
``create_task``'s bookkeeping in C, field for field what the Python hooks below do, on the
same records (``Recorder._accelerate``); the Python hooks are the fallback
(``accelerated=False``, ``LOOPSCOPE_PURE_PYTHON=1``, or no compiler). Everything a screen needs
beyond that (names, await chains, tracebacks, source lines) is read later by the sender
thread (``rows``). Every hook is guarded: the agent never raises into the program. Memory is
bounded: finished tasks are kept up to ``keep_finished``, samples in bounded deques.

The program's garbage collector is the other half of the cost: the agent holds no reference
to a task (not even a weak one), keeps one record per live task, and turns a finished one
into a tuple of plain values that the collector stops tracking (``TaskRecord.frozen``); the
queue of changed tasks holds keys and such tuples only, so the collector stops tracking it
too, and the C path untracks its records and the kept-finished deque.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import os
import sys
import threading
import time
import types
import weakref
from array import array
from asyncio import base_events, events, format_helpers
from collections import deque
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from loopscope.tasks.agent import uvloop_hooks
from loopscope.tasks.agent.places import line_at, short_repr
from loopscope.tasks.units import human_seconds

PURE_PYTHON_ENV = "LOOPSCOPE_PURE_PYTHON"
"""Set (to anything but empty) to skip the C hot path: the Python hooks record the same."""

_hotpath: Any
try:
    if os.environ.get(PURE_PYTHON_ENV):
        raise ImportError(PURE_PYTHON_ENV)
    from loopscope.tasks.agent import _hotpath
except ImportError:  # built without a compiler, or switched off: the Python hooks
    _hotpath = None

SLOW_STEP_S = 0.1
"""A step that holds the loop this long is a warning (and the lag it causes is blamed on it)."""
STALL_S = 0.04
"""A probe this late means the loop is stalled: the agent's thread samples its stack."""
LINE_STEP_S = 0.001
"""The line a step ran to is read only for steps at least this long (it costs a lookup)."""

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep
_AGENT_DIR = os.path.dirname(__file__) + os.sep
_original_run = events.Handle._run
_original_create_task = base_events.BaseEventLoop.create_task
_original_run_in_executor = base_events.BaseEventLoop.run_in_executor
_original_exception_handler = base_events.BaseEventLoop.call_exception_handler


COUNTERS = ("created", "retired", "done", "exception", "cancelled", "evicted")
"""``Recorder.counters``' slots, in order (the C hot path counts into the same array)."""
_CREATED, _RETIRED, _EVICTED = 0, 1, 5
_END_COUNTER = {"done": 2, "exception": 3, "cancelled": 4}


def step_hook_is_free() -> bool:
    """Whether asyncio's ``Handle._run`` is still its own: no recorder (ours or another
    agent's) has hooked the loop's steps."""
    return events.Handle._run is _original_run


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
        self.waiting = self.dirty = self.warned_stuck = False
        """waiting: its last step ended on an await of a future (suspended), not on a bare
        yield."""
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

    FROZEN_FIELDS = (
        "seq", "task_id", "loop", "parent", "created_code", "created_lasti", "created_t",
        "last_end", "busy", "scheduled", "longest", "steps", "longest_line", "blocked", "end",
        "ended_t", "name", "qualname", "result", "error", "chain", "finish_no",
    )
    """``frozen``'s order (``loop`` as its number), for the C hot path that freezes too."""

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


class Recorder:
    """All the agent's records, and the hooks that fill them."""

    def __init__(self, *, keep_finished: int = 10_000,
                 clock: Callable[[], float] = time.perf_counter,
                 slow_step_s: float = SLOW_STEP_S, stuck_s: float = 10.0,
                 accelerated: bool | None = None) -> None:
        self.clock = clock
        self.accelerated = _hotpath is not None and accelerated is not False
        """Whether ``install`` puts in the C hot path (``_hotpath.c``; the default when it was
        built) or the Python hooks (``accelerated=False``, or no C module)."""
        self.keep_finished = keep_finished
        self.slow_step_s = slow_step_s
        self.stuck_s = stuck_s
        self.live: dict[int, TaskRecord] = {}
        """id(task) -> record, for tasks not finished (removed when the task is collected)."""
        self.finished: deque[TaskRecord | tuple[Any, ...]] = deque()
        """The last ``keep_finished`` finished tasks: ``TaskRecord.frozen`` tuples, or the
        record itself for a task that failed (its exception waits for the sender)."""
        self.counters = array("q", bytes(8 * len(COUNTERS)))
        """Tasks created, finished (``retired``; ``TaskRecord.finish_no`` counts them), by
        how they ended, and evicted by retention: machine integers that the C hot path
        increments in place (an attribute or dict increment cost it more than the rest)."""
        self.gone: deque[int] = deque(maxlen=100_000)
        """Ids of finished records dropped by retention, for the sender to announce."""
        self.dirty: dict[int, int | TaskRecord | tuple[Any, ...]] = {}
        """Changed since the sender last looked, by seq, oldest first (``take_dirty``): a
        live record's key in ``live``, or a finished one frozen (``_retire`` puts it in the
        key's place; a failed task's record itself). Keys and frozen tuples only, so the
        program's garbage collector stops tracking this dict, which holds every task that
        finished since the sender last looked (100,000 of them when the sender is behind):
        a dict that holds records is walked on every full collection."""
        self.loops: list[LoopState] = []
        self.jobs: dict[int, list[Any]] = {}
        self.dirty_jobs: deque[list[Any]] = deque(maxlen=5000)
        self.lag: deque[list[Any]] = deque(maxlen=2000)
        self.spikes: deque[list[Any]] = deque(maxlen=500)
        self.warnings: deque[list[Any]] = deque(maxlen=1000)
        self.dropped = {"lag": 0, "spikes": 0, "warnings": 0, "jobs": 0}
        """Samples dropped from full queues (finished tasks dropped: ``all_dropped``)."""
        self._seq = itertools.count(1)
        self._job_seq = itertools.count(1)
        self._loop_seq = itertools.count(1)
        self._library_ids: set[int] = set()
        self._program_ids: set[int] = set()
        self._codes_seen: list[CodeType] = []
        """The code objects classified so far, held so that their ids are never reused."""
        self._task_types: dict[type, bool] = {}
        self._failed_by_id: dict[int, TaskRecord] = {}
        self._swept_by_id: dict[int, TaskRecord] = {}
        """Records the sweep ended (their task gone from asyncio's registry), by the task's
        id: the collector drops a task from the registry before its ``__del__`` reports
        "destroyed but it is pending", so the sweep can come first; the report then finds
        the record here and names it."""
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

    # One long function on purpose: the hooks close over locals bound once here, so each
    # loop step pays for no attribute or global lookups (see the module docstring).
    def install(self) -> None:  # noqa: C901
        """Hook asyncio (idempotent). Loops already running are picked up at their next step."""
        if self.installed:
            return
        recorder = self
        clock = self.clock
        live = self.live
        dirty = self.dirty
        finish = self._finish
        adopt = self._adopt
        slow_step = self._slow_step
        longest_line = self._longest_line
        line_step = LINE_STEP_S
        slow_s = self.slow_step_s
        task_types = self._task_types
        is_task_type = self._is_task_type

        c_task = asyncio.Task
        report = _report_callback_error

        def _step(handle: events.Handle, callback: Any) -> None:  # noqa: C901 - every step: inline
            """A callback that is not a plain function: a task's step is timed."""
            task: Any = getattr(callback, "__self__", None)
            cls = task.__class__
            if cls is not c_task:
                known = task_types.get(cls)
                if known is None:
                    known = is_task_type(cls)
                if not known:  # a plain callback: run it as Handle._run would, untimed
                    try:
                        handle._context.run(callback, *handle._args)  # type: ignore[attr-defined]
                    except (SystemExit, KeyboardInterrupt):
                        raise
                    except BaseException as exc:
                        report(handle, exc)
                    return
            try:
                record = live.get(id(task))
                if record is None:
                    record = adopt(task, handle._loop)  # type: ignore[attr-defined]
                state = record.loop
                start = clock()
                ready = record.ready_t or state.batch_start
                if ready and start > ready:
                    record.scheduled += start - ready
                state.current = record
                state.step_t = start
            except Exception:
                return _original_run(handle)
            try:
                handle._context.run(callback, *handle._args)  # type: ignore[attr-defined]
            except (SystemExit, KeyboardInterrupt):
                state.current = None
                raise
            except BaseException as exc:
                state.current = None
                report(handle, exc)
            try:
                end = clock()
                state.current = None
                took = end - start
                record.busy += took
                record.steps += 1
                record.last_end = end
                if took > record.longest:  # before a finish freezes the record
                    record.longest = took
                    if took >= line_step:
                        longest_line(record, task)
                if task.done():
                    finish(record, task, end)
                elif task._fut_waiter is None:
                    record.ready_t = end
                    record.waiting = False
                else:
                    record.ready_t = 0.0
                    record.waiting = True
                if took >= slow_s:
                    slow_step(record, task, took, end)
                if not record.dirty:
                    record.dirty = True
                    dirty[record.seq] = record.task_id
            except Exception:
                pass
            return None

        created = self._created

        def create_task(loop: base_events.BaseEventLoop, coro: Any, *, name: Any = None,
                        context: Any = None) -> Any:
            task = _original_create_task(loop, coro, name=name, context=context)
            # try/except, not contextlib.suppress: this runs once per task, and a context
            # manager costs more than everything else here.
            try:  # noqa: SIM105
                created(task, loop, sys._getframe(1))
            except Exception:
                pass
            return task

        def create_task_any(loop: base_events.BaseEventLoop, coro: Any, **options: Any) -> Any:
            """For a Python whose ``create_task`` takes more options (3.14: eager_start)."""
            task = _original_create_task(loop, coro, **options)
            try:  # noqa: SIM105
                created(task, loop, sys._getframe(1))
            except Exception:
                pass
            return task

        if set(inspect.signature(_original_create_task).parameters) != {
            "self", "coro", "name", "context",
        }:
            create_task = create_task_any

        def run_in_executor(loop: base_events.BaseEventLoop, executor: Any, func: Any,
                            *args: Any) -> Any:
            if recorder.disabled:
                return _original_run_in_executor(loop, executor, func, *args)
            try:
                wrapped = recorder._job(loop, executor, func)
            except Exception:
                wrapped = func
            return _original_run_in_executor(loop, executor, wrapped, *args)

        def call_exception_handler(loop: base_events.BaseEventLoop,
                                   context: dict[str, Any]) -> None:
            with contextlib.suppress(Exception):
                recorder._loop_error(context)
            return _original_exception_handler(loop, context)

        loop_class: Any = base_events.BaseEventLoop
        loop_class._loopscope_state = None  # a class default: one attribute read per task
        handle_class: Any = events.Handle
        global _step_hook
        _step_hook = _step
        if self.accelerated:
            handle_class._run, loop_class.create_task = self._accelerate()
        else:
            handle_class._run = _run
            loop_class.create_task = create_task
        loop_class.run_in_executor = run_in_executor
        loop_class.call_exception_handler = call_exception_handler
        self.installed = True
        uvloop_hooks.install(self)  # uvloop's loops are not asyncio's: hooked on their own

    def _accelerate(self) -> tuple[Any, Any]:
        """Hand the C hot path this recorder's objects; ``Handle._run`` and ``create_task``
        as it provides them. It does what the Python hooks in ``install`` do, field for
        field, and calls back into the methods named here for anything rare."""
        template = TaskRecord(0, 0, None, None, None, -1, 0.0)  # type: ignore[arg-type]
        _hotpath.configure({
            "handle_type": events.Handle, "record_type": TaskRecord, "state_type": LoopState,
            "record_slots": TaskRecord.__slots__, "frozen_slots": TaskRecord.FROZEN_FIELDS,
            "template": template,
            "clock": None if self.clock is time.perf_counter else self.clock,
            "numbers": (LINE_STEP_S, self.slow_step_s, self.keep_finished),
            "recorder": self, "live": self.live, "dirty": self.dirty,
            "finished": self.finished, "gone": self.gone, "counters": self.counters,
            "task_types": self._task_types,
            "library_ids": self._library_ids, "program_ids": self._program_ids,
            "seq_counter": self._seq, "c_task": asyncio.Task,
            "py_is_task_type": self._is_task_type, "py_adopt": self._adopt,
            "py_finish": self._finish, "py_longest_line": self._longest_line,
            "py_slow_step": self._slow_step, "py_report": _report_callback_error,
            "py_created": self._created, "py_destroyed": self._destroyed,
            "py_classify": self._classify, "py_short_repr": short_repr,
            "original_run": _original_run, "original_create_task": _original_create_task,
        })
        run, create_task = _hotpath.descriptors(events.Handle, base_events.BaseEventLoop)
        return run, create_task

    def uninstall(self) -> None:
        """Put asyncio back as it was (records stay readable)."""
        if not self.installed:
            return
        if self.accelerated:
            _hotpath.configure(None)
        events.Handle._run = _original_run  # type: ignore[method-assign]
        global _step_hook
        _step_hook = _unhooked
        base_events.BaseEventLoop.create_task = _original_create_task  # type: ignore[method-assign]
        base_events.BaseEventLoop.run_in_executor = (  # type: ignore[method-assign]
            _original_run_in_executor
        )
        base_events.BaseEventLoop.call_exception_handler = (  # type: ignore[method-assign]
            _original_exception_handler
        )
        uvloop_hooks.uninstall()
        self.installed = False

    # -- loops and tasks -------------------------------------------------------------------

    def _is_task_type(self, cls: type) -> bool:
        answer = issubclass(cls, asyncio.Task) or issubclass(cls, asyncio.tasks._PyTask)  # type: ignore[attr-defined]
        self._task_types[cls] = answer
        return answer

    def loop_state(self, loop: Any) -> LoopState:
        state: LoopState | None = loop.__dict__.get("_loopscope_state")
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
        record = live[key] = TaskRecord(
            next(self._seq), key, state,
            current.seq if current is not None else None,
            frame.f_code if frame is not None else None,
            frame.f_lasti if frame is not None else -1,
            self.clock(),
        )
        self.counters[_CREATED] += 1
        record.dirty = True
        self.dirty[record.seq] = key
        return record

    def tasks_by_id(self) -> dict[int, Any] | None:
        """Every task asyncio still knows of (pending, or done and not yet collected), by id;
        None if asyncio's registry could not be read. For the sender's thread: the result
        holds the tasks strongly, so it must be dropped after use."""
        return _tasks_by_id(self.loops)

    def _classify(self, code: CodeType) -> bool:
        """Whether ``code`` is asyncio's or the agent's (a creation line skips it)."""
        library = code.co_filename.startswith((_ASYNCIO_DIR, _AGENT_DIR))
        self._codes_seen.append(code)
        (self._library_ids if library else self._program_ids).add(id(code))
        return library

    def sweep(self) -> None:
        """Finish the records of tasks that were garbage-collected while pending (the
        sender's thread calls this now and then; usually the loop's "destroyed but it is
        pending" report has done it already)."""
        candidates = list(self.live.items())  # before the registry: a task made after it
        present = self.tasks_by_id()  # is not in ``candidates``, so never taken as gone
        if present is None:
            return
        for key, record in candidates:
            if (key not in present and record.end is None and record.loop.current is not record
                    and self.live.get(key) is record):
                del self.live[key]
                self._destroyed(record)
                swept = self._swept_by_id
                swept[key] = record
                if len(swept) > 1000:
                    del swept[next(iter(swept))]
        del present

    def _adopt(self, task: Any, loop: Any) -> TaskRecord:
        """A task created without ``create_task`` (``asyncio.Task(...)``): no creation line."""
        record = self._created(task, loop, None)
        record.ready_t = 0.0
        return record

    def _finish(self, record: TaskRecord, task: Any, now: float) -> None:
        record.ended_t = now
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
            # Found again by id when the loop reports "exception never retrieved".
            failed = self._failed_by_id
            failed[record.task_id] = record
            if len(failed) > 1000:
                del failed[next(iter(failed))]
        counters[_RETIRED] += 1
        record.finish_no = counters[_RETIRED]
        kept = record if end == "exception" else record.frozen()
        record.dirty = True
        self.dirty[record.seq] = kept
        finished = self.finished
        finished.append(kept)
        if len(finished) > self.keep_finished:
            old = finished.popleft()
            if old.__class__ is TaskRecord:
                old.exc = None
                old_seq = old.seq
            else:
                old_seq = old[0]  # type: ignore[index]
            self.gone.append(old_seq)
            # Never sent now (``take_dirty`` skips it): out of the queue at once, so the queue
            # holds at most the kept tasks however far behind the sender is, and the memory
            # of 100,000 short tasks is reused rather than grown.
            self.dirty.pop(old_seq, None)
            counters[_EVICTED] += 1

    def take_dirty(self, limit: int) -> list[TaskRecord]:
        """The oldest ``limit`` changed tasks, as records, no longer marked changed (the
        sender's thread; the loop's thread may add meanwhile)."""
        loops = self.loops
        oldest_kept = self.retired - self.keep_finished  # frozen ones up to it are evicted:
        return [  # not thawed only to be skipped (most of 100,000 short tasks, at exit)
            kept if kept.__class__ is TaskRecord
            else TaskRecord.thawed(kept, loops)  # type: ignore[arg-type]
            for kept in self._take_dirty(limit)
            if kept.__class__ is TaskRecord or kept[-1] > oldest_kept  # type: ignore[index]
        ]

    def discard_dirty(self) -> None:
        """Forget what changed (no viewer to tell)."""
        while self.dirty:
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
            if kept.__class__ is TaskRecord:
                kept.dirty = False
            taken.append(kept)  # type: ignore[arg-type]
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
        if len(self.warnings) == self.warnings.maxlen:
            self.dropped["warnings"] += 1
        self.warnings.append([kind, self.clock() if now is None else now, task, line, message])

    # -- executor jobs ---------------------------------------------------------------------

    def _job(self, loop: Any, executor: Any, func: Callable[..., Any]) -> Callable[..., Any]:
        state = self.loop_state(loop)
        current = state.current
        name = getattr(func, "__qualname__", None) or type(func).__qualname__
        job: list[Any] = [
            next(self._job_seq), name, current.seq if current else None, state.id,
            "default" if executor is None else type(executor).__name__, "queued",
            self.clock(), None, None, None,
        ]
        jobs = self.jobs
        jobs[job[0]] = job
        if len(jobs) > 2000:
            del jobs[next(iter(jobs))]
        self._job_changed(job)
        clock = self.clock

        def run(*args: Any) -> Any:
            job[5] = "running"
            job[7] = clock()
            self._job_changed(job)
            try:
                value = func(*args)
            except BaseException as error:
                job[5] = "exception"
                job[9] = f"{type(error).__name__}: {error}"
                raise
            else:
                job[5] = "done"
                return value
            finally:
                job[8] = clock()
                self._job_changed(job)

        return run

    def _job_changed(self, job: list[Any]) -> None:
        if len(self.dirty_jobs) == self.dirty_jobs.maxlen:
            self.dropped["jobs"] += 1
        self.dirty_jobs.append(job)

    # -- what the loop reports -------------------------------------------------------------

    def _loop_error(self, context: dict[str, Any]) -> None:
        message = str(context.get("message", "loop error"))
        task: Any = context.get("task") or context.get("future")
        record = self.live.get(id(task)) if task is not None else None
        if record is None and task is not None:
            record = (self._failed_by_id.pop(id(task), None)
                      or self._swept_by_id.pop(id(task), None))
        seq = record.seq if record is not None else None
        line = (
            (record.created_code, line_at(record.created_code, record.created_lasti))
            if record and record.created_code else None
        )
        if "never retrieved" in message:
            kind = "never-retrieved"
            exc = context.get("exception")
            if exc is not None:
                message = f"{message}: {type(exc).__name__}: {exc}"
        elif "destroyed but it is pending" in message:
            kind = "destroyed-pending"
            if record is not None:
                self.live.pop(id(task), None)
                record.name = task.get_name()
                record.qualname = getattr(task.get_coro(), "__qualname__", None)
                if record.end is None:
                    self._destroyed(record)
                else:  # the sweep was first: send it again, with its name
                    self.dirty[record.seq] = record.frozen()
        else:
            kind = "loop-error"
            exc = context.get("exception")
            if exc is not None:
                message = f"{message}: {type(exc).__name__}: {exc}"
        self.warn(kind, seq, line, message)


def _unhooked(handle: events.Handle, callback: Any) -> None:
    _original_run(handle)


_step_hook: Callable[[events.Handle, Any], None] = _unhooked
"""The installed recorder's handler for callbacks that may be a task's step."""

_FunctionType = types.FunctionType


def _run(handle: events.Handle) -> None:
    """``Handle._run`` while the agent is installed. A module function using only globals
    and a few locals: a closure over the recorder copied its free variables into every
    call's frame, which cost a million ``call_soon`` callbacks 10% of their time."""
    callback = handle._callback  # type: ignore[attr-defined]
    if callback.__class__ is _FunctionType:
        # The commonest callback, never a task's step: one check, then what Handle._run
        # does.
        try:
            handle._context.run(callback, *handle._args)  # type: ignore[attr-defined]
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            _report_callback_error(handle, exc)
        return None
    return _step_hook(handle, callback)


def _report_callback_error(handle: events.Handle, exc: BaseException) -> None:
    """What ``Handle._run`` does when a callback raises: hand it to the loop's handler."""
    callback, args = handle._callback, handle._args  # type: ignore[attr-defined]
    source = format_helpers._format_callback_source(callback, args)
    context: dict[str, Any] = {
        "message": f"Exception in callback {source}", "exception": exc, "handle": handle,
    }
    if handle._source_traceback:  # type: ignore[attr-defined]
        context["source_traceback"] = handle._source_traceback  # type: ignore[attr-defined]
    handle._loop.call_exception_handler(context)  # type: ignore[attr-defined]


def _tasks_by_id(loops: list[LoopState]) -> dict[int, Any] | None:
    """asyncio's registry of tasks, read from another thread the way ``asyncio.all_tasks``
    reads it: copy, and try again if the loop's thread changed it meanwhile."""
    module: Any = asyncio.tasks
    registries = [
        registry for registry in (
            getattr(module, "_scheduled_tasks", None), getattr(module, "_all_tasks", None),
            getattr(module, "_eager_tasks", None),
        ) if registry is not None
    ]
    found: dict[int, Any] = {}
    if not registries or sys.version_info >= (3, 14):
        # 3.14 keeps native tasks in per-thread lists: ask per loop (pending tasks only).
        for state in loops:
            loop = state.ref()
            if loop is None or loop.is_closed():
                continue
            try:
                found.update((id(task), task) for task in asyncio.all_tasks(loop))
            except RuntimeError:
                return None
    for registry in registries:
        for _ in range(100):
            try:
                tasks = list(registry)
            except RuntimeError:  # "set changed size during iteration"
                continue
            found.update((id(task), task) for task in tasks)
            break
        else:
            return None
    return found
