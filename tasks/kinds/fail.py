"""``fail``: a task that raises after a short delay, to show an ``exception`` row."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from loopscope.tasks.errors import InjectedFailure
from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.records import TaskRecord

FAIL_AFTER_S = 0.1


@dataclass(frozen=True, slots=True)
class FailArgs:
    words: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return " ".join(self.words)


async def run_fail(ctx: TaskContext, record: TaskRecord, args: FailArgs) -> str:
    ctx.mark_running(record)
    await asyncio.sleep(FAIL_AFTER_S)
    raise InjectedFailure(args.message or "this task fails on purpose")


KIND = Kind(
    "fail",
    help="raises an exception after a short delay",
    runner=run_fail,
    build=FailArgs,
    args=(Param("words", metavar="MESSAGE", many=True, default=()),),
    describe=lambda args: args.message or "(on purpose)",
    details=f"raises `InjectedFailure(MESSAGE)` after {FAIL_AFTER_S:g} s",
    example="fail x3",
)
