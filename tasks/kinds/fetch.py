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

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp
from multidict import CIMultiDict

from loopscope.tasks.errors import FetchTimeout, HTTPStatusError
from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.spec import TaskSpec, parse_bool, parse_seconds
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


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """Everything about a request that depends only on its spec, worked out once per spec."""

    method: str
    url: str
    timeout: aiohttp.ClientTimeout | None
    timeout_s: float | None
    headers: CIMultiDict[str] | None
    auth: aiohttp.BasicAuth | None
    verify_tls: bool


@functools.lru_cache(maxsize=512)
def plan_for(spec: TaskSpec) -> FetchPlan:
    timeout_text = spec.option("timeout")
    seconds = parse_seconds(timeout_text) if timeout_text else None
    headers: CIMultiDict[str] | None = None
    if spec.option_all("header"):
        headers = CIMultiDict()
        for header in spec.option_all("header"):
            name, _, value = header.partition(":")
            headers.add(name.strip(), value.strip())
    auth = None
    if auth_text := spec.option("auth"):
        user, _, password = auth_text.partition(":")
        auth = aiohttp.BasicAuth(user, password)
    return FetchPlan(
        method=spec.option("method", "GET") or "GET",
        url=spec.args[0],
        timeout=aiohttp.ClientTimeout(total=seconds or None) if timeout_text else None,
        timeout_s=seconds,
        headers=headers,
        auth=auth,
        verify_tls=not parse_bool(spec.option("insecure", "false") or "false"),
    )


async def run_fetch(ctx: TaskContext, record: TaskRecord, spec: TaskSpec) -> str:
    plan = plan_for(spec)
    url = ctx.resolve_url(plan.url)
    async with ctx.fetch_slot(url):
        return await _request(ctx, record, plan, url)


async def _request(ctx: TaskContext, record: TaskRecord, plan: FetchPlan, url: str) -> str:
    ctx.mark_running(record)  # a no-op in trace mode, where the trace hooks already did it
    received = 0
    extra: dict[str, object] = {}
    if plan.timeout is not None:
        extra["timeout"] = plan.timeout
    if plan.headers is not None:
        extra["headers"] = plan.headers
    if plan.auth is not None:
        extra["auth"] = plan.auth
    if not plan.verify_tls:
        extra["ssl"] = False
    try:
        async with ctx.session.request(
            plan.method, url, trace_request_ctx=record, **extra  # type: ignore[arg-type]
        ) as response:
            if not 200 <= response.status < 300:
                raise HTTPStatusError(
                    response.status, response.reason or "", plan.method, record.target
                )
            total = response.content_length
            if total is not None and total <= CHUNK:
                # A small body of known length: one read, as a plain script does. Measured
                # (bench/run.py (c), /delay/0): ~20 us a request less CPU than the chunk loop.
                body = await response.read()
                record.preview = body[:PREVIEW_BYTES].decode("utf-8", errors="replace")
                ctx.progress(record, len(body), total)
                return f"{response.status} {response.reason or ''}, {human_bytes(len(body))}"
            if total is not None:
                record.bytes_total = total
            async for chunk in response.content.iter_chunked(CHUNK):
                if not received:
                    record.preview = chunk[:PREVIEW_BYTES].decode("utf-8", errors="replace")
                received += len(chunk)
                ctx.progress(record, received, total)
            return f"{response.status} {response.reason or ''}, {human_bytes(received)}"
    except TimeoutError as error:
        if isinstance(error, FetchTimeout):
            raise
        seconds = plan.timeout_s if plan.timeout_s is not None else ctx.default_fetch_timeout
        raise FetchTimeout(
            f"no complete response within {seconds:g} s ({human_bytes(received)} received)"
        ) from error
