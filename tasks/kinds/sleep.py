"""``sleep``: ``await asyncio.sleep``, the kind that needs nothing but the loop."""

from __future__ import annotations

import asyncio

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec, parse_seconds


async def run_sleep(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    seconds = parse_seconds(spec.args[0])
    ctx.mark_running(record)
    await asyncio.sleep(seconds)
    return f"slept {seconds:g} s"
