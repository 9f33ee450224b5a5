"""``fetch URL``: one HTTP request through the manager's single aiohttp ClientSession.

"Pending" means waiting for a connection slot under the connection limit; "running" starts
when the request does. The manager observes this one of two ways:

* by default it holds one slot of its own semaphore (sized like the connector's limit) per
  request, so waiting for a slot is free to observe;
* with ``trace_connections=True`` it listens to aiohttp's TraceConfig (request start,
  connection-queued start/end) and sees the connector's own queue. Measured here that costs
  ~15% of throughput on cheap requests (aiohttp sends every trace signal once any config is
  attached), which is why it is not the default.

The body is streamed in chunks so bytes are counted as they arrive and a large download never
sits in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import SimpleNamespace

import aiohttp

from loopscope.tasks.errors import FetchTimeout, HTTPStatusError, RedirectLoop
from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.fetch_args import (
    HTTP_METHODS,
    FetchPlan,
    build_plan,
    describe,
    keep_secrets_at_origin,
    parse_auth,
    parse_header,
    parse_url,
)
from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.values import bool_text, choice, parse_bool, parse_timeout
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.safe_text import printable
from loopscope.tasks.secrets import mask_url
from loopscope.tasks.units import human_bytes

CHUNK = 1 << 16
PREVIEW_BYTES = 400


def build_trace_config(ctx: TaskContext) -> aiohttp.TraceConfig:
    """Trace hooks that move a fetch's record between pending and running: running when the
    request starts, pending again while every connection is busy, running when one frees."""

    def hook(mark: Callable[[TaskRecord], None]) -> Callable[..., Awaitable[None]]:
        async def on_event(
            session: aiohttp.ClientSession, trace: SimpleNamespace, params: object
        ) -> None:
            if isinstance(record := trace.trace_request_ctx, TaskRecord):
                mark(record)

        return on_event

    config = aiohttp.TraceConfig()
    config.on_request_start.append(hook(ctx.mark_running))
    config.on_connection_queued_start.append(hook(ctx.mark_pending))
    config.on_connection_queued_end.append(hook(ctx.mark_running))
    return config


async def run_fetch(ctx: TaskContext, record: TaskRecord, plan: FetchPlan) -> str:
    """One request: wait for a connection slot (pending), then send it and read the body
    (running), all within the time limit (``timeout=``, else the engine's default).

    This path runs for every request (README "Benchmarks" (c) compares its CPU per request
    with a plain aiohttp script), so it is kept lean: one coroutine; a free slot taken
    without a further coroutine; the time limit kept by one timer for all fetches
    (tasks/fetch_deadlines.py) rather than aiohttp's one per request; the response awaited
    and released (aiohttp's documented ``resp = await session.request(...)`` then
    ``resp.release()``) rather than two nested ``async with`` of four more coroutines."""
    url = plan.url
    if url[0] == "/":
        url = ctx.resolve_url(url)
    options = plan.options
    if plan.secret_headers:
        options = {**options, "middlewares": (keep_secrets_at_origin(url),)}
    slot = ctx.fetch_slot(url)
    # Slot.acquire, inlined: no coroutine made per request on the common path
    if not slot.take():  # pending, waiting for a connection slot
        waiting = slot.wait(record)
        try:
            await waiting
        except asyncio.CancelledError:
            slot.give_up(waiting)
            raise
    deadlines = ctx.fetch_deadlines
    seconds = plan.timeout_s or deadlines.default_s
    pending = deadlines.add(record, seconds)
    try:
        ctx.mark_running(record)  # a no-op in trace mode, where the trace hooks already did it
        response = await ctx.session.request(
            plan.method, url, trace_request_ctx=record, **options  # type: ignore[arg-type]
        )
        try:
            status = response.status
            if not 200 <= status < 300:
                raise HTTPStatusError(status, response.reason or "", plan.method, record.target)
            total = response.content_length
            if total is not None and total <= CHUNK:
                # A small body of known length: one read, as a plain script does. Measured
                # (bench/run.py (c), /delay/0): ~20 us a request less CPU than the chunks.
                body = await response.read()
                received = len(body)
                record.preview = _preview(body)
                record.bytes_done = record.bytes_total = received  # it ends now: one redraw
            else:
                received = await _stream(ctx, record, response, total)
            result = _SUMMARIES.text(status, response.reason or "", received)
        finally:
            response.release()
    except asyncio.CancelledError:
        if deadlines.expired(record):
            raise _timed_out(seconds, record.bytes_done) from None
        raise
    except aiohttp.TooManyRedirects as error:
        raise RedirectLoop(redirect_story(error)) from None
    except TimeoutError as error:  # raised inside aiohttp (ServerTimeoutError and the like)
        if isinstance(error, FetchTimeout):
            raise
        raise _timed_out(seconds, record.bytes_done) from error
    finally:
        deadlines.remove(record, pending)
        slot.release()
    return result if plan.verify_tls else f"{result} (TLS not verified)"


async def _stream(
    ctx: TaskContext, record: TaskRecord, response: aiohttp.ClientResponse, total: int | None
) -> int:
    """A large body or one of unknown length, read in chunks, each counted as it arrives;
    returns the bytes received."""
    if total is not None:
        record.bytes_total = total
    received = 0
    async for chunk in response.content.iter_chunked(CHUNK):
        if not received:
            record.preview = _preview(chunk)
        received += len(chunk)
        ctx.progress(record, received, total)
    return received


def _timed_out(seconds: float, received: int) -> FetchTimeout:
    return FetchTimeout(
        f"no complete response within {seconds:g} s ({human_bytes(received)} received)"
    )


SHOWN_HOPS = 4


def redirect_story(error: aiohttp.TooManyRedirects) -> str:
    """How many redirects were followed and, if they went round in a circle, where.

    aiohttp's own message is ``0, message=''``; its ``history`` holds every redirect response,
    so the URLs visited are there in order."""
    urls = [mask_url(str(response.url)) for response in error.history]
    hops = len(urls)
    seen: dict[str, int] = {}
    for index, url in enumerate(urls):
        if url in seen:
            circle = urls[seen[url] : index]
            shown = " -> ".join(circle[:SHOWN_HOPS])
            if len(circle) > SHOWN_HOPS:
                shown += " -> ..."
            return f"gave up after {hops} redirects: it went round {shown} -> {url}"
        seen[url] = index
    last = urls[-1] if urls else mask_url(str(error.request_info.url))
    return f"gave up after {hops} redirects with no answer; the last came from {last}"


KIND = Kind(
    "fetch",
    help="HTTP request with aiohttp; a URL starting with / goes to the demo server",
    runner=run_fetch,
    build=build_plan,
    args=(Param("url", parse_url, metavar="URL"),),
    options=(
        Param("timeout", parse_timeout, None, metavar="S"),
        Param("method", choice(HTTP_METHODS, "method"), "GET", metavar="GET", normal=str.upper),
        Param("header", parse_header, (), metavar="Name:value", many=True, name="headers"),
        Param("auth", parse_auth, None, metavar="user:pw"),
        Param("insecure", parse_bool, False, metavar="true", normal=bool_text),
    ),
    describe=describe,
    details="an HTTP request with aiohttp, body streamed and counted; non-2xx is an exception. "
    "A URL starting with `/` goes to the embedded demo server. Passwords, `auth=` and "
    "credential headers (Authorization, Cookie, `*token*`, `*key*`) are shown as `***` "
    "everywhere; `auth=env:NAME` and `header=Name:env:NAME` read them from the environment "
    "instead of the command line. TLS is verified unless `insecure=true`, which every view of "
    "the task then says.",
    example="fetch /delay/100-800 x20",
)


class _LastSummary:
    """The last result summary made, and from what: the copies of one spec mostly get the same
    answer, so they share one string (less work per request, and one string, not 100,000,
    in a long history). Kept in one tuple, replaced whole: safe with loops in two threads."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[int, str, int, str] = (0, "", -1, "")

    def text(self, status: int, reason: str, received: int) -> str:
        """``200 OK, 32 B``."""
        last = self.last
        if status == last[0] and received == last[2] and reason == last[1]:
            return last[3]
        size = f"{received} B" if received < 1024 else human_bytes(received)
        summary = f"{status} {reason}, {size}"
        self.last = (status, reason, received, summary)
        return summary


class _LastPreview:
    """The last preview made, and from which bytes (shared like ``_LastSummary``)."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[bytes, str] = (b"", "")

    def text(self, data: bytes) -> str:
        """The start of a body as text, control characters escaped: a server wrote it.

        Text with nothing to escape (``str.isprintable``, in C) is kept as it is; that is
        the usual small JSON body, and it saves a regular-expression pass per request."""
        head = data[:PREVIEW_BYTES]
        last = self.last
        if head == last[0]:
            return last[1]
        text = head.decode("utf-8", errors="replace")
        preview = text if text.isprintable() else printable(text, keep_lines=True)
        self.last = (head, preview)
        return preview


_SUMMARIES = _LastSummary()
_PREVIEWS = _LastPreview()
_preview = _PREVIEWS.text
