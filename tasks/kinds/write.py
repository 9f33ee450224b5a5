"""``write``: write bytes with aiofiles on the manager's own thread pool, then fsync."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import aiofiles

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.paths import path_word, user_path
from loopscope.tasks.kinds.values import parse_size
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.units import human_bytes

CHUNK = 1 << 16
_FILLER = (b"loopscope wrote this line to show aiofiles at work.\n" * 1300)[:CHUNK]


@dataclass(frozen=True, slots=True)
class WriteArgs:
    size: int
    size_text: str
    """BYTES as typed (``10M``), for the target column."""
    path: str | None = None
    """As typed; None writes a scratch file removed on exit."""


async def run_write(ctx: TaskContext, record: TaskRecord, args: WriteArgs) -> str:
    size = args.size
    if args.path is not None:
        path = user_path(args.path)
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


def _build(path: str | None, size: tuple[int, str]) -> WriteArgs:
    return WriteArgs(size=size[0], size_text=size[1], path=path)


def _size(word: str) -> tuple[int, str]:
    return parse_size(word), word


KIND = Kind(
    "write",
    help="write BYTES (4096, 64K, 10M) with aiofiles, then flush and fsync",
    runner=run_write,
    build=_build,
    args=(
        Param("path", path_word, None, metavar="PATH"),
        Param("size", _size, metavar="BYTES"),
    ),
    describe=lambda args: f"{args.path or '(scratch file)'} {args.size_text}",
    details="write BYTES (`4096`, `64K`, `10M`) with aiofiles, flush, then fsync in the "
    "executor; no PATH writes a scratch file removed on exit",
    example="write 10M x4",
)
