"""``write``: write bytes with aiofiles on the manager's own thread pool, then fsync.

A user's file is never overwritten unless the spec says ``overwrite=true``, never written
through a symbolic link, and never left half-written: the bytes go to a new temporary file
in the same directory, which takes the real name only once it is complete and fsynced (see
:mod:`~loopscope.tasks.kinds.paths`). A failure or a cancel removes the temporary file.
``write PATH 0`` on an existing file is refused like any other size.
"""

from __future__ import annotations

import asyncio
import functools
import os
from typing import Any

import aiofiles.threadpool

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.paths import (
    discard_temporary,
    move_into_place,
    open_in_worker,
    open_temporary_beside,
    remove_quietly,
    user_path,
)
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec, parse_bool, parse_size
from loopscope.tasks.units import human_bytes

CHUNK = 1 << 16
_FILLER = (b"loopscope wrote this line to show aiofiles at work.\n" * 1300)[:CHUNK]


async def run_write(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    size = parse_size(spec.args[-1])
    overwrite = parse_bool(spec.option("overwrite", "false") or "false")
    if len(spec.args) == 2:
        path = user_path(spec.args[0])
    else:
        path = await ctx.scratch_path()
    loop = asyncio.get_running_loop()
    file, temporary = await open_in_worker(
        ctx.thread_pool,
        functools.partial(open_temporary_beside, path, overwrite),
        discard_temporary,
    )
    try:
        handle: Any = aiofiles.threadpool.wrap(file, loop=loop, executor=ctx.thread_pool)
        try:
            ctx.mark_running(record)
            ctx.progress(record, 0, size)
            written = 0
            while written < size:
                piece = _FILLER[: min(CHUNK, size - written)]
                await handle.write(piece)
                written += len(piece)
                ctx.progress(record, written, size)
            await handle.flush()
            # fsync so other readers (and a crash) see the data, off the loop like every call
            await loop.run_in_executor(ctx.thread_pool, os.fsync, handle.fileno())
        finally:
            await handle.close()
        await loop.run_in_executor(
            ctx.thread_pool, move_into_place, temporary, path, overwrite
        )
    except BaseException:
        remove_quietly(temporary)  # one unlink, on the loop: it must happen even when cancelled
        raise
    return f"wrote {human_bytes(written)} to {path.name}, fsynced"
