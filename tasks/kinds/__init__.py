"""One small coroutine per task kind, and the registry that maps a kind's name to it.

A runner gets the manager (as a :class:`TaskContext`), the task's record and its spec. It
calls ``ctx.mark_running`` when the task truly starts (a worker picked it up, a connection was
free), reports bytes through ``ctx.progress``, and returns a short summary of its result.
Raising ends the task in the ``exception`` state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.fetch import run_fetch
from loopscope.tasks.kinds.files import run_read, run_write
from loopscope.tasks.kinds.jobs import run_cpu, run_thread
from loopscope.tasks.kinds.timers import run_block, run_fail, run_sleep
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec

Runner = Callable[[TaskContext, TaskRecord, TaskSpec], Awaitable[str]]

RUNNERS: dict[str, Runner] = {
    "fetch": run_fetch,
    "read": run_read,
    "write": run_write,
    "sleep": run_sleep,
    "thread": run_thread,
    "cpu": run_cpu,
    "fail": run_fail,
    "block": run_block,
}

__all__ = ["RUNNERS", "Runner", "TaskContext"]
