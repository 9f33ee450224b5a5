"""``cpu``: a pure-Python sum of squares in the process pool (or, with ``in=thread``, threads)."""

from __future__ import annotations

import asyncio
import threading

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.executor import starter
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import MAX_CPU_N, TaskSpec, parse_count
from loopscope.tasks.workers import cpu_in_process, cpu_in_thread


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
                ctx.thread_pool, cpu_in_thread, n, starter(ctx, record), stop
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
