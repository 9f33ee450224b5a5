"""The dashboard's end of the agent's stream: fill a WatchStore from a real agent.

``ListenerFeed`` is ``loopscope watch``: a private Unix socket (0600 in a 0700 directory) that
the agent inside the started program connects to. ``ConnectFeed`` is ``loopscope attach``: it
connects to an agent that listens. Both apply every message to the store as it arrives, say
how the link is doing in ``store.link``, and carry ``c`` (cancel) back to the agent as a
``{"kind": "cancel", "task": ID}`` frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Sequence

from loopscope.tasks.agent.address import AddressError
from loopscope.tasks.agent.viewer import AgentConnection, AgentListener, connect
from loopscope.tasks.agent.wire import ProtocolError
from loopscope.tasks.watch.store import WatchStore


def agent_command(address: str, target: Sequence[str], *, module: bool = False) -> list[str]:
    """Run ``target`` (a script and its arguments, or a module with ``module``) under the
    agent, with this interpreter, the agent connecting back to ``address``."""
    return [
        sys.executable, "-m", "loopscope.agent", "--connect", address,
        *(["-m"] if module else []), *target,
    ]


class _Feed:
    """Reads one connection into the store; shared by both ways of meeting an agent."""

    def __init__(self) -> None:
        self.connection: AgentConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._orders: set[asyncio.Task[None]] = set()

    async def _follow(self, connection: AgentConnection, store: WatchStore) -> None:
        self.connection = connection
        store.cancel_request = self._cancel
        store.set_link("connected")
        try:
            async for message in connection:
                store.apply_message(message)
        except ProtocolError as error:
            store.set_link(f"failed: {error}")
        except Exception as error:  # a bug of ours must show, not silently stop the stream
            store.set_link(f"failed: {type(error).__name__}: {error}")
            raise
        else:
            store.set_link("finished" if store.state.final else "closed")
        finally:
            store.cancel_request = None

    def _cancel(self, task_id: int) -> None:
        if self.connection is None:
            return
        order = asyncio.get_running_loop().create_task(self.connection.cancel(task_id))
        self._orders.add(order)
        order.add_done_callback(self._orders.discard)

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.connection is not None:
            await self.connection.close()


class ListenerFeed(_Feed):
    """Wait for the agent of the program loopscope starts (``loopscope watch``)."""

    def __init__(self, listener: AgentListener | None = None) -> None:
        super().__init__()
        self.listener = listener or AgentListener()

    @property
    def address(self) -> str:
        return self.listener.address

    async def start(self, store: WatchStore) -> None:
        await self.listener.start()
        self._reader = asyncio.get_running_loop().create_task(self._accept(store))

    async def _accept(self, store: WatchStore) -> None:
        connection = await self.listener.accept()
        await self._follow(connection, store)

    async def aclose(self) -> None:
        await super().aclose()
        await self.listener.close()


class ConnectFeed(_Feed):
    """Connect to an agent that listens (``loopscope attach ADDRESS``)."""

    def __init__(self, address: str, token: str | None = None) -> None:
        super().__init__()
        self.address = address
        self.token = token

    async def start(self, store: WatchStore) -> None:
        store.set_link(f"connecting to {self.address}")
        self._reader = asyncio.get_running_loop().create_task(self._connect(store))

    async def _connect(self, store: WatchStore) -> None:
        try:
            connection = await connect(self.address, self.token)
        except (AddressError, ProtocolError, OSError, TimeoutError) as error:
            store.set_link(f"failed: {error or type(error).__name__}")
            return
        await self._follow(connection, store)
