"""``write``: write bytes with aiofiles on the manager's own thread pool, then fsync."""

from __future__ import annotations

import asyncio
import os

import aiofiles

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.paths import user_path
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec, parse_size
from loopscope.tasks.units import human_bytes

CHUNK = 1 << 16
_FILLER = (b"loopscope wrote this line to show aiofiles at work.\n" * 1300)[:CHUNK]


async def run_write(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    size = parse_size(spec.args[-1])
    if len(spec.args) == 2:
        path = user_path(spec.args[0])
    else:
        path = await ctx.scratch_path()
    loop = asyncio.get_running_loop()
    async with aiofiles.open(path, "wb", executor=ctx.thread_pool) as handle:
        ctx.mark_running(record)
        ctx.progress(record, 0, size)
        written = 0
        while written < size:
            piece = _FILLER[: min(CHUNK, size - written)]
            await handle.write(piece)
            written += len(piece)
            ctx.progress(record, written, size)
        await handle.flush()
        # fsync so other readers (and a crash) see the data, off the loop like every other call
        await loop.run_in_executor(ctx.thread_pool, os.fsync, handle.fileno())
    return f"wrote {human_bytes(written)} to {path.name}, fsynced"
