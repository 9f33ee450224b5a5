"""The embedded demo server's routes, on loopback."""

from __future__ import annotations

import aiohttp
import pytest

from loopscope.tasks.demo_server import DemoServer


@pytest.fixture
async def demo() -> DemoServer:
    server = DemoServer(seed=3)
    await server.start()
    yield server  # type: ignore[misc]
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
    assert status == 200 and len(body) == 200001
