"""A redirect loop ends as a readable error: how many hops, and where it went round
(issue 11, item 22). Before, it read ``TooManyRedirects: 0, message=''``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskState
from tests.unit.test_kinds import run_one


@pytest.fixture
async def redirecting_url() -> AsyncIterator[str]:
    """/a -> /b -> /c -> /b ... (a loop after one step in), and /hop/N -> /hop/N+1 forever."""

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound({"/a": "/b", "/b": "/c", "/c": "/b"}[request.path])

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/hop/{int(request.match_info['n']) + 1}")

    app = web.Application()
    app.router.add_get("/{name:[abc]}", to)
    app.router.add_get("/hop/{n}", hop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_redirect_loop_says_where_it_looped(
    manager: TaskManager, redirecting_url: str
) -> None:
    record = await run_one(manager, f"fetch {redirecting_url}/a")
    assert record.state is TaskState.EXCEPTION
    u = redirecting_url
    assert record.error == (
        f"RedirectLoop: gave up after 10 redirects: it went round {u}/b -> {u}/c -> {u}/b"
    )


async def test_endless_distinct_redirects_say_how_many(
    manager: TaskManager, redirecting_url: str
) -> None:
    record = await run_one(manager, f"fetch {redirecting_url}/hop/1")
    assert record.error == (
        "RedirectLoop: gave up after 10 redirects with no answer; the last came from "
        f"{redirecting_url}/hop/10"
    )
