"""A crawler: a queue of URLs and a pool of workers fetching them.

    python examples/crawler.py
    loopscope watch examples/crawler.py

It starts its own little web site on 127.0.0.1 (aiohttp, any free port, so it runs offline):
forty pages, each linking to a few others, each answering after 20-120 ms. Four workers take
URLs from an ``asyncio.Queue``, fetch them with one shared ``ClientSession`` and queue the
links they find. ``queue.join()`` returns when every page was fetched once; the workers then
sit idle in ``queue.get()`` for half a second (what a watcher should see) and are cancelled.
"""

from __future__ import annotations

import asyncio
import random
import re

from aiohttp import ClientSession, web

PAGES = 40
IDLE_BEFORE_STOP_S = 0.5
WORKERS = 4


async def page(request: web.Request) -> web.Response:
    number = int(request.match_info["n"])
    await asyncio.sleep(random.uniform(0.02, 0.12))
    links = "".join(f'<a href="/page/{(number * k + 1) % PAGES}">' for k in (2, 3, 5))
    return web.Response(text=f"<h1>page {number}</h1>{links}", content_type="text/html")


async def start_site() -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/page/{n}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


async def worker(queue: asyncio.Queue[str], session: ClientSession, base: str,
                 seen: set[str]) -> None:
    while True:
        path = await queue.get()  # waits here when there is nothing to fetch
        try:
            async with session.get(base + path) as response:
                html = await response.text()
            for link in re.findall(r'href="([^"]+)"', html):
                if link not in seen:
                    seen.add(link)
                    queue.put_nowait(link)
        finally:
            queue.task_done()


async def main() -> None:
    runner, base = await start_site()
    queue: asyncio.Queue[str] = asyncio.Queue()
    seen = {"/page/0"}
    queue.put_nowait("/page/0")
    async with ClientSession() as session:
        workers = [
            asyncio.create_task(worker(queue, session, base, seen), name=f"worker-{n}")
            for n in range(1, WORKERS + 1)
        ]
        await queue.join()
        # A moment with the queue empty: every worker sits idle in queue.get(), long enough
        # for a watcher to see them parked there before they are cancelled.
        await asyncio.sleep(IDLE_BEFORE_STOP_S)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    await runner.cleanup()
    print(f"crawled {len(seen)} pages with {WORKERS} workers")


if __name__ == "__main__":
    asyncio.run(main())
