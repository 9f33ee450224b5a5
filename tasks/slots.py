"""Connection slots: what a fetch holds while it runs, so its wait is visible and free.

One limiter sized like the connection limit, and one per host when ``limit_per_host`` is set.
Waiting here is a fetch's "pending" time, and the record says it waits for a connection slot.
The limits can change while fetches wait (``resize``): a bigger limit lets waiters in at once,
a smaller one lets no new fetch in until enough have finished. The aiohttp connector itself is
left unlimited, so it never queues behind these slots. (aiohttp's TraceConfig would show the
connector's own queue, at a measured ~15% of throughput: see tasks/kinds/fetch.py.)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any

OnWait = Callable[[Any, str], None]
"""Told who is about to wait (the ``who`` given to ``hold``) and for what (``a connection
slot``), when a fetch must wait."""


class Limiter:
    """A semaphore whose size can change while tasks wait on it. 0 means no limit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.held = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def free(self) -> bool:
        return (not self.limit or self.held < self.limit) and not self._waiters

    def take(self) -> bool:
        """Take a slot if one is free now (no waiting, no coroutine): True if taken."""
        if (not self.limit or self.held < self.limit) and not self._waiters:
            self.held += 1
            return True
        return False

    async def acquire(self) -> None:
        if self.free():
            self.held += 1
            return
        await self.wait_for_slot()

    async def wait_for_slot(self) -> None:
        """Queue for a slot (``take`` found none free) and hold it once woken."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # _wake counted us in before setting the result
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # woken, then cancelled before running: pass the slot on
            else:
                with contextlib.suppress(ValueError):  # _wake may have dropped it already
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.held -= 1
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


class _HoldOne:
    """``async with``: one slot of one limiter (no per-host limit: the usual case).

    This runs once per fetch, so it is kept lean: a free slot is taken without a further
    coroutine, as ``asyncio.Semaphore`` does (README "Benchmarks" (c))."""

    __slots__ = ("_held", "_limiter", "_on_wait", "_who")

    def __init__(self, limiter: Limiter, on_wait: OnWait | None, who: object):
        self._limiter = limiter
        self._on_wait = on_wait
        self._who = who
        self._held = False

    async def __aenter__(self) -> None:
        limiter = self._limiter
        if not limiter.take():
            if self._on_wait is not None:
                self._on_wait(self._who, "a connection slot")
            await limiter.wait_for_slot()
        self._held = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._held:
            self._held = False
            self._limiter.release()


class _Hold:
    """``async with``: the host's slot first (a full host never holds a slot another host
    could use), then the overall one."""

    __slots__ = ("_limiters", "_on_wait", "_taken", "_who")

    def __init__(
        self, limiters: tuple[tuple[Limiter, str], ...], on_wait: OnWait | None, who: object
    ):
        self._limiters = limiters
        self._on_wait = on_wait
        self._who = who
        self._taken: list[Limiter] = []

    async def __aenter__(self) -> None:
        try:
            for limiter, what in self._limiters:
                if not limiter.free() and self._on_wait is not None:
                    self._on_wait(self._who, what)
                await limiter.acquire()
                self._taken.append(limiter)
        except BaseException:
            self._release()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._release()

    def _release(self) -> None:
        while self._taken:
            self._taken.pop().release()


class ConnectionSlots:
    def __init__(self, limit: int, per_host: int):
        self._slots = Limiter(limit)
        self._per_host = per_host
        self._host_slots: dict[str, Limiter] = {}

    @property
    def limit(self) -> int:
        return self._slots.limit

    @property
    def per_host(self) -> int:
        return self._per_host

    def hold(
        self, url: str, on_wait: OnWait | None = None, who: object = None
    ) -> _Hold | _HoldOne:
        """What a fetch to ``url`` holds while it runs; ``on_wait(who, what)`` is called before
        it waits for a slot."""
        if not self._per_host:
            return _HoldOne(self._slots, on_wait, who)
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        host_slot = self._host_slots.get(host)
        if host_slot is None:
            host_slot = self._host_slots[host] = Limiter(self._per_host)
        return _Hold(
            ((host_slot, f"a connection slot for {host}"), (self._slots, "a connection slot")),
            on_wait,
            who,
        )

    def resize(self, limit: int, per_host: int) -> None:
        """New limits, now: waiting fetches get in as soon as the new limits allow."""
        self._slots.resize(limit)
        self._per_host = per_host
        for slot in self._host_slots.values():
            slot.resize(per_host)
