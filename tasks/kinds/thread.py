"""``thread``: a blocking wait handed to the manager's thread pool with run_in_executor."""

from __future__ import annotations

import asyncio
import threading

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.executor import starter
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec, parse_seconds
from loopscope.tasks.workers import blocking_wait


async def run_thread(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    """A blocking wait in the thread pool: the loop stays free while a worker is tied up."""
    seconds = parse_seconds(spec.args[0])
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    try:
        elapsed = await loop.run_in_executor(
            ctx.thread_pool, blocking_wait, seconds, starter(ctx, record), stop
        )
    except asyncio.CancelledError:
        stop.set()  # frees the worker now rather than after the full wait
        raise
    return f"a worker blocked for {elapsed:.3f} s"
