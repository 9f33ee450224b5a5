"""The program's executor jobs (``loop.run_in_executor``): queued, running, how they ended.

A job is timed by wrapping the function the program hands to the executor, so it is seen
from the executor's thread as well as the loop's. It is a component of the recorder rather
than part of its task bookkeeping because it shares nothing with it but the clock, the
loop's current task (the job's parent) and the drop counts: jobs are few and none of this
is on the per-step hot path.

A job is a list, not a record object, because the executor's thread writes it in place
while the sender's thread copies it: ``[id, name, parent task seq, loop id, executor,
state, queued_t, started_t, ended_t, error]`` (``wire.decode_job``'s order).
"""

from __future__ import annotations

import contextvars
import functools
import itertools
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopscope.tasks.agent.records import LoopState

KEEP_JOBS = 2000
"""Jobs remembered by id (the oldest forgotten first)."""


def job_name(func: Any) -> str:
    """What the job runs, by name: through ``functools.partial`` and the context's ``run``
    that ``asyncio.to_thread`` wraps every function in (the trial saw ``partial`` for
    ``asyncio.to_thread(time.sleep, 3)``)."""
    for _ in range(5):  # a partial of a partial...: a few levels, never a loop
        if isinstance(func, functools.partial):
            inner = func.func
            if getattr(inner, "__name__", None) == "run" and isinstance(
                    getattr(inner, "__self__", None), contextvars.Context) and func.args:
                func = func.args[0]  # to_thread: partial(context.run, func, *args)
            else:
                func = inner
        else:
            break
    name = getattr(func, "__qualname__", None) or type(func).__qualname__
    return str(name)


class ExecutorJobs:
    """Every executor job the program started, and the queue of those that changed."""

    def __init__(self, clock: Callable[[], float], loop_state: Callable[[Any], LoopState],
                 dropped: dict[str, int]) -> None:
        self.clock = clock
        self._loop_state = loop_state
        self._dropped = dropped
        """The recorder's drop counts (``jobs``: changes lost from a full queue)."""
        self.jobs: dict[int, list[Any]] = {}
        self.changed: deque[list[Any]] = deque(maxlen=5000)
        """Jobs changed since the sender last looked (it drains this)."""
        self._seq = itertools.count(1)

    def wrap(self, loop: Any, executor: Any, func: Callable[..., Any]) -> Callable[..., Any]:
        """Note a job queued on ``loop``'s ``executor``; return ``func`` wrapped to time it."""
        state = self._loop_state(loop)
        current = state.current
        name = job_name(func)
        job: list[Any] = [
            next(self._seq), name, current.seq if current else None, state.id,
            "default" if executor is None else type(executor).__name__, "queued",
            self.clock(), None, None, None,
        ]
        jobs = self.jobs
        jobs[job[0]] = job
        if len(jobs) > KEEP_JOBS:
            del jobs[next(iter(jobs))]
        self._changed(job)
        clock = self.clock

        def run(*args: Any) -> Any:
            job[5] = "running"
            job[7] = clock()
            self._changed(job)
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
                self._changed(job)

        return run

    def _changed(self, job: list[Any]) -> None:
        if len(self.changed) == self.changed.maxlen:
            self._dropped["jobs"] += 1
        self.changed.append(job)
