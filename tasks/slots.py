"""Connection slots: what a fetch holds while it runs, so its wait is visible and free.

One semaphore sized like the connector's limit, and one per host when ``limit_per_host`` is
set. Waiting here is a fetch's "pending" time. The connector has the same limits, so it never
queues behind these slots. (aiohttp's TraceConfig would show the connector's own queue, at a
measured ~15% of throughput: see tasks/kinds/fetch.py.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager


class ConnectionSlots:
    def __init__(self, limit: int, per_host: int):
        self.limit = limit
        self.per_host = per_host
        self._slots = asyncio.Semaphore(limit) if limit else None
        self._host_slots: dict[str, asyncio.Semaphore] = {}

    def hold(self, url: str) -> AbstractAsyncContextManager[object]:
        if not self.per_host:
            return self._slots if self._slots is not None else contextlib.nullcontext()
        return self._hold_both(url)

    @contextlib.asynccontextmanager
    async def _hold_both(self, url: str) -> AsyncIterator[None]:
        host = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        host_slot = self._host_slots.get(host)
        if host_slot is None:
            host_slot = self._host_slots[host] = asyncio.Semaphore(self.per_host)
        # the host's slot first, so a full host never holds a slot another host could use
        async with host_slot:
            if self._slots is None:
                yield
            else:
                async with self._slots:
                    yield
