"""The fetches' time limits: every request in flight gets "no complete response within S
seconds", kept by one timer for all of them rather than one per request.

Why: aiohttp's own ``ClientTimeout(total=...)`` arms a ``TimerHandle`` for every request
(``call_at``, a push on the loop's timer heap whose comparisons are Python ``__lt__`` calls,
a cancel, the cancelled handle's removal): measured with callgrind, about 24k of a request's
~390k client instructions at ``/delay/0`` (README "Benchmarks" (c)). Here a request costs a
clock read and two dict operations. The fetches of one timeout value are kept in one dict in
the order they started, which is also the order of their deadlines, so the earliest deadline
is the first entry of one of these dicts; the one timer is set for it.

What a fetch sees is the same as with aiohttp's timeout: the limit covers the whole request
(redirects and body included) from when the fetch got its connection slot, and when it
passes, the request is cancelled where it waits and the fetch raises ``FetchTimeout``. As in
``asyncio.timeout``, a cancellation that arrives from elsewhere at the same time wins: the
task then ends cancelled, not timed out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

Pending = dict[object, tuple[float, "asyncio.Task[Any]", int]]
"""The fetches of one timeout value, oldest first: fetch -> (deadline, its task, the task's
``cancelling()`` when it started)."""


class FetchDeadlines:
    """The deadlines of the fetches in flight, by timeout value, and the one timer."""

    def __init__(self, default_s: float):
        self.default_s = default_s
        """The limit of a fetch that names none (``EngineOptions.fetch_timeout``)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[float, Pending] = {}
        """Timeout value -> fetch -> (deadline, its task, the task's cancelling() at start),
        oldest first."""
        self._last_seconds: float | None = None
        self._last_pending: Pending = {}
        """The last timeout value asked for, and its fetches (no float hashed per fetch)."""
        self._expired: dict[object, int] = {}
        """Fetches cancelled because their deadline passed, with their task's cancelling()
        count from before (``expired`` tells a timeout from another cancellation)."""
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._now: Callable[[], float] = time.monotonic
        """The loop's clock (``call_at`` times)."""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # asyncio's own loop reads time.monotonic() through a Python method: read it directly
        # (one call less per fetch); another loop (uvloop) keeps its own clock.
        plain = getattr(type(loop), "time", None) is asyncio.BaseEventLoop.time
        self._now = time.monotonic if plain else loop.time

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def add(self, fetch: object, seconds: float) -> Pending:
        """``fetch`` (the running task's request) must be complete within ``seconds`` from
        now. Returns what to give ``remove`` when it ends."""
        if seconds is self._last_seconds:  # the copies of a spec share their limit's float
            pending = self._last_pending
        else:
            pending = self._pending.setdefault(seconds, {})
            self._last_seconds, self._last_pending = seconds, pending
        task = asyncio.current_task(self._loop)
        assert task is not None, "a fetch runs in a task"
        at = self._now() + seconds
        pending[fetch] = (at, task, task.cancelling())
        if self._timer is None or at < self._timer_at:
            self._arm(at)
        return pending

    def remove(self, fetch: object, pending: Pending) -> None:
        """``fetch`` ended (however): it has no deadline any more."""
        pending.pop(fetch, None)
        if self._expired:
            self._expired.pop(fetch, None)

    def expired(self, fetch: object) -> bool:
        """Called where ``fetch`` caught a CancelledError: True if its deadline cancelled it
        (and nothing else did meanwhile); the task's cancellation is then taken back, so the
        fetch can raise ``FetchTimeout`` instead."""
        cancelling = self._expired.pop(fetch, None)
        if cancelling is None:
            return False
        task = asyncio.current_task(self._loop)
        return task is not None and task.uncancel() <= cancelling

    def _arm(self, at: float) -> None:
        assert self._loop is not None
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_at(at, self._expire)
        self._timer_at = at

    def _expire(self) -> None:
        """The timer: cancel every fetch whose deadline passed, then wait for the next one."""
        self._timer = None
        assert self._loop is not None
        now = self._now()
        earliest: float | None = None
        for pending in self._pending.values():
            while pending:
                fetch = next(iter(pending))
                at, task, cancelling = pending[fetch]
                if at > now:
                    earliest = at if earliest is None else min(earliest, at)
                    break
                del pending[fetch]
                if not task.done():
                    self._expired[fetch] = cancelling
                    task.cancel()
        if earliest is not None:
            self._arm(earliest)
