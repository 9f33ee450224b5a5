"""A program with one task that waits forever on an Event, for the dashboard's cancel test."""

import asyncio


async def wait_forever(event: asyncio.Event) -> None:
    await event.wait()  # the dashboard's c cancels it here


async def main() -> None:
    waiter = asyncio.create_task(wait_forever(asyncio.Event()), name="waiter")
    print("waiting", flush=True)
    try:
        await waiter
    except asyncio.CancelledError:
        print("the waiter was cancelled", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
