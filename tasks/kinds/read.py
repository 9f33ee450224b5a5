"""``read``: read a file with aiofiles on the manager's own thread pool.

Every aiofiles call hops to a worker thread (~0.1 ms here), so on small cached files
concurrent aiofiles can lose to plain sequential reads; the gain figures show that honestly.
In ``chunks`` and ``lines`` mode memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import aiofiles

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.paths import path_word, preview, user_path
from loopscope.tasks.kinds.values import choice
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.units import human_bytes

CHUNK = 1 << 16
LINE_LIMIT = 1 << 20
"""Longest line read at once in ``lines`` mode: a file with no newlines stays bounded."""
READ_MODES = ("whole", "lines", "chunks")


@dataclass(frozen=True, slots=True)
class ReadArgs:
    path: str | None = None
    """As typed (``~`` not yet expanded); None reads one of the generated sample files."""
    mode: str = "whole"


async def run_read(ctx: TaskContext, record: TaskRecord, args: ReadArgs) -> str:
    path = user_path(args.path) if args.path is not None else await ctx.sample_file()
    if args.path is None:
        record.target = f"{path.name} (sample)"
    mode = args.mode
    async with aiofiles.open(path, "rb", executor=ctx.thread_pool) as handle:
        ctx.mark_running(record)
        total = os.fstat(handle.fileno()).st_size
        ctx.progress(record, 0, total)
        if mode == "whole":
            data = await handle.read()
            record.preview = preview(data)
            ctx.progress(record, len(data), total)
            return f"read {human_bytes(len(data))} at once"
        done = 0
        if mode == "chunks":
            chunks = 0
            while chunk := await handle.read(CHUNK):
                if chunks == 0:
                    record.preview = preview(chunk)
                chunks += 1
                done += len(chunk)
                ctx.progress(record, done, total)
            return f"read {human_bytes(done)} in {chunks:,} chunks"
        lines = 0
        reported = 0
        while line := await handle.readline(LINE_LIMIT):
            if lines == 0:
                record.preview = preview(line)
            lines += 1
            done += len(line)
            if done - reported >= CHUNK:
                ctx.progress(record, done, total)
                reported = done
        ctx.progress(record, done, total)
        return f"read {lines:,} lines, {human_bytes(done)}"


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
    "per line, as `async for line in f` does.",
    example="read x10 mode=chunks",
)
