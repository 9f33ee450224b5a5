"""``cpu``: a pure-Python sum of squares in the process pool (or, with ``in=thread``, threads)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.executor import starter
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.values import choice, count_text, parse_count
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.workers import cpu_in_process, cpu_in_thread

CPU_POOLS = ("process", "thread")


@dataclass(frozen=True, slots=True)
class CpuArgs:
    n: int
    pool: str = "process"


async def run_cpu(ctx: TaskContext, record: TaskRecord, args: CpuArgs) -> str:
    """Sum of squares up to N in pure Python: in processes it uses every core, in threads the
    GIL lets only one run at a time."""
    n = args.n
    loop = asyncio.get_running_loop()
    if args.pool == "thread":
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


KIND = Kind(
    "cpu",
    help="pure-Python sum of squares up to N in the process pool (or threads: the GIL)",
    runner=run_cpu,
    build=CpuArgs,
    args=(Param("n", parse_count, metavar="N"),),
    options=(
        Param("in", choice(CPU_POOLS, "in"), "process", metavar="process|thread",
              normal=str.lower, name="pool"),
    ),
    # "3M in process", as the spec may write it: "3,000,000 in process" was cut at 160 columns
    describe=lambda args: f"{count_text(args.n)} in {args.pool}",
    details="pure-Python sum of squares up to N (`3000000`, `3M`, `3e6`), in the process pool "
    "(default) or the thread pool, to show the GIL",
    example="cpu 2000000 x4",
)
