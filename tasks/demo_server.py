"""The embedded demo HTTP server: something to fetch with no network at all.

It runs on 127.0.0.1 with an ephemeral port, inside the same event loop as the manager
(or alone with ``loopscope demo-server``). Every route is cheap and bounded. ``/`` answers
with a small page listing the routes (:data:`ROUTES`).
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import logging
import random
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import NamedTuple, TextIO

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from loopscope.tasks.safe_text import printable

MAX_DELAY_MS = 600_000
MAX_BYTES = 16 * 2**30
CHUNK = 1 << 16
LOOPBACK = "127.0.0.1"
_FILLER = bytes(range(256)) * (CHUNK // 256)
SHUTDOWN_GRACE_S = 0.25
"""How long stopping waits for handlers still at work (a ``/delay/60000``) before cancelling
them: quitting must not wait for a sleeping demo route."""


IN_FLIGHT = web.AppKey("in_flight", set[asyncio.Task[object]])
"""The handler tasks running now, so stopping can end the ones aiohttp left behind."""


class Route(NamedTuple):
    path: str
    what: str
    example: str


ROUTES = (
    Route("/delay/{ms}", "answer after ms milliseconds, or a random delay in MIN-MAX",
          "/delay/300"),
    Route("/status/{code}", "answer with that status (?delay_ms= waits first)", "/status/503"),
    Route("/bytes/{n}", "n bytes streamed in 64 KiB chunks (?delay_ms= pauses between chunks)",
          "/bytes/1048576"),
    Route("/sensor/{id}", 'a reading {"sensor": id, "fahrenheit": ...} after 50-400 ms',
          "/sensor/3"),
    Route("/users/{id}", "a user record, after 50-150 ms", "/users/7"),
    Route("/orders/{user_id}", "that user's orders, after 50-250 ms", "/orders/7"),
    Route("/flaky", "500 with probability p (?p=0.3), else 200", "/flaky?p=0.3"),
)
"""Every route but ``/``, for the index page (a test checks it matches the router)."""


def index_page() -> str:
    """A small HTML page: what this server is and its routes, each with a link to try."""
    rows = "\n".join(
        f'<tr><td><code>{html.escape(route.path)}</code></td><td>{html.escape(route.what)}'
        f'</td><td><a href="{html.escape(route.example)}">{html.escape(route.example)}</a>'
        "</td></tr>"
        for route in ROUTES
    )
    return (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
        "<title>loopscope demo server</title></head>\n<body>\n"
        "<h1>loopscope demo server</h1>\n"
        "<p>Something to fetch with no network: every route is cheap and bounded. "
        "In a spec, a URL that starts with <code>/</code> goes to loopscope's own copy of "
        "this server: <code>loopscope run \"fetch /delay/300 x20\"</code>.</p>\n"
        f"<table>\n<tr><th>route</th><th>what it does</th><th>try</th></tr>\n{rows}\n"
        "</table>\n</body></html>\n"
    )


class _OneLineBadRequests(logging.Filter):
    """aiohttp logs a malformed request (a URL over 8 KiB: ``LineTooLong``) with a traceback.
    It is the client's mistake, not the server's: say it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            detail = printable(" ".join(str(error.message).split()))
            if len(detail) > 120:
                detail = detail[:119] + "…"
            record.msg = "demo server: refused a malformed request from %s: %s %s (%s)"
            record.args = (
                *(record.args if isinstance(record.args, tuple) else ())[:1],
                error.code,
                type(error).__name__,
                detail,
            )
            record.exc_info = None
            record.exc_text = None
        return True


server_log = logging.getLogger("loopscope.demo_server")
server_log.addFilter(_OneLineBadRequests())


def exposure_warning(host: str) -> str | None:
    """A warning when ``host`` is not a loopback address: anyone who can reach the port can
    use the server (make it sleep, stream gigabytes). None for 127.x, ::1 and localhost."""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass  # a host name: it may resolve to anything
    return (
        f"warning: binding {host}, not loopback: anyone who can reach this port can use the "
        "demo server (make it sleep, stream gigabytes). Use --host 127.0.0.1 to keep it local."
    )


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


# mccabe counts the route handlers defined inside into build_app; each one is short.
def build_app(*, seed: int | None = None) -> web.Application:  # noqa: C901
    """The demo application. ``seed`` makes its random latencies and values repeatable."""
    rng = random.Random(seed)
    routes = web.RouteTableDef()

    @routes.get("/")
    async def index(request: web.Request) -> web.Response:
        return web.Response(text=index_page(), content_type="text/html")

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

    in_flight: set[asyncio.Task[object]] = set()  # shared with stop(): see IN_FLIGHT

    @web.middleware
    async def track(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            in_flight.add(task)
        try:
            return await handler(request)
        finally:
            if task is not None:
                in_flight.discard(task)

    app = web.Application(middlewares=[track])
    app[IN_FLIGHT] = in_flight
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

    @property
    def in_flight(self) -> int:
        """How many requests its handlers are working on now."""
        return len(self._app[IN_FLIGHT])

    async def start(self) -> DemoServer:
        runner = web.AppRunner(
            self._app,
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,  # a client that leaves stops its handler's sleep
            shutdown_timeout=SHUTDOWN_GRACE_S,
            logger=server_log,
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
        """Stop listening and end every handler: those still at work get SHUTDOWN_GRACE_S,
        then are cancelled, and stop returns only when none is left (a ``/delay/60000``
        never holds up quitting)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            running = self._app[IN_FLIGHT]
            left = set(running)
            for task in left:
                task.cancel()
            if left:
                await asyncio.wait(left, timeout=SHUTDOWN_GRACE_S)

    async def __aenter__(self) -> DemoServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def serve_forever(host: str = LOOPBACK, port: int = 0, *, warn: TextIO | None = None) -> None:
    """Run the demo server alone until cancelled (``loopscope demo-server``); warn on stderr
    first when it is about to listen beyond loopback."""
    if (warning := exposure_warning(host)) is not None:
        print(warning, file=warn or sys.stderr, flush=True)
    async with DemoServer(host=host, port=port) as server:
        print(f"loopscope demo server on {server.url}  (Ctrl-C to stop)", flush=True)
        await asyncio.Event().wait()
