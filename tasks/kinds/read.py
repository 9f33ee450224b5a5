"""``read``: read a file with aiofiles on the manager's own thread pool.

Every aiofiles call hops to a worker thread (~0.1 ms here), so on small cached files
concurrent aiofiles can lose to plain sequential reads; the gain figures show that honestly.
In ``chunks`` and ``lines`` mode memory stays bounded whatever the file's size.
"""

from __future__ import annotations

import os

import aiofiles

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.paths import preview, user_path
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec
from loopscope.tasks.units import human_bytes, plural

CHUNK = 1 << 16
LINE_LIMIT = 1 << 20
"""Longest line read at once in ``lines`` mode: a file with no newlines stays bounded."""


async def run_read(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    path = user_path(spec.args[0]) if spec.args else await ctx.sample_file()
    if not spec.args:
        record.target = f"{path.name} (sample)"
    mode = spec.option("mode", "whole")
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
            return f"read {human_bytes(done)} in {plural(chunks, 'chunk')}"
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
        return f"read {plural(lines, 'line')}, {human_bytes(done)}"
