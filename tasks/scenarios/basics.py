"""Scenarios about asyncio's own building blocks: futures, gather and friends, blocking."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.scenarios.base import Scenario, ScenarioContext
from loopscope.tasks.units import human_seconds, plural

DELAYS_MS = (600, 200, 900, 350, 100, 750, 450, 300, 850, 500)
FAILING = 3
"""Index of the fetch that fails (HTTP 500 after 350 ms)."""


async def futures(ctx: ScenarioContext) -> None:
    pause: float = ctx.option("pause", 1.0)
    loop = asyncio.get_running_loop()
    batch = ctx.batch("bare asyncio.Future objects, resolved by hand")
    good: asyncio.Future[int] = loop.create_future()
    bad: asyncio.Future[int] = loop.create_future()
    def report(number: int) -> Callable[[asyncio.Future[int]], None]:
        def on_done(future: asyncio.Future[int]) -> None:
            if future.cancelled():  # the scenario was stopped while its waiters held it
                ctx.say(f"done-callback: future {number} was cancelled")
            elif future.exception() is not None:
                ctx.say(f"done-callback: future {number} has exception {future.exception()!r}")
            else:
                ctx.say(f"done-callback: future {number} has result {future.result()!r}")

        return on_done

    good.add_done_callback(report(1))
    bad.add_done_callback(report(2))

    async def wait_for_it(future: asyncio.Future[int], record: TaskRecord) -> int:
        return await future

    waiters = [
        asyncio.ensure_future(ctx.track(batch, "future", "resolved by set_result",
                                        lambda r: wait_for_it(good, r))),
        asyncio.ensure_future(ctx.track(batch, "future", "resolved by set_exception",
                                        lambda r: wait_for_it(bad, r))),
    ]
    ctx.close(batch)
    ctx.say(f"two futures created: both pending (done() is {good.done()})")
    await asyncio.sleep(pause)
    good.set_result(42)
    ctx.say("future 1: set_result(42); whoever awaits it resumes with 42")
    await asyncio.sleep(pause)
    bad.set_exception(ValueError("sensor offline"))
    ctx.say("future 2: set_exception(ValueError): whoever awaits it gets the exception")
    await asyncio.gather(*waiters, return_exceptions=True)
    ctx.data.update(result=good.result(), exception=repr(bad.exception()))


def _fetch_path(index: int) -> str:
    ms = DELAYS_MS[index]
    return f"/status/500?delay_ms={ms}" if index == FAILING else f"/delay/{ms}"


async def gather(ctx: ScenarioContext) -> None:
    def ten(batch: Any) -> list[Any]:
        async def get(index: int, record: TaskRecord) -> int:
            await ctx.get_json(_fetch_path(index), record)
            return DELAYS_MS[index]

        return [
            ctx.track(batch, "fetch", _fetch_path(i), partial(get, i),
                      summary=lambda ms: f"{ms} ms")
            for i in range(len(DELAYS_MS))
        ]

    # 1. gather, an exception propagates and the others keep running
    batch = ctx.batch("gather(): the first exception propagates")
    tasks = [asyncio.ensure_future(c) for c in ten(batch)]
    try:
        await asyncio.gather(*tasks)
    except Exception as error:
        running = sum(not t.done() for t in tasks)
        ctx.say(f"gather() raised {type(error).__name__} at once; the {running} still running "
                "were NOT cancelled and finish on their own")
    await asyncio.gather(*tasks, return_exceptions=True)
    ctx.close(batch)
    # 2. gather with return_exceptions: results in order
    batch = ctx.batch("gather(return_exceptions=True): results in order")
    results = await asyncio.gather(*ten(batch), return_exceptions=True)
    shown = ", ".join(type(r).__name__ if isinstance(r, BaseException) else str(r)
                      for r in results)
    ctx.say(f"gather(return_exceptions=True) → in the order given: {shown}")
    ctx.close(batch)
    # 3. as_completed: results as they come
    batch = ctx.batch("as_completed(): results as they come")
    order = []
    for next_done in asyncio.as_completed(ten(batch)):
        try:
            order.append(str(await next_done))
        except Exception as error:
            order.append(type(error).__name__)
    ctx.say(f"as_completed → in the order they finished: {', '.join(order)}")
    ctx.close(batch)
    # 4. TaskGroup: one failure cancels the siblings
    batch = ctx.batch("TaskGroup: one failure cancels the siblings")
    try:
        async with asyncio.TaskGroup() as group:
            for coroutine in ten(batch):
                group.create_task(coroutine)
    except* Exception as errors:
        names = ", ".join(type(e).__name__ for e in errors.exceptions)
        cancelled = plural(batch.counts[TaskState.CANCELLED], "sibling")
        ctx.say(f"TaskGroup raised an ExceptionGroup ({names}) and cancelled the {cancelled} "
                "still running")
    ctx.close(batch)
    ctx.data.update(in_order=shown.split(", "), as_completed=order)


async def blocking(ctx: ScenarioContext) -> None:
    seconds: float = ctx.option("seconds", 1.0)
    manager = ctx.manager
    start = manager.clock()
    blocked = ctx.launch(f"block {seconds:g}; sleep 0.2 x5", "time.sleep on the loop")
    await blocked.wait()
    await asyncio.sleep(0.2)
    lag_blocked = manager.lag.stats(since=start).max_ms
    middle = manager.clock()
    offloaded = ctx.launch(f"thread {seconds:g}; sleep 0.2 x5", "the same wait in run_in_executor")
    await offloaded.wait()
    await asyncio.sleep(0.2)
    lag_offloaded = manager.lag.stats(since=middle).max_ms
    ctx.data.update(lag_max_blocked_ms=round(lag_blocked, 1),
                    lag_max_offloaded_ms=round(lag_offloaded, 1))
    ctx.say(f"time.sleep({seconds:g}) on the loop: the lag peaked at {lag_blocked:,.0f} ms and "
            f"the five 0.2 s sleeps took {human_seconds(ctx.wall(blocked))} in all")
    ctx.say(f"the same wait through run_in_executor: lag peaked at {lag_offloaded:,.0f} ms; "
            f"the sleeps ran alongside ({human_seconds(ctx.wall(offloaded))} in all)")


BASIC_SCENARIOS = [
    Scenario(
        "futures",
        "A bare asyncio.Future",
        "Two bare futures are created and awaited: both pending. One second later the first is "
        "resolved with set_result, a second after that the second with set_exception; each "
        "has a done-callback that logs what it got. Whoever awaits a future resumes when it is "
        "resolved, with its result or by raising its exception.",
        futures,
    ),
    Scenario(
        "gather",
        "gather, as_completed and TaskGroup",
        "The same ten fetches, one of which fails with HTTP 500, four ways: gather (the first "
        "exception propagates, the others keep running), gather with return_exceptions=True "
        "(every result, in the order given), as_completed (results in the order they finish) "
        "and TaskGroup (one failure cancels the siblings still running).",
        gather,
    ),
    Scenario(
        "blocking",
        "Blocking the loop vs run_in_executor",
        "time.sleep(1) on the event loop, next to five 0.2 s asyncio sleeps: nothing else runs, "
        "the screen freezes, the lag meter spikes and names the culprit, and the sleeps end "
        "late. Then the same wait through run_in_executor: the loop stays free, no spike, the "
        "sleeps end on time.",
        blocking,
    ),
]
