"""How the recorder hooks asyncio's own event loops: the Python hooks, or the C hot path.

``install`` replaces ``Handle._run``, ``BaseEventLoop.create_task``, ``run_in_executor`` and
``call_exception_handler`` (what each records: recorder.py's docstring); ``uninstall`` puts
asyncio's own back. uvloop's loops are hooked apart (``uvloop_hooks``).

This is the agent's hot path, kept in its own module so the recorder's bookkeeping reads
apart from it, as uvloop's hooks do. Every loop callback runs through ``_run``, and every
task step through the ``_step`` closure in ``install``: they use only locals bound once at
install time and this module's globals, no attribute lookups on the recorder. Where the C
module was built, ``_hotpath.c`` replaces both, field for field (``_accelerate``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import os
import sys
import time
import types
from asyncio import base_events, events, format_helpers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loopscope.tasks.agent.places import short_repr
from loopscope.tasks.agent.records import LoopState

if TYPE_CHECKING:
    from loopscope.tasks.agent.recorder import Recorder

PURE_PYTHON_ENV = "LOOPSCOPE_PURE_PYTHON"
"""Set (to anything but empty) to skip the C hot path: the Python hooks record the same."""

_hotpath: Any
try:
    if os.environ.get(PURE_PYTHON_ENV):
        raise ImportError(PURE_PYTHON_ENV)
    from loopscope.tasks.agent import _hotpath
except ImportError:  # built without a compiler, or switched off: the Python hooks
    _hotpath = None

LINE_STEP_S = 0.001
"""The line a step ran to is read only for steps at least this long (it costs a lookup)."""

_original_run = events.Handle._run
_original_create_task = base_events.BaseEventLoop.create_task
_original_run_in_executor = base_events.BaseEventLoop.run_in_executor
_original_exception_handler = base_events.BaseEventLoop.call_exception_handler


def step_hook_is_free() -> bool:
    """Whether asyncio's ``Handle._run`` is still its own: no recorder (ours or another
    agent's) has hooked the loop's steps."""
    return events.Handle._run is _original_run


# One long function on purpose: the hooks close over locals bound once here, so each
# loop step pays for no attribute or global lookups (see recorder.py's docstring).
def install(recorder: Recorder) -> None:  # noqa: C901
    """Hook asyncio's loops for ``recorder``: the C hot path if ``recorder.accelerated``,
    else the Python hooks. Loops already running are picked up at their next step."""
    clock = recorder.clock
    live = recorder.live
    dirty = recorder.dirty
    finish = recorder._finish
    adopt = recorder._adopt
    slow_step = recorder._slow_step
    longest_line = recorder._longest_line
    line_step = LINE_STEP_S
    slow_s = recorder.slow_step_s
    task_types = recorder._task_types
    is_task_type = recorder._is_task_type

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

    created = recorder._created

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
    if recorder.accelerated:
        handle_class._run, loop_class.create_task = _accelerate(recorder)
    else:
        handle_class._run = _run
        loop_class.create_task = create_task
    loop_class.run_in_executor = run_in_executor
    loop_class.call_exception_handler = call_exception_handler


def _accelerate(recorder: Recorder) -> tuple[Any, Any]:
    """Hand the C hot path this recorder's objects; ``Handle._run`` and ``create_task``
    as it provides them. It does what the Python hooks in ``install`` do, field for
    field, and calls back into the methods named here for anything rare."""
    _hotpath.configure({
        "handle_type": events.Handle, "state_type": LoopState, "deque_type": collections.deque,
        "clock": None if recorder.clock is time.perf_counter else recorder.clock,
        "numbers": (LINE_STEP_S, recorder.slow_step_s, recorder.keep_finished),
        "recorder": recorder, "live": recorder.live, "dirty": recorder.dirty,
        "finished": recorder.finished, "gone": recorder.gone, "counters": recorder.counters,
        "task_types": recorder._task_types,
        "library_ids": recorder._library_ids, "program_ids": recorder._program_ids,
        "seq_counter": recorder._seq, "c_task": asyncio.Task,
        "py_is_task_type": recorder._is_task_type, "py_adopt": recorder._adopt,
        "py_finish": recorder._finish, "py_longest_line": recorder._longest_line,
        "py_slow_step": recorder._slow_step, "py_report": _report_callback_error,
        "py_created": recorder._created, "py_destroyed": recorder._destroyed,
        "py_classify": recorder._classify, "py_short_repr": short_repr,
        "original_run": _original_run, "original_create_task": _original_create_task,
    })
    run, create_task = _hotpath.descriptors(events.Handle, base_events.BaseEventLoop)
    return run, create_task


def uninstall(recorder: Recorder) -> None:
    """Put asyncio back as it was (``recorder``'s records stay readable)."""
    if recorder.accelerated:
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

