"""The agent's hooks for uvloop: every task of a ``uvloop.Loop``, timed step by step.

uvloop runs its callbacks in C (its own ``Handle``) and its loop is not asyncio's
``BaseEventLoop``, so none of the recorder's asyncio hooks reach it. What uvloop does share
with asyncio is the task: ``uvloop.Loop.create_task`` makes an ordinary ``asyncio.Task``, and
that task schedules each of its steps and wake-ups through ``loop.call_soon`` (a method
call, so a Python override is honoured). Every uvloop loop is an instance of the Python
class ``uvloop.Loop`` (``uvloop.run``, ``new_event_loop``, the deprecated ``install`` /
``EventLoopPolicy``), so hooking that class covers every way a program makes one:

* ``create_task`` records each task at creation: its creation line (the first frame outside
  asyncio, uvloop and the agent), and its parent (the task whose step is running), whatever
  task factory the program set (the factory runs inside ``create_task``);
* ``call_soon`` wraps a task's step (``__self__`` is the task) in a timed step: busy time,
  steps, the longest step and its line, the state after the step, and its end. The time from
  ``call_soon`` to the step is its scheduled time, measured exactly (asyncio's hooks can
  only measure it from the start of the loop's iteration);
* ``run_in_executor`` and ``call_exception_handler`` as for asyncio (executor jobs, warnings).

The lag probe and the stall sampler need the loop's thread id, which uvloop does not expose
as ``_thread_id``: it is noted on the loop when a task is created on a running loop.

Cost: every ``call_soon`` of the program goes through one Python function, and a task's
step through a closure made for it; that is slower per step than the asyncio hooks. The
program's own callbacks (not a task's) are passed through unwrapped.

uvloop is imported by the program, after the agent started: ``install`` hooks it at once if
it is imported already, else when it is (a finder on ``sys.meta_path`` that steps aside
after the first import). Standard library only; every hook is guarded like the recorder's.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopscope.tasks.agent.recorder import Recorder

_SKIP_DIRS: tuple[str, ...] = (
    os.path.dirname(asyncio.__file__) + os.sep,
    os.path.dirname(__file__) + os.sep,
)

_installed: dict[str, Any] = {}
"""The hooked ``uvloop.Loop`` class's original methods, by name (empty: not hooked)."""
_finder: _UvloopFinder | None = None


def install(recorder: Recorder) -> None:
    """Hook uvloop for ``recorder`` now if the program imported it, else at its import."""
    global _finder
    module = sys.modules.get("uvloop")
    if module is not None:
        hook(recorder, module)
    elif _finder is None:
        _finder = _UvloopFinder(recorder)
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Put uvloop back as it was (and stop waiting for its import)."""
    global _finder
    if _finder is not None:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(_finder)
        _finder = None
    module = sys.modules.get("uvloop")
    loop_class = getattr(module, "Loop", None)
    if loop_class is not None:
        for name, original in _installed.items():
            setattr(loop_class, name, original)
        with contextlib.suppress(AttributeError):
            del loop_class._loopscope_state
    _installed.clear()


def hooked() -> bool:
    """Whether ``uvloop.Loop`` is hooked now."""
    return bool(_installed)


class _UvloopFinder(importlib.abc.MetaPathFinder):
    """Waits for ``import uvloop``, lets the import happen, then hooks the module."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "uvloop":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = spec.loader if spec is not None else None
        exec_module = getattr(loader, "exec_module", None)
        if spec is None or exec_module is None:
            return spec
        recorder = self.recorder

        def exec_and_hook(module: ModuleType) -> None:
            exec_module(module)
            uninstall_finder()
            with contextlib.suppress(Exception):
                hook(recorder, module)

        with contextlib.suppress(AttributeError):
            loader.exec_module = exec_and_hook  # type: ignore[union-attr,method-assign]
        return spec


def uninstall_finder() -> None:
    global _finder
    if _finder is not None:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(_finder)
        _finder = None


