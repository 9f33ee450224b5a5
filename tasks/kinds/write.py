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
from dataclasses import dataclass
from typing import Any

import aiofiles.threadpool

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.paths import (
    discard_temporary,
    move_into_place,
    naming,
    open_in_worker,
    open_temporary_beside,
    path_word,
    remove_quietly,
    user_path,
)
from loopscope.tasks.kinds.values import bool_text, parse_bool, parse_size
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
    overwrite: bool = False
    """Replace an existing regular file (never a link, a FIFO, a directory or a device)."""


async def run_write(ctx: TaskContext, record: TaskRecord, args: WriteArgs) -> str:
    size = args.size
    overwrite = args.overwrite
    if args.path is not None:
        path = user_path(args.path)
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
    except OSError as error:
        remove_quietly(temporary)
        if error.filename is None and error.strerror:  # ENOSPC, EFBIG: say which file
            raise naming(error, path) from error
        raise
    except BaseException:
        remove_quietly(temporary)  # one unlink, on the loop: it must happen even when cancelled
        raise
    return f"wrote {human_bytes(written)} to {path.name}, fsynced"


def _build(path: str | None, size: tuple[int, str], overwrite: bool = False) -> WriteArgs:
    return WriteArgs(size=size[0], size_text=size[1], path=path, overwrite=overwrite)


def _size(word: str) -> tuple[int, str]:
    return parse_size(word), word


KIND = Kind(
    "write",
    help="write BYTES (4096, 64K, 10M) with aiofiles, then fsync; never replaces a file unasked",
    runner=run_write,
    build=_build,
    args=(
        Param("path", path_word, None, metavar="PATH"),
        Param("size", _size, metavar="BYTES"),
    ),
    options=(Param("overwrite", parse_bool, False, metavar="true", normal=bool_text),),
    describe=lambda args: f"{args.path or '(scratch file)'} {args.size_text}",
    details="write BYTES (`4096`, `64K`, `10M`) with aiofiles, flush, then fsync in the "
    "executor, into a temporary file beside PATH that is renamed into place when complete. An "
    "existing file is replaced only with `overwrite=true`; symbolic links, FIFOs, directories "
    "and devices are refused. No PATH writes a scratch file removed on exit.",
    example="write 10M x4",
)
