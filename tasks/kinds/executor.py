"""What the executor kinds (``thread``, ``cpu``) share.

A job is "pending" until a worker picks it up and stamps the time (a thread calls back into
the loop; a process announces itself on a queue the manager reads), so a full pool shows as
a queue of pending tasks, not as tasks that run slowly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.records import TaskRecord


def starter(ctx: TaskContext, record: TaskRecord) -> Callable[[float], None]:
    loop = asyncio.get_running_loop()

    def on_start(at: float) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed as the worker started
            loop.call_soon_threadsafe(ctx.mark_running, record, at)

    return on_start
