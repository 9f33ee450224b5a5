"""``fail``: a task that raises after a short delay, to show an ``exception`` row."""

from __future__ import annotations

import asyncio

from loopscope.tasks.errors import InjectedFailure
from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec

FAIL_AFTER_S = 0.1


async def run_fail(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    ctx.mark_running(record)
    await asyncio.sleep(FAIL_AFTER_S)
    raise InjectedFailure(" ".join(spec.args) or "this task fails on purpose")
