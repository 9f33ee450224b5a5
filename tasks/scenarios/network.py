"""Scenarios over HTTP, all against the embedded demo server: sensors, downloads, chain,
limits, timeouts."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import aiofiles
import aiohttp

from loopscope.tasks.kinds.fetch import build_trace_config
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.scenarios.base import Scenario, ScenarioContext
from loopscope.tasks.units import human_bytes, human_seconds, plural

SENSORS = 5
DELAY_S = 0.2
"""How long each fetch of the limits scenario waits on the server."""


def fahrenheit_to_celsius(fahrenheit: float) -> float:
    return (fahrenheit - 32.0) * 5.0 / 9.0


async def sensors(ctx: ScenarioContext) -> None:
    rounds: int | None = ctx.option("rounds", None)
    interval: float = ctx.option("interval", 5.0)
    latest: dict[int, float] = {}

    async def poll(sensor: int, record: TaskRecord) -> float:
        data = await ctx.get_json(f"/sensor/{sensor}", record)
        celsius = fahrenheit_to_celsius(float(data["fahrenheit"]))
        latest[sensor] = celsius
        return celsius

    def reading(celsius: float) -> str:
        return f"{celsius:.1f} °C"

    def one(batch: Any, sensor: int) -> Any:
        return ctx.track(
            batch, "fetch", f"/sensor/{sensor}", partial(poll, sensor), summary=reading
        )

    number = 0
    while rounds is None or number < rounds:
        number += 1
        batch = ctx.batch(f"round {number}: {SENSORS} sensors polled concurrently")
        await asyncio.gather(*(one(batch, s) for s in range(1, SENSORS + 1)))
        ctx.close(batch)
        average = sum(latest.values()) / len(latest)
        ctx.data["average_c"] = round(average, 2)
        ctx.data.setdefault("rounds", []).append(
            {"wall_s": round(ctx.wall(batch), 4), "average_c": round(average, 2)}
        )
        ctx.say(
            f"round {number}: average {average:.1f} °C  (°F from the sensors, converted), "
            f"all five in {human_seconds(ctx.wall(batch))}"
        )
        if number == 1:
            sequential = ctx.batch("one round sequential, for comparison", sequential=True)
            for sensor in range(1, SENSORS + 1):
                await one(sequential, sensor)
            ctx.close(sequential)
            ratio = ctx.wall(sequential) / max(ctx.wall(batch), 1e-9)
            ctx.data["sequential_round_s"] = round(ctx.wall(sequential), 4)
            ctx.data["concurrent_round_s"] = round(ctx.wall(batch), 4)
            ctx.say(
                f"the same round one sensor after another took "
                f"{human_seconds(ctx.wall(sequential))}: concurrent was {ratio:.1f}x faster "
                "(measured)"
            )
        if rounds is None or number < rounds:
            await asyncio.sleep(interval)


async def downloads(ctx: ScenarioContext) -> None:
    files = [(4, 10), (2, 20), (6, 5), (3, 15), (8, 200)]  # MiB, pause between 64 KiB chunks
    timeout: float = ctx.option("timeout", 4.0)
    manager = ctx.manager
    batch = ctx.batch(f"five files streamed to disk, each under a {timeout:g} s timeout")

    async def download(mib: int, pause: int, record: TaskRecord) -> int:
        url = manager.resolve_url(f"/bytes/{mib * 2**20}?delay_ms={pause}")
        path = await manager.scratch.path("download", ".bin")
        written = 0
        async with asyncio.timeout(timeout), manager.session.get(url) as response:
            total = response.content_length
            async with aiofiles.open(path, "wb", executor=manager.thread_pool) as out:
                async for chunk in response.content.iter_chunked(1 << 16):
                    await out.write(chunk)
                    written += len(chunk)
                    manager.progress(record, written, total)
        return written

    results = await asyncio.gather(
        *(
            ctx.track(
                batch,
                "fetch",
                f"/bytes/{mib}M → disk",
                partial(download, mib, pause),
                summary=lambda n: f"saved {human_bytes(n)}",
            )
            for mib, pause in files
        ),
        return_exceptions=True,
    )
    ctx.close(batch)
    saved = [r for r in results if isinstance(r, int)]
    failed = [r for r in results if isinstance(r, BaseException)]
    ctx.data.update(saved=len(saved), timed_out=len(failed))
    ctx.say(
        f"{plural(len(saved), 'file')} saved ({human_bytes(sum(saved))}) in "
        f"{human_seconds(ctx.wall(batch))}; {len(failed)} did not finish within {timeout:g} s "
        "and became an exception, the others unharmed"
    )


async def chain(ctx: ScenarioContext) -> None:
    batch = ctx.batch("a user and that user's orders, with gather, then combined")

    async def user_with_orders(user_id: int, record: TaskRecord) -> str:
        user, orders = await asyncio.gather(
            ctx.track(batch, "fetch", f"/users/{user_id}",
                      lambda r: ctx.get_json(f"/users/{user_id}", r),
                      summary=lambda u: str(u["name"])),
            ctx.track(batch, "fetch", f"/orders/{user_id}",
                      lambda r: ctx.get_json(f"/orders/{user_id}", r),
                      summary=lambda o: plural(len(o["orders"]), "order")),
        )
        total = sum(order["total"] for order in orders["orders"])
        line = f"{user['name']}: {plural(len(orders['orders']), 'order')}, {total:.2f} in all"
        ctx.say(line)
        return line

    await asyncio.gather(
        *(
            ctx.track(batch, "chain", f"user {n} + orders", partial(user_with_orders, n))
            for n in (1, 2, 3)
        )
    )
    ctx.close(batch)
    ctx.say(
        f"three users combined in {human_seconds(ctx.wall(batch))}: each pair of requests ran "
        "at once, and the three chains overlapped too"
    )


async def limits(ctx: ScenarioContext) -> None:
    count: int = ctx.option("count", 50)
    manager = ctx.manager
    path = f"/delay/{round(DELAY_S * 1000)}"
    url = manager.resolve_url(path)

    async def through(session: aiohttp.ClientSession, target: str, record: TaskRecord) -> int:
        async with session.get(target, trace_request_ctx=record) as response:
            size = len(await response.read())
        manager.progress(record, size, size)  # the bytes column, as for any other fetch
        return size

    def report(label: str, at_once: int, batch: Any) -> None:
        """The measured time beside the floor the waves alone set: no guess."""
        waves = -(-count // at_once)
        floor = waves * DELAY_S
        wall = ctx.wall(batch)
        ctx.data.setdefault("limits", {})[label] = {
            "wall_s": round(wall, 4), "waves": waves, "floor_s": floor
        }
        ctx.say(f"{label}: measured {human_seconds(wall)} for {plural(count, 'fetch', 'fetches')}"
                f", {at_once} at a time ({plural(waves, 'wave')} of {DELAY_S * 1000:g} ms: "
                f"{human_seconds(floor)} at the least)")

    # 1. the connector's own limit, watched with aiohttp's TraceConfig
    trace = build_trace_config(manager)
    for label, at_once, connector, targets in (
        ("TCPConnector(limit=5)", 5, aiohttp.TCPConnector(limit=5), [url]),
        (
            "TCPConnector(limit_per_host=5), two host names",
            10,
            aiohttp.TCPConnector(limit=0, limit_per_host=5),
            [url, url.replace("127.0.0.1", "localhost")],
        ),
    ):
        batch = ctx.batch(f"{count} fetches under {label}")
        async with aiohttp.ClientSession(connector=connector, trace_configs=[trace]) as session:
            await asyncio.gather(
                *(
                    ctx.track(
                        batch, "fetch", targets[n % len(targets)].split("//", 1)[1],
                        partial(through, session, targets[n % len(targets)]),
                        summary=human_bytes, start_running=False,
                    )
                    for n in range(count)
                )
            )
        ctx.close(batch)
        report(label, at_once, batch)
    # 2. a semaphore: the same waves, made by the program rather than the connector
    semaphore = asyncio.Semaphore(5)
    batch = ctx.batch(f"{count} fetches under asyncio.Semaphore(5)")

    async def limited(record: TaskRecord) -> int:
        async with semaphore:
            manager.mark_running(record)
            return await through(manager.session, url, record)

    await asyncio.gather(
        *(ctx.track(batch, "fetch", path, limited, summary=human_bytes,
                    start_running=False) for _ in range(count))
    )
    ctx.close(batch)
    report("asyncio.Semaphore(5)", 5, batch)
    ctx.say("the semaphore made the same waves as the connector: it limits any kind of work, "
            "not only connections")


async def timeouts(ctx: ScenarioContext) -> None:
    batch = ctx.batch("asyncio.timeout, wait_for, and a cancellation propagating")

    async def slow(ms: int, record: TaskRecord) -> Any:
        return await ctx.get_json(f"/delay/{ms}", record)

    async def timed(record: TaskRecord, ms: int, seconds: float) -> str:
        async with asyncio.timeout(seconds):
            await slow(ms, record)
        return f"answered within {seconds:g} s"

    async def via_wait_for(record: TaskRecord) -> str:
        inner = ctx.track(batch, "fetch", "/delay/2000 (inside wait_for)",
                          lambda r: slow(2000, r))
        await asyncio.wait_for(inner, 0.5)
        return "answered"

    async def outer(record: TaskRecord) -> str:
        inner = ctx.track(batch, "fetch", "/delay/3000 (awaited by the outer task)",
                          lambda r: slow(3000, r))
        await inner
        return "finished"

    results = await asyncio.gather(
        ctx.track(batch, "timeout", "/delay/2000 under asyncio.timeout(0.5)",
                  lambda r: timed(r, 2000, 0.5)),
        ctx.track(batch, "timeout", "/delay/200 under asyncio.timeout(1)",
                  lambda r: timed(r, 200, 1.0)),
        ctx.track(batch, "wait_for", "wait_for(fetch /delay/2000, 0.5)", via_wait_for),
        return_exceptions=True,
    )
    names = ["timeout(0.5) on a 2 s fetch", "timeout(1) on a 0.2 s fetch",
             "wait_for(..., 0.5) on a 2 s fetch"]
    for name, result in zip(names, results, strict=True):
        outcome = type(result).__name__ if isinstance(result, BaseException) else result
        ctx.say(f"{name}: {outcome}")
    ctx.say("wait_for cancelled the fetch it was waiting on: that record shows 'cancelled'")
    outer_task = asyncio.ensure_future(
        ctx.track(batch, "task", "outer task awaiting a 3 s fetch", outer)
    )
    await asyncio.sleep(0.5)
    outer_task.cancel()
    await asyncio.gather(outer_task, return_exceptions=True)
    ctx.close(batch)
    ctx.say("cancelling the outer task after 0.5 s cancelled the fetch it awaited as well: "
            "cancellation propagates down the await chain")


NETWORK_SCENARIOS = [
    Scenario(
        "sensors",
        "Five sensors polled every 5 s",
        "Five temperature sensors on the demo server are polled concurrently every five "
        "seconds; each answers in Fahrenheit after a random delay and the reading is converted "
        "to Celsius, with a live average. The first round is then repeated one sensor after "
        "another: the concurrent round takes about as long as the slowest sensor, the "
        "sequential one as long as all five together. Runs until stopped (C); headless, three "
        "rounds.",
        sensors,
        {"rounds": 3},
    ),
    Scenario(
        "downloads",
        "Five downloads streamed to disk",
        "Five files are streamed from the demo server to disk at once, in 64 KiB chunks "
        "written with aiofiles, each under a 4 s timeout; the bytes column shows each one's "
        "progress. The slowest cannot finish in time: it ends as an exception while the others "
        "complete, because one task's failure does not touch its siblings.",
        downloads,
    ),
    Scenario(
        "chain",
        "A user and their orders, with gather",
        "For each of three users, two requests go out at the same time with asyncio.gather: "
        "the user's record and that user's orders. When both have answered they are combined "
        "into one line (name, number of orders, total), and each user's pair is itself a "
        "task, so the three pairs overlap too. The log gives each combined line and the "
        "measured time of the whole, about as long as the slowest single request.",
        chain,
    ),
    Scenario(
        "limits",
        "Connection limits and a semaphore",
        "Fifty 200 ms fetches, three ways: under TCPConnector(limit=5), under "
        "limit_per_host=5 with two host names (ten at once), and under an "
        "asyncio.Semaphore(5). The timeline shows the waves and each task's pending time. For "
        "each way the log gives the measured time beside its floor, the waves alone times "
        "200 ms (ten waves: 2 s; five waves: 1 s); what is above the floor is connection "
        "set-up and the event loop's own work, more while the dashboard is drawing.",
        limits,
    ),
    Scenario(
        "timeouts",
        "Timeouts and cancellation",
        "A slow fetch under asyncio.timeout ends in TimeoutError while a fast one completes; "
        "wait_for does the same and cancels the fetch it waited on; and cancelling an outer "
        "task cancels the inner task it is awaiting: cancellation travels down the await "
        "chain.",
        timeouts,
    ),
]
