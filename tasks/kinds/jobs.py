"""``thread`` and ``cpu``: work handed to the manager's executors with run_in_executor.

A job is "pending" until a worker picks it up and stamps the time (a thread calls back into
the loop; a process announces itself on a queue the manager reads), so a full pool shows as
a queue of pending tasks, not as tasks that run slowly.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import MAX_CPU_N, TaskSpec, parse_count, parse_seconds
from loopscope.tasks.workers import blocking_wait, cpu_in_process, cpu_in_thread


def _starter(ctx: TaskContext, record: TaskRecord) -> Callable[[float], None]:
    loop = asyncio.get_running_loop()

    def on_start(at: float) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed as the worker started
            loop.call_soon_threadsafe(ctx.mark_running, record, at)

    return on_start


async def run_thread(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    """A blocking wait in the thread pool: the loop stays free while a worker is tied up."""
    seconds = parse_seconds(spec.args[0])
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    try:
        elapsed = await loop.run_in_executor(
            ctx.thread_pool, blocking_wait, seconds, _starter(ctx, record), stop
        )
    except asyncio.CancelledError:
        stop.set()  # frees the worker now rather than after the full wait
        raise
    return f"a worker blocked for {elapsed:.3f} s"


async def run_cpu(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    """Sum of squares up to N in pure Python: in processes it uses every core, in threads the
    GIL lets only one run at a time."""
    n = parse_count(spec.args[0], what="N", maximum=MAX_CPU_N)
    loop = asyncio.get_running_loop()
    if spec.option("in", "process") == "thread":
        stop = threading.Event()
        ctx.gil_jobs_running += 1  # so a lag spike can be blamed on the GIL
        try:
            total = await loop.run_in_executor(
                ctx.thread_pool, cpu_in_thread, n, _starter(ctx, record), stop
            )
        except asyncio.CancelledError:
            stop.set()
            raise
        finally:
            ctx.gil_jobs_running -= 1
    else:
        # A job already running in a process cannot be interrupted: cancelling marks the task
        # cancelled at once and the worker finishes the sum on its own (aclose ends it).
        ctx.expect_process_start(record)
        total = await ctx.run_in_process(cpu_in_process, n, record.id)
    digits = str(total)
    return f"sum = {digits if len(digits) <= 24 else digits[:10] + '…e' + str(len(digits) - 1)}"
