"""Where the manager's fetches go, and how many may be open at once.

The manager owns one aiohttp ``ClientSession`` for its whole life (opened by ``start``,
closed by ``aclose``), the connection slots that enforce its limits, and the demo server
when it runs its own. The slots (tasks/slots.py), not aiohttp's connector, hold the limits
so that they can change while running; with ``trace_connections`` the connector holds
them instead (its queue is what the trace hooks see), and then they cannot change.

Kept out of the manager because these parts live and die together and share the options
they were made from; the manager hands kinds the session, ``resolve_url`` and
``fetch_slot`` (``ConnectionSlots.slot_for``) through them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import aiohttp.abc

from loopscope.tasks.demo_server import DemoServer
from loopscope.tasks.errors import ManagerClosed, TaskFailure
from loopscope.tasks.options import EngineOptions, OptionError
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.slots import ConnectionSlots


class Connections:
    """The session, the connection slots and the demo server, for one manager."""

    def __init__(
        self,
        options: EngineOptions,
        *,
        resolver: aiohttp.abc.AbstractResolver | None,
        record_waits: Callable[[TaskRecord, str], None],
    ) -> None:
        """``record_waits(record, what)``: a fetch must wait for a slot (the ledger's)."""
        self._resolver = resolver
        """DNS resolver for the connector (tests pass one that never leaves the machine)."""
        tracing = options.trace_connections
        self.slots = ConnectionSlots(
            0 if tracing else options.connector_limit,
            0 if tracing else options.limit_per_host,
            record_waits,
        )
        self.demo_url = options.demo_url.rstrip("/") if options.demo_url else None
        """Where ``/path`` URLs go: the given ``demo_url``, or the embedded server's once up."""
        want_demo = options.demo_server and options.demo_url is None
        self.demo = DemoServer(seed=options.demo_seed) if want_demo else None
        self.opened: aiohttp.ClientSession | None = None
        """The session once opened (read directly on the per-request path)."""

    async def open(
        self, options: EngineOptions, trace_config: aiohttp.TraceConfig | None
    ) -> None:
        """Open the session (``trace_config``: with ``trace_connections``), start the demo."""
        tracing = options.trace_connections
        connector = aiohttp.TCPConnector(
            # the slots (tasks/slots.py) enforce the limits, so they can change while running
            limit=options.connector_limit if tracing else 0,
            limit_per_host=options.limit_per_host if tracing else 0,
            resolver=self._resolver,
        )
        self.opened = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=options.fetch_timeout),
            trace_configs=[trace_config] if trace_config is not None else None,
        )
        if self.demo is not None:
            await self.demo.start()
            self.demo_url = self.demo.url

    async def close(self) -> None:
        """Close the session and stop the demo server (if they were opened)."""
        if self.opened is not None:
            await self.opened.close()
            await asyncio.sleep(0)  # let the transports finish closing
        if self.demo is not None:
            await self.demo.stop()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self.opened is None:
            raise ManagerClosed("call `await manager.start()` first")
        return self.opened

    def limits_changed(self, old: EngineOptions, new: EngineOptions) -> bool:
        """Whether ``new`` changes the connection limits; OptionError if they cannot change."""
        changed = (new.connector_limit, new.limit_per_host) != (
            old.connector_limit, old.limit_per_host,
        )
        if changed and new.trace_connections:
            raise OptionError("connection limits cannot change while tracing connections")
        return changed

    def resolve_url(self, url: str) -> str:
        if url.startswith("/"):
            if self.demo_url is None:
                raise TaskFailure("no demo server is running: give a full http:// URL")
            return self.demo_url + url
        return url
