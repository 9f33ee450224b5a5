"""``block``: ``time.sleep`` ON the event loop, freezing everything, on purpose."""

from __future__ import annotations

import asyncio
import time

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.sleep import Seconds, seconds_target
from loopscope.tasks.kinds.values import MAX_BLOCK_SECONDS, parse_seconds
from loopscope.tasks.records import TaskRecord

BLOCK_NOTICE_S = 0.2


async def run_block(ctx: TaskContext, record: TaskRecord, args: Seconds) -> str:
    """time.sleep ON the event loop: nothing else runs until it returns. On purpose."""
    seconds = args.seconds
    ctx.mark_running(record)
    # A moment for a dashboard to draw this task "running" before the freeze it causes.
    await asyncio.sleep(BLOCK_NOTICE_S)
    start = ctx.clock()
    time.sleep(seconds)  # noqa: ASYNC251 - blocking the loop is what this kind demonstrates
    ctx.note_on_loop(start, ctx.clock(), f"task #{record.id} block {seconds:g} s")
    return f"blocked the loop for {seconds:g} s"


def _block_seconds(word: str) -> float:
    return parse_seconds(word, what="block seconds", maximum=MAX_BLOCK_SECONDS)


KIND = Kind(
    "block",
    help="time.sleep ON the event loop: freezes everything, on purpose",
    runner=run_block,
    build=Seconds,
    args=(Param("seconds", _block_seconds, metavar="SECONDS"),),
    describe=seconds_target,
    details="`time.sleep` **on the event loop**, on purpose (at most 60 s): everything "
    "freezes, the lag monitor catches it and names the task",
    example="block 1.5",
)
