"""``thread``: a blocking wait handed to the manager's thread pool with run_in_executor."""

from __future__ import annotations

import asyncio
import threading

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.executor import starter
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.sleep import Seconds, seconds_target
from loopscope.tasks.kinds.values import parse_seconds
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.units import human_seconds
from loopscope.tasks.workers import blocking_wait


async def run_thread(ctx: TaskContext, record: TaskRecord, args: Seconds) -> str:
    """A blocking wait in the thread pool: the loop stays free while a worker is tied up."""
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    try:
        elapsed = await loop.run_in_executor(
            ctx.thread_pool, blocking_wait, args.seconds, starter(ctx, record), stop
        )
    except asyncio.CancelledError:
        stop.set()  # frees the worker now rather than after the full wait
        raise
    return f"a worker blocked for {human_seconds(elapsed)}"


KIND = Kind(
    "thread",
    help="a blocking sleep run in the thread pool with run_in_executor",
    runner=run_thread,
    build=Seconds,
    args=(Param("seconds", parse_seconds, metavar="SECONDS"),),
    describe=seconds_target,
    details="a blocking wait in the thread pool through `run_in_executor`; a full pool shows "
    "as pending tasks",
    example="thread 1 x10",
)
