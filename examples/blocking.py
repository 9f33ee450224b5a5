"""A task that blocks its event loop with ``time.sleep``: every other task waits.

    python examples/blocking.py
    loopscope watch examples/blocking.py

``ticker`` wants to tick every 50 ms. ``report`` calls ``time.sleep(0.3)`` (a blocking call
in a coroutine), which holds the loop for 300 ms: the ticker is late, the loop's lag jumps,
and loopscope blames the spike on ``report`` and the line of the ``time.sleep``. The fix
is ``await asyncio.sleep(0.3)`` (or ``await asyncio.to_thread(...)`` for real blocking work).
"""

from __future__ import annotations

import asyncio
import time


async def ticker(ticks: int = 12) -> int:
    late = 0
    for _ in range(ticks):
        before = time.perf_counter()
        await asyncio.sleep(0.05)
        late += time.perf_counter() - before > 0.1
    return late


async def report() -> str:
    await asyncio.sleep(0.1)
    time.sleep(0.3)  # BLOCKS the loop: nothing else runs for 300 ms  # noqa: ASYNC251
    await asyncio.sleep(0.05)
    return "report written"


async def main() -> None:
    ticks = asyncio.create_task(ticker(), name="ticker")
    writer = asyncio.create_task(report(), name="report")
    print(await writer)
    print(f"the ticker was late {await ticks} time(s)")


if __name__ == "__main__":
    asyncio.run(main())