def hook(recorder: Recorder, module: ModuleType) -> None:  # noqa: C901 - hooks share locals
    """Hook ``module.Loop`` (idempotent)."""
    loop_class: Any = getattr(module, "Loop", None)
    if loop_class is None or _installed:
        return
    original_create_task = loop_class.create_task
    original_call_soon = loop_class.call_soon
    original_run_in_executor = loop_class.run_in_executor
    original_exception_handler = loop_class.call_exception_handler
    skip = (*_SKIP_DIRS, os.path.dirname(module.__file__ or "") + os.sep)
    live = recorder.live
    dirty = recorder.dirty
    accelerated = recorder.accelerated
    clock = recorder.clock
    created = recorder._created
    adopt = recorder._adopt
    finish = recorder._finish
    slow_step = recorder._slow_step
    is_task_type = recorder._is_task_type
    task_types = recorder._task_types
    c_task = asyncio.Task
    slow_s = recorder.slow_step_s
    from loopscope.tasks.agent.recorder import LINE_STEP_S as line_step

    def timed(task: Any, callback: Callable[..., Any],  # noqa: C901 - inline on purpose
              loop: Any) -> Callable[..., Any]:
        queued = clock()

        def step(*args: Any) -> Any:
            try:
                record = live.get(id(task))
                if record is None:
                    record = adopt(task, loop)
                state = record.loop
                start = clock()
                ready = record.ready_t or queued
                if start > ready:
                    record.scheduled += start - ready
                state.current = record
                state.step_t = start
            except Exception:
                return callback(*args)
            try:
                return callback(*args)
            finally:
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
                            frame = getattr(task.get_coro(), "cr_frame", None)
                            if frame is not None:
                                record.longest_line = (frame.f_code, frame.f_lineno)
                    if task.done():
                        finish(record, task, end)
                    elif task._fut_waiter is None:  # yielded: ready again
                        record.ready_t = end
                        record.waiting = False
                    else:
                        record.ready_t = 0.0  # woken later: timed from that call_soon
                        record.waiting = True
                    if took >= slow_s:
                        slow_step(record, task, took, end)
                    if not record.dirty:
                        record.dirty = True
                        # a C record itself, a Python one by its key: see Recorder.dirty
                        dirty[record.seq] = record if accelerated else record.task_id
                except Exception:
                    pass

        return step

    def call_soon(loop: Any, callback: Any, *args: Any, context: Any = None) -> Any:
        task: Any = getattr(callback, "__self__", None)
        if task is not None and not recorder.disabled:
            cls = task.__class__
            known = cls is c_task or task_types.get(cls)
            if known is None:
                known = is_task_type(cls)
            if known:
                callback = timed(task, callback, loop)
        return original_call_soon(loop, callback, *args, context=context)

    def create_task(loop: Any, coro: Any, *, name: Any = None, context: Any = None) -> Any:
        task = original_create_task(loop, coro, name=name, context=context)
        if recorder.disabled:
            return task
        try:
            state = loop.__dict__.get("_loopscope_state")
            if state is None:
                state = recorder.loop_state(loop)
            if loop.is_running():
                loop.__dict__["_thread_id"] = threading.get_ident()
                state.thread_name = threading.current_thread().name
            created(task, loop, _program_frame(sys._getframe(1), skip))
        except Exception:
            pass
        return task

    def run_in_executor(loop: Any, executor: Any, func: Any, *args: Any) -> Any:
        if not recorder.disabled:
            with contextlib.suppress(Exception):
                func = recorder._job(loop, executor, func)
        return original_run_in_executor(loop, executor, func, *args)

    def call_exception_handler(loop: Any, context: dict[str, Any]) -> Any:
        with contextlib.suppress(Exception):
            recorder._loop_error(context)
        return original_exception_handler(loop, context)

    _installed.update(
        create_task=original_create_task, call_soon=original_call_soon,
        run_in_executor=original_run_in_executor,
        call_exception_handler=original_exception_handler,
    )
    loop_class._loopscope_state = None
    loop_class.create_task = create_task
    loop_class.call_soon = call_soon
    loop_class.run_in_executor = run_in_executor
    loop_class.call_exception_handler = call_exception_handler


def _program_frame(frame: FrameType | None, skip: tuple[str, ...]) -> FrameType | None:
    """The first frame outside asyncio, uvloop and the agent (the task's creation line)."""
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame = frame.f_back
    return frame
