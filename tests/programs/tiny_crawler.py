"""A tiny crawler for watch tests: a queue, three workers, a slow page and a broken one.

Run it with ``loopscope watch tests/programs/tiny_crawler.py``; the fake agent feed in
tests/watch_fake.py points its frames at the lines below, so keep them where they are.
"""

import asyncio
import sys
import time

PAGES = ["/", "/about", "/slow", "/broken", "/blog", "/contact"]


async def fetch(page: str) -> str:
    if page == "/broken":
        raise ConnectionError(f"{page}: connection reset")
    if page == "/slow":
        time.sleep(0.3)  # noqa: ASYNC251 (this blocks the loop)
    await asyncio.sleep(0.05)
    return f"{page}: 200 OK"


async def worker(name: str, queue: asyncio.Queue[str], results: list[str]) -> None:
    while True:
        page = await queue.get()
        try:
            results.append(await fetch(page))
        except ConnectionError as error:
            print(f"{name}: {error}", file=sys.stderr)
        finally:
            queue.task_done()


async def main() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue()
    results: list[str] = []
    workers = [asyncio.create_task(worker(f"worker-{n}", queue, results), name=f"worker-{n}")
               for n in range(3)]
    for page in PAGES:
        queue.put_nowait(page)
    await queue.join()
    print(f"crawled {len(results)} pages")
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main())
