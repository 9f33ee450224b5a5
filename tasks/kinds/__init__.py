"""One small coroutine per task kind, and the registry that maps a kind's name to it.

A runner gets the manager (as a :class:`TaskContext`), the task's record and its spec. It
calls ``ctx.mark_running`` when the task truly starts (a worker picked it up, a connection was
free), reports bytes through ``ctx.progress``, and returns a short summary of its result.
Raising ends the task in the ``exception`` state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.block import run_block
from loopscope.tasks.kinds.cpu import run_cpu
from loopscope.tasks.kinds.fail import run_fail
from loopscope.tasks.kinds.fetch import run_fetch
from loopscope.tasks.kinds.read import run_read
from loopscope.tasks.kinds.sleep import run_sleep
from loopscope.tasks.kinds.thread import run_thread
from loopscope.tasks.kinds.write import run_write
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
