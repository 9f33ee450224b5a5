"""``read``: read a file with aiofiles on the manager's own thread pool.

Every aiofiles call hops to a worker thread (~0.1 ms here), so on small cached files
concurrent aiofiles can lose to plain sequential reads; the gain figures show that honestly.
In ``chunks`` and ``lines`` mode memory stays bounded whatever the file's size; ``whole`` mode
holds the file in memory, so it stops at :data:`MAX_WHOLE_READ`.

Only regular files and character devices the user names are read, and opening never waits
(see :func:`~loopscope.tasks.kinds.paths.open_for_reading`): a FIFO is refused at once instead
of hanging a worker thread. A device has no end (``/dev/zero``), so it is read up to
:data:`MAX_DEVICE_READ` in any mode.
"""

from __future__ import annotations

import asyncio
import functools
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiofiles.threadpool

from loopscope.tasks.errors import ReadTooLarge
from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.paths import (
    close_quietly,
    open_for_reading,
    open_in_worker,
    path_word,
    preview,
    user_path,
)
from loopscope.tasks.kinds.values import choice
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.units import human_bytes

CHUNK = 1 << 16
LINE_LIMIT = 1 << 20
"""Longest line read at once in ``lines`` mode: a file with no newlines stays bounded."""
MAX_WHOLE_READ = 256 * 2**20
"""Most bytes ``mode=whole`` holds in memory (256 MiB); bigger needs ``mode=chunks``."""
MAX_DEVICE_READ = 256 * 2**20
"""Most bytes read from a character device in any mode: ``/dev/zero`` never ends."""
READ_MODES = ("whole", "lines", "chunks")


@dataclass(frozen=True, slots=True)
class ReadArgs:
    path: str | None = None
    """As typed (``~`` not yet expanded); None reads one of the generated sample files."""
    mode: str = "whole"


async def run_read(ctx: TaskContext, record: TaskRecord, args: ReadArgs) -> str:
    path = user_path(args.path) if args.path is not None else await ctx.sample_file()
    if args.path is None:
        record.target = path.name  # "sample-64KiB.txt": short enough for a narrow column
    mode = args.mode
    loop = asyncio.get_running_loop()
    file, info = await open_in_worker(
        ctx.thread_pool, functools.partial(open_for_reading, path), close_quietly
    )
    handle: Any = aiofiles.threadpool.wrap(file, loop=loop, executor=ctx.thread_pool)
    try:
        ctx.mark_running(record)
        device = stat.S_ISCHR(info.st_mode)
        total = None if device else info.st_size
        ctx.progress(record, 0, total)
        if mode == "whole":
            data = await _read_whole(handle, path, 0 if device else info.st_size)
            record.preview = preview(data)
            ctx.progress(record, len(data), total)
            return f"read {human_bytes(len(data))} at once"
        cap = MAX_DEVICE_READ if device else None
        if mode == "chunks":
            return await _read_chunks(ctx, record, handle, total, cap)
        return await _read_lines(ctx, record, handle, total, cap)
    finally:
        await handle.close()


def _too_large(path: Path, size: str) -> ReadTooLarge:
    """Advice first, path last: a table cell cut short still says what to do."""
    return ReadTooLarge(
        f"use mode=chunks: mode=whole holds at most {human_bytes(MAX_WHOLE_READ)} in memory, "
        f"this is {size}: {path}"
    )


async def _read_whole(handle: Any, path: Path, size_hint: int) -> bytes:
    """At most MAX_WHOLE_READ bytes in one read, or ReadTooLarge (checked before reading when
    the size is known; a device or a /proc file says 0, so it is read up to the cap + 1)."""
    cap = MAX_WHOLE_READ
    if size_hint > cap:
        raise _too_large(path, human_bytes(size_hint))
    first = size_hint + 1 if size_hint else cap + 1
    data: bytes = await handle.read(first) or b""
    if len(data) == first and first <= cap:  # the file grew since fstat: read on to the cap
        data += await handle.read(cap + 1 - first) or b""
    if len(data) > cap:
        raise _too_large(path, f"more than {human_bytes(cap)}")
    return data


async def _read_chunks(
    ctx: TaskContext, record: TaskRecord, handle: Any, total: int | None, cap: int | None
) -> str:
    done = chunks = 0
    while cap is None or done < cap:
        chunk = await handle.read(CHUNK if cap is None else min(CHUNK, cap - done))
        if not chunk:  # b"" at the end; None from a device with nothing ready
            break
        if chunks == 0:
            record.preview = preview(chunk)
        chunks += 1
        done += len(chunk)
        ctx.progress(record, done, total)
    return f"read {human_bytes(done)} in {_count(chunks, 'chunk')}{_capped(done, cap)}"


async def _read_lines(
    ctx: TaskContext, record: TaskRecord, handle: Any, total: int | None, cap: int | None
) -> str:
    done = lines = reported = 0
    while cap is None or done < cap:
        line = await handle.readline(LINE_LIMIT if cap is None else min(LINE_LIMIT, cap - done))
        if not line:
            break
        if lines == 0:
            record.preview = preview(line)
        lines += 1
        done += len(line)
        if done - reported >= CHUNK:
            ctx.progress(record, done, total)
            reported = done
    ctx.progress(record, done, total)
    return f"read {_count(lines, 'line')}, {human_bytes(done)}{_capped(done, cap)}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _capped(done: int, cap: int | None) -> str:
    if cap is not None and done >= cap:
        return f" (a device: stopped at the {human_bytes(cap)} cap)"
    return ""


def _target(args: ReadArgs) -> str:
    path = args.path if args.path is not None else "(sample file)"
    return path if args.mode == "whole" else f"{path} [{args.mode}]"


KIND = Kind(
    "read",
    help="read a file with aiofiles (no PATH: one of the generated sample files)",
    runner=run_read,
    build=ReadArgs,
    args=(Param("path", path_word, None, metavar="PATH"),),
    options=(
        Param("mode", choice(READ_MODES, "mode"), "whole", metavar="|".join(READ_MODES),
              normal=str.lower),
    ),
    describe=_target,
    details="read a file with aiofiles; no PATH reads one of the generated sample files "
    "(4 KiB to 8 MiB). `chunks` and `lines` keep memory bounded; `lines` makes one thread hop "
    "per line, as `async for line in f` does. `whole` holds at most 256 MiB (bigger: "
    "`mode=chunks`). Regular files and character devices only: a FIFO is refused at once, and "
    "a device such as `/dev/zero` is read up to 256 MiB in any mode.",
    example="read x10 mode=chunks",
)
