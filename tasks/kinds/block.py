"""``block``: ``time.sleep`` ON the event loop, freezing everything, on purpose."""

from __future__ import annotations

import asyncio
import time

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec, parse_seconds

BLOCK_NOTICE_S = 0.2


async def run_block(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    """time.sleep ON the event loop: nothing else runs until it returns. On purpose."""
    seconds = parse_seconds(spec.args[0])
    ctx.mark_running(record)
    # A moment for a dashboard to draw this task "running" before the freeze it causes.
    await asyncio.sleep(BLOCK_NOTICE_S)
    start = ctx.clock()
    time.sleep(seconds)  # noqa: ASYNC251 - blocking the loop is what this kind demonstrates
    ctx.note_on_loop(start, ctx.clock(), f"task #{record.id} block {seconds:g} s")
    return f"blocked the loop for {seconds:g} s"
