"""The embedded demo server's routes, on loopback."""

from __future__ import annotations

import asyncio
import html
import io
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from loopscope.tasks.demo_server import (
    ROUTES,
    DemoServer,
    build_app,
    exposure_warning,
    serve_forever,
)


@pytest.fixture
async def demo() -> AsyncIterator[DemoServer]:
    server = DemoServer(seed=3)
    await server.start()
    yield server
    await server.stop()


async def get(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read()


async def test_binds_loopback_on_an_ephemeral_port(demo: DemoServer) -> None:
    assert demo.url.startswith("http://127.0.0.1:")
    assert demo.port != 0


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/delay/5", 200, b'"delay_ms": 5'),
        ("/delay/5-10", 200, b"delay_ms"),
        ("/status/418", 418, b"418"),
        ("/sensor/2", 200, b"fahrenheit"),
        ("/users/7", 200, b'"name": "user-7"'),
        ("/orders/7", 200, b'"user_id": 7'),
        ("/flaky?p=0", 200, b"ok"),
        ("/flaky?p=1", 500, b"failed"),
        ("/delay/abc", 400, b"delay"),
        ("/status/99", 400, b"code"),
        ("/flaky?p=2", 400, b"p must"),
    ],
)
async def test_routes(demo: DemoServer, path: str, status: int, fragment: bytes) -> None:
    got_status, body = await get(demo.url + path)
    assert got_status == status
    assert fragment in body


async def test_bytes_are_streamed_exactly(demo: DemoServer) -> None:
    status, body = await get(demo.url + "/bytes/200001?delay_ms=1")
    assert status == 200
    assert len(body) == 200001


async def test_the_index_lists_every_route(demo: DemoServer) -> None:
    """Issue 10: ``/`` is a small page of routes, not the module's docstring."""
    async with aiohttp.ClientSession() as session, session.get(demo.url + "/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert "<h1>loopscope demo server</h1>" in page
    assert "from __future__" not in page
    assert "Routes::" not in page
    registered = {
        info.get("formatter") or info.get("path")
        for resource in build_app().router.resources()
        if (info := resource.get_info())
    }
    assert registered - {"/"} == {route.path for route in ROUTES}
    for route in ROUTES:
        assert f"<code>{html.escape(route.path)}</code>" in page
        assert f'href="{html.escape(route.example)}"' in page


async def test_an_over_long_url_is_one_log_line(
    demo: DemoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 11, item 20: a 20 KB URL gets a 400 and one log line, not a LineTooLong
    traceback."""
    reader, writer = await asyncio.open_connection("127.0.0.1", demo.port)
    writer.write(b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    with caplog.at_level(logging.WARNING):
        answer = await asyncio.wait_for(reader.read(100), 10)
        writer.close()

        async def logged() -> None:
            while not caplog.records:
                await asyncio.sleep(0.005)

        await asyncio.wait_for(logged(), 10)
    assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400")
    (record,) = caplog.records
    assert record.exc_info is None
    assert record.exc_text is None
    line = record.getMessage()
    assert "\n" not in line
    assert len(line) < 300
    assert line.startswith("demo server: refused a malformed request from 127.0.0.1: 400")
    assert "LineTooLong" in line


async def test_stopping_does_not_wait_for_sleeping_handlers() -> None:
    """Issue 11, item 6 (the server's part): ten clients in ``/delay/60000`` do not hold the
    server's stop for a minute; the handlers are ended."""
    server = await DemoServer().start()
    async with aiohttp.ClientSession() as session:

        async def hold() -> None:
            async with session.get(server.url + "/delay/60000") as response:
                await response.read()

        clients = [asyncio.create_task(hold()) for _ in range(10)]

        async def all_in_handlers() -> None:
            while server.in_flight < 10:
                await asyncio.sleep(0.005)

        await asyncio.wait_for(all_in_handlers(), 20)
        await asyncio.wait_for(server.stop(), 10)  # before: ~60 s
        assert server.in_flight == 0
        results = await asyncio.gather(*clients, return_exceptions=True)
    assert all(isinstance(result, aiohttp.ClientError) for result in results), results


async def test_clients_that_leave_end_their_handlers() -> None:
    """The manager closes its client session before the server: the handlers of those
    requests are cancelled then, and the server's stop has nothing left to wait for."""
    server = await DemoServer().start()
    session = aiohttp.ClientSession()
    clients = [
        asyncio.create_task(session.get(server.url + "/delay/60000")) for _ in range(5)
    ]

    async def count_in_handlers(n: int) -> None:
        while server.in_flight != n:
            await asyncio.sleep(0.005)

    await asyncio.wait_for(count_in_handlers(5), 20)
    for client in clients:
        client.cancel()
    await session.close()
    await asyncio.wait_for(count_in_handlers(0), 10)
    await server.stop()


@pytest.mark.parametrize(
    ("host", "warned"),
    [
        ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False), ("localhost", False),
        ("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("myhost.example", True),
    ],
)
def test_binding_beyond_loopback_warns(host: str, warned: bool) -> None:
    """Issue 11, item 17: ``--host 0.0.0.0`` says anyone who can reach the port can use it."""
    warning = exposure_warning(host)
    assert (warning is not None) == warned
    if warning is not None:
        assert "anyone who can reach this port can use" in warning
        assert host in warning


async def test_serve_forever_prints_the_warning_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The warning goes to stderr before the server listens (here it is stopped at once: a
    test never listens beyond loopback)."""

    async def refuse(self: DemoServer) -> DemoServer:
        raise OSError(98, "stopped by the test before binding")

    monkeypatch.setattr(DemoServer, "start", refuse)
    stream = io.StringIO()
    with pytest.raises(OSError, match="stopped by the test"):
        await serve_forever("0.0.0.0", 0, warn=stream)
    assert stream.getvalue().startswith("warning: binding 0.0.0.0, not loopback")
