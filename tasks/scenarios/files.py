"""The ``files`` scenario: many files read with aiofiles, concurrently and one after another,
beside plain sequential open(). It says which was fastest, including when aiofiles loses."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from loopscope.tasks.records import TaskRecord
from loopscope.tasks.samples import sample_text
from loopscope.tasks.scenarios.base import Scenario, ScenarioContext
from loopscope.tasks.units import human_bytes, human_seconds, plural


def write_files(directory: Path, count: int, size: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    text = sample_text(size)
    paths = []
    for n in range(count):
        path = directory / f"file-{n:03d}.txt"
        path.write_bytes(text)
        paths.append(path)
    return paths


def read_plainly(paths: list[Path]) -> int:
    """Plain open().read(), one file after another, in one worker thread."""
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            total += len(handle.read())
    return total


async def files(ctx: ScenarioContext) -> None:
    count: int = ctx.option("count", 50)
    size: int = ctx.option("size", 32 * 1024)
    manager = ctx.manager
    folder = (await manager.scratch.path("files", "")).with_suffix("")
    loop = asyncio.get_running_loop()
    paths = await loop.run_in_executor(manager.thread_pool, write_files, folder, count, size)
    await loop.run_in_executor(manager.thread_pool, read_plainly, paths)  # warm the page cache
    ctx.say(f"{plural(count, 'file')} of {human_bytes(size)} written and read once (a warm cache)")
    walls: dict[str, float] = {}

    plain = ctx.batch("plain open(), one after another, in a worker thread")

    async def plainly(record: TaskRecord) -> int:
        return await loop.run_in_executor(manager.thread_pool, read_plainly, paths)

    started = time.perf_counter()
    await ctx.track(plain, "read", f"{plural(count, 'file')} with open()", plainly,
                    summary=lambda n: f"read {human_bytes(n)}")
    walls["plain open(), sequential"] = time.perf_counter() - started
    ctx.close(plain)

    for mode in ("whole", "chunks", "lines"):
        specs = "; ".join(f"read {path} mode={mode}" for path in paths)
        batch = ctx.launch(specs, f"aiofiles, mode={mode}, all at once")
        await batch.wait()
        walls[f"aiofiles {mode}, concurrent"] = ctx.wall(batch)
        if mode == "whole":
            replay = manager.replay_sequential(batch)
            ctx.batches.append(replay)
            await replay.wait()
            walls["aiofiles whole, sequential"] = ctx.wall(replay)
    ctx.data["walls_s"] = {name: round(wall, 4) for name, wall in walls.items()}
    for name, wall in walls.items():
        ctx.say(f"{name:32} {human_seconds(wall)}")
    fastest = min(walls, key=walls.__getitem__)
    ctx.data["fastest"] = fastest
    if fastest.startswith("plain"):
        ctx.say(f"fastest: {fastest}. Every aiofiles call hops to a thread (~0.1 ms); on "
                "small, cached files that costs more than the reading, so concurrency loses. "
                "aiofiles is for keeping the loop free, not for speed.")
    else:
        ctx.say(f"fastest: {fastest}: here the reads waited on the disk, and overlapping "
                "them paid for the thread hops.")


FILE_SCENARIOS = [
    Scenario(
        "files",
        "Many files: aiofiles vs plain reads",
        "Fifty small files are read with aiofiles all at once (whole, in chunks, line by line) "
        "and one after another, beside plain open() in a worker thread. Every aiofiles call "
        "hops to a thread, so on small cached files concurrent aiofiles is usually slower than "
        "plain sequential reads, and line by line is slowest: the scenario measures it and "
        "says so. aiofiles keeps the loop free; it does not make reading faster.",
        files,
    ),
]
