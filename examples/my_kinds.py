"""Your own kinds of task, for loopscope.

Load this file and use its kinds like the built-in ones, from the CLI or the command bar::

    loopscope run --kinds examples/my_kinds.py "orders 7 x10" "sensors 5 every=50ms"
    loopscope --kinds examples/my_kinds.py          then  :  orders 3 x20 retries=2

Each kind is an ``async def`` decorated with ``@kind``. Its signature is its grammar: a
parameter without a default is a positional word, one with a default is a ``key=value`` option,
and the type hints (str, int, float, bool, Seconds, Path) say how a word is checked. A
parameter annotated ``KindContext`` receives loopscope's context: its aiohttp session, the
embedded demo server's URLs (``ctx.url("/users/1")``), its thread pool, progress reporting.
A task is "running" from the moment its function is called; what it returns is its result,
what it raises ends it in "exception", and cancelling it cancels the coroutine, exactly as
for the built-in kinds.

Both kinds here work offline: ``orders`` talks to the demo server loopscope starts on
127.0.0.1, ``sensors`` needs nothing but the event loop.
"""

from __future__ import annotations

import asyncio

from loopscope.tasks.kinds import KindContext, Seconds, kind


@kind(
    "orders",
    help="a user, then their orders: two dependent requests to the demo server",
    example="orders 7 x10",
    target="user {user}",
)
async def orders(user: int, retries: int = 0, *, ctx: KindContext) -> str:
    """GET /users/USER, then GET /orders/USER: the second request needs the first's answer."""
    attempt = 0
    while True:
        try:
            async with ctx.session.get(ctx.url(f"/users/{user}")) as response:
                response.raise_for_status()
                person = await response.json()
            async with ctx.session.get(ctx.url(f"/orders/{person['id']}")) as response:
                response.raise_for_status()
                placed = (await response.json())["orders"]
            break
        except OSError:  # aiohttp's connection errors are OSErrors too
            if attempt >= retries:
                raise
            attempt += 1
    total = sum(order["total"] for order in placed)
    ctx.preview(f"{person['name']}: {placed}")
    return f"{person['name']}: {len(placed)} orders, {total:.2f} in all"


@kind(
    "sensors",
    help="read N simulated sensors one after another, EVERY seconds apart",
    example="sensors 5 every=100ms x4",
    target="{n} sensors, every {every:g} s",
)
async def sensors(n: int, every: Seconds = 0.1) -> str:
    """Pure asyncio: a reading per sensor, a pause between readings."""
    if n < 1:
        raise ValueError("n must be 1 or more")
    readings = []
    for index in range(n):
        await asyncio.sleep(every)
        readings.append(20.0 + (index * 7 % 5) / 2)
    return f"{n} readings, mean {sum(readings) / n:.2f} °C"
