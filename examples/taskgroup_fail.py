"""A TaskGroup whose child fails: the group cancels the other children and raises.

    python examples/taskgroup_fail.py
    loopscope watch examples/taskgroup_fail.py

``download`` fails after 100 ms; ``resize`` and ``upload`` were still waiting, so the group
cancels them. ``main`` catches the ``ValueError`` out of the ``ExceptionGroup``.
"""

from __future__ import annotations

import asyncio


async def resize() -> str:
    await asyncio.sleep(1.0)
    return "resized"


async def download() -> bytes:
    await asyncio.sleep(0.1)
    raise ValueError("checksum mismatch")  # the child that fails


async def upload() -> str:
    await asyncio.sleep(2.0)
    return "uploaded"


async def main() -> None:
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(resize(), name="resize")
            group.create_task(download(), name="download")
            group.create_task(upload(), name="upload")
    except* ValueError as failures:
        print(f"the group failed: {failures.exceptions[0]!r}; the others were cancelled")


if __name__ == "__main__":
    asyncio.run(main())
