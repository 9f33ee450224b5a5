"""A task stuck on an ``asyncio.Event`` that nobody sets.

    python examples/stuck_event.py
    loopscope watch examples/stuck_event.py

``consumer`` waits for ``ready``; ``producer`` was meant to set it but returns without doing
so. loopscope shows the consumer suspended on the ``await ready.wait()`` line, its await
chain going down into ``Event.wait``. After two seconds ``main`` gives up and cancels it.
"""

from __future__ import annotations

import asyncio


async def producer(ready: asyncio.Event) -> str:
    await asyncio.sleep(0.1)
    return "produced, but forgot ready.set()"


async def consumer(ready: asyncio.Event) -> str:
    await ready.wait()  # STUCK here: nobody sets the event
    return "consumed"


async def main() -> None:
    ready = asyncio.Event()
    waiting = asyncio.create_task(consumer(ready), name="consumer")
    print(await asyncio.create_task(producer(ready), name="producer"))
    done, _ = await asyncio.wait({waiting}, timeout=2.0)
    if not done:
        waiting.cancel()
        print("the consumer was still waiting: cancelled it")


if __name__ == "__main__":
    asyncio.run(main())
