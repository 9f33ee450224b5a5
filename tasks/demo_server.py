"""The embedded demo HTTP server: something to fetch with no network at all.

It runs on 127.0.0.1 with an ephemeral port, inside the same event loop as the manager
(or alone with ``loopscope demo-server``). Every route is cheap and bounded.

Routes::

    /delay/{ms}          answer after ms milliseconds (or a random delay in "100-800")
    /status/{code}       answer with that status (?delay_ms= waits first)
    /bytes/{n}           n bytes streamed in 64 KiB chunks; ?delay_ms= pauses between chunks
    /sensor/{id}         {"sensor": id, "fahrenheit": ...} after a random 50-400 ms
    /users/{id}          a user record, after 50-150 ms
    /orders/{user_id}    that user's orders, after 50-250 ms
    /flaky?p=0.3         500 with probability p, else 200
"""

from __future__ import annotations

import asyncio
import json
import random
import socket

from aiohttp import web

MAX_DELAY_MS = 600_000
MAX_BYTES = 16 * 2**30
CHUNK = 1 << 16
LOOPBACK = "127.0.0.1"
SHUTDOWN_GRACE_S = 0.25
"""On stop, handlers still running (a /delay/60000) get this long, then are cancelled:
quitting never waits for a sleeping handler."""
_FILLER = bytes(range(256)) * (CHUNK // 256)


def _int(request: web.Request, name: str, low: int, high: int) -> int:
    text = request.match_info[name]
    try:
        value = int(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number, got {text!r}\n") from None
    if not low <= value <= high:
        raise web.HTTPBadRequest(text=f"{name} must be from {low} to {high}\n")
    return value


def _delay_ms(text: str, rng: random.Random) -> int:
    """``"300"`` → 300; ``"100-800"`` → a random whole number in that range."""
    low_text, _, high_text = text.partition("-")
    try:
        low = int(low_text)
        high = int(high_text) if high_text else low
    except ValueError:
        raise web.HTTPBadRequest(text=f"delay must be MS or MIN-MAX, got {text!r}\n") from None
    if not 0 <= low <= high <= MAX_DELAY_MS:
        raise web.HTTPBadRequest(text=f"delay must be within 0-{MAX_DELAY_MS} ms\n")
    return rng.randint(low, high)


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(payload), status=status, content_type="application/json"
    )


def build_app(*, seed: int | None = None) -> web.Application:
    """The demo application. ``seed`` makes its random latencies and values repeatable."""
    rng = random.Random(seed)
    routes = web.RouteTableDef()

    @routes.get("/")
    async def index(request: web.Request) -> web.Response:
        return web.Response(text=__doc__ or "")

    @routes.route("*", "/delay/{ms}")
    async def delay(request: web.Request) -> web.Response:
        ms = _delay_ms(request.match_info["ms"], rng)
        if ms:
            await asyncio.sleep(ms / 1000)
        return _json({"delay_ms": ms, "method": request.method})

    @routes.route("*", "/status/{code}")
    async def status(request: web.Request) -> web.Response:
        code = _int(request, "code", 200, 599)
        try:
            pause_ms = max(0, min(MAX_DELAY_MS, int(request.query.get("delay_ms", "0"))))
        except ValueError:
            raise web.HTTPBadRequest(text="delay_ms must be a whole number\n") from None
        if pause_ms:
            await asyncio.sleep(pause_ms / 1000)
        return web.Response(status=code, text=f"status {code}\n")

    @routes.get("/bytes/{n}")
    async def stream_bytes(request: web.Request) -> web.StreamResponse:
        size = _int(request, "n", 0, MAX_BYTES)
        try:
            pause_ms = max(0, min(10_000, int(request.query.get("delay_ms", "0"))))
        except ValueError:
            raise web.HTTPBadRequest(text="delay_ms must be a whole number\n") from None
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = size
        await response.prepare(request)
        sent = 0
        try:
            while sent < size:
                piece = _FILLER[: min(CHUNK, size - sent)]
                await response.write(piece)
                sent += len(piece)
                if pause_ms and sent < size:
                    await asyncio.sleep(pause_ms / 1000)
            await response.write_eof()
        except ConnectionError:
            pass  # the client went away (it timed out, or was cancelled): nothing to tell
        return response

    @routes.get("/sensor/{id}")
    async def sensor(request: web.Request) -> web.Response:
        sensor_id = _int(request, "id", 0, 1_000_000)
        await asyncio.sleep(rng.uniform(0.05, 0.4))
        fahrenheit = round(rng.gauss(68.0 + sensor_id % 7, 3.0), 1)
        return _json({"sensor": sensor_id, "fahrenheit": fahrenheit})

    @routes.get("/users/{id}")
    async def user(request: web.Request) -> web.Response:
        user_id = _int(request, "id", 0, 1_000_000)
        await asyncio.sleep(rng.uniform(0.05, 0.15))
        return _json({"id": user_id, "name": f"user-{user_id}"})

    @routes.get("/orders/{user_id}")
    async def orders(request: web.Request) -> web.Response:
        user_id = _int(request, "user_id", 0, 1_000_000)
        await asyncio.sleep(rng.uniform(0.05, 0.25))
        items = [
            {"order": user_id * 100 + n, "total": round(10 + 7.5 * n + user_id % 5, 2)}
            for n in range(1 + user_id % 4)
        ]
        return _json({"user_id": user_id, "orders": items})

    @routes.get("/flaky")
    async def flaky(request: web.Request) -> web.Response:
        try:
            p = float(request.query.get("p", "0.3"))
        except ValueError:
            raise web.HTTPBadRequest(text="p must be a number from 0 to 1\n") from None
        if not 0.0 <= p <= 1.0:
            raise web.HTTPBadRequest(text="p must be a number from 0 to 1\n")
        if rng.random() < p:
            return web.Response(status=500, text="flaky: failed this time\n")
        return web.Response(text="flaky: ok this time\n")

    app = web.Application()
    app.add_routes(routes)
    return app


class DemoServer:
    """The demo app served on loopback inside the running event loop."""

    def __init__(self, *, host: str = LOOPBACK, port: int = 0, seed: int | None = None):
        self.host = host
        self.port = port
        self._app = build_app(seed=seed)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43817`` (valid after start)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> DemoServer:
        runner = web.AppRunner(
            self._app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_GRACE_S,
            # a client that hangs up (a cancelled fetch) frees its handler at once
            handler_cancellation=True,
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            await runner.cleanup()
            raise
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock, backlog=1024)
        await site.start()
        self._runner = runner
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> DemoServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def serve_forever(host: str = LOOPBACK, port: int = 0) -> None:
    """Run the demo server alone until cancelled (``loopscope demo-server``)."""
    async with DemoServer(host=host, port=port) as server:
        print(f"loopscope demo server on {server.url}  (Ctrl-C to stop)", flush=True)
        await asyncio.Event().wait()
