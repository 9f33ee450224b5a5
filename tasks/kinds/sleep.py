"""``sleep``: ``await asyncio.sleep``, the kind that needs nothing but the loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.values import parse_seconds
from loopscope.tasks.records import TaskRecord


@dataclass(frozen=True, slots=True)
class Seconds:
    """The parsed arguments of the kinds that take one duration (sleep, thread, block)."""

    seconds: float


def seconds_target(args: Seconds) -> str:
    return f"{args.seconds:g} s"


async def run_sleep(ctx: TaskContext, record: TaskRecord, args: Seconds) -> str:
    ctx.mark_running(record)
    await asyncio.sleep(args.seconds)
    return f"slept {args.seconds:g} s"


KIND = Kind(
    "sleep",
    help="await asyncio.sleep(SECONDS): waits without using the loop",
    runner=run_sleep,
    build=Seconds,
    args=(Param("seconds", parse_seconds, metavar="SECONDS"),),
    describe=seconds_target,
    details="`await asyncio.sleep(SECONDS)`; `0.5`, `2s` and `200ms` all work",
    example="sleep 1 x10",
)
