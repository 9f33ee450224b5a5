"""Connection slots: what a fetch holds while it runs, so its wait is visible and free.

One limiter sized like the connection limit, and one per host when ``limit_per_host`` is set.
Waiting here is a fetch's "pending" time, and the record says it waits for a connection slot.
The limits can change while fetches wait (``resize``): a bigger limit lets waiters in at once,
a smaller one lets no new fetch in until enough have finished. The aiohttp connector itself is
left unlimited, so it never queues behind these slots. (aiohttp's TraceConfig would show the
connector's own queue, at a measured ~15% of throughput: see tasks/kinds/fetch.py.)

A fetch asks ``ConnectionSlots.slot_for(url)`` for its slot and then ``take()`` (no waiting,
no coroutine), awaits ``wait(who)`` only when none is free (a bare future in the usual case),
and calls ``release()`` when done. That object is shared (the one overall limiter, or one per
host): nothing is allocated per fetch but the future it waits on. This is the engine's
per-request path (README "Benchmarks" (c)), which is why it is not an ``async with`` (two more
coroutines a request).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

OnWait = Callable[[Any, str], None]
"""Told who is about to wait (the record given to ``wait``) and for what (``a connection
slot``), when a fetch must wait (the ledger's ``waiting``)."""

SLOT = "a connection slot"


class FetchSlot(Protocol):
    """What a fetch holds while it runs: ``take()``, or ``waiting = wait(who)`` then
    ``await waiting`` (``give_up(waiting)`` if that is cancelled); ``release()`` when done."""

    def take(self) -> bool: ...

    def wait(self, who: Any) -> Awaitable[None]: ...

    def give_up(self, waiting: Awaitable[None]) -> None: ...

    def release(self) -> None: ...


class Limiter:
    """A semaphore whose size can change while tasks wait on it. 0 means no limit."""

    def __init__(self, limit: int, on_wait: OnWait | None = None, what: str = SLOT):
        self.limit = limit
        self.held = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._on_wait = on_wait
        self._what = what
        """What a fetch that waits here waits for, in words (``a connection slot``)."""

    def take(self) -> bool:
        """Take a slot if one is free now (no waiting, no coroutine): True if taken."""
        if (not self.limit or self.held < self.limit) and not self._waiters:
            self.held += 1
            return True
        return False

    def wait(self, who: Any) -> asyncio.Future[None]:
        """``take`` found no slot: say that ``who`` (a fetch's record) waits for one, and
        queue. Await the future returned (no coroutine of its own: it runs for most fetches
        of a big batch); once it is done the slot is held. If the wait is cancelled, call
        ``give_up`` with it."""
        if self._on_wait is not None:
            self._on_wait(who, self._what)
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter

    def give_up(self, waiting: Awaitable[None]) -> None:
        """The wait was cancelled: leave the queue, or pass on the slot if it came."""
        if not isinstance(waiting, asyncio.Future):
            return
        if waiting.done() and not waiting.cancelled():
            self.release()  # woken (_wake counted us in), then cancelled before running
        else:
            with contextlib.suppress(ValueError):  # _wake may have dropped it already
                self._waiters.remove(waiting)

    async def acquire(self, who: Any) -> None:
        """``take``, or wait for a slot (a coroutine: for the less frequent per-host path)."""
        if self.take():
            return
        waiting = self.wait(who)
        try:
            await waiting
        except asyncio.CancelledError:
            self.give_up(waiting)
            raise

    def release(self) -> None:
        self.held -= 1
        if self._waiters:
            self._wake()

    def resize(self, limit: int) -> None:
        self.limit = limit
        self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        limit = self.limit
        while waiters and (not limit or self.held < limit):
            waiter = waiters.popleft()
            if not waiter.done():
                self.held += 1
                waiter.set_result(None)


class HostSlot:
    """A host's slot and the overall one: the host's first (a full host never holds a slot
    another host could use), then the overall one; released the other way round."""

    __slots__ = ("_overall", "host")

    def __init__(self, host: Limiter, overall: Limiter):
        self.host = host
        self._overall = overall

    def take(self) -> bool:
        if not self.host.take():
            return False
        if self._overall.take():
            return True
        self.host.release()  # it had no waiters (take succeeded): nobody is woken
        return False

    async def wait(self, who: Any) -> None:
        await self.host.acquire(who)
        try:
            await self._overall.acquire(who)
        except BaseException:
            self.host.release()
            raise

    def give_up(self, waiting: Awaitable[None]) -> None:
        """Nothing to do: ``wait`` let go of what it held when it was cancelled."""

    def release(self) -> None:
        self._overall.release()
        self.host.release()


class ConnectionSlots:
    def __init__(self, limit: int, per_host: int, on_wait: OnWait | None = None):
        self._on_wait = on_wait
        self._slots = Limiter(limit, on_wait)
        self._per_host = per_host
        self._host_slots: dict[str, HostSlot] = {}

    @property
    def limit(self) -> int:
        return self._slots.limit

    @property
    def per_host(self) -> int:
        return self._per_host

    def slot_for(self, url: str) -> FetchSlot:
        """The slot a fetch to ``url`` holds while it runs (shared: nothing is allocated)."""
        if not self._per_host:
            return self._slots
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        slot = self._host_slots.get(host)
        if slot is None:
            limiter = Limiter(self._per_host, self._on_wait, f"a connection slot for {host}")
            slot = self._host_slots[host] = HostSlot(limiter, self._slots)
        return slot

    def resize(self, limit: int, per_host: int) -> None:
        """New limits, now: waiting fetches get in as soon as the new limits allow."""
        self._slots.resize(limit)
        self._per_host = per_host
        for slot in self._host_slots.values():
            slot.host.resize(per_host)
