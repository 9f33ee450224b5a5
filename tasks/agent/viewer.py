"""The viewer's end of the stream, for asyncio code (the dashboard and the headless watch).

Two ways to meet an agent:

* ``AgentListener`` (what ``loopscope watch`` does): listen on a fresh private Unix socket,
  start the program with ``python -m loopscope.agent --connect unix:PATH ...`` and take the
  agent's connection with ``await listener.accept()``.
* ``connect(address, token)`` (what ``loopscope attach`` does): connect to an agent that
  listens (``loopscope.agent.install()``); a TCP agent needs its token.

Either gives an ``AgentConnection``: ``async for message in connection`` yields decoded
frames (feed them to ``WatchState.apply``), ``await connection.cancel(task_id)`` asks the
agent to cancel a task, ``await connection.close()`` ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from loopscope.tasks.agent import wire
from loopscope.tasks.agent.address import Address, parse_address, private_socket_path


class AgentConnection:
    """One established stream from an agent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 hello: dict[str, Any]) -> None:
        self.reader = reader
        self.writer = writer
        self.hello = hello
        """The agent's hello: pid, argv, python, version."""
        self.error: str | None = None
        """Why the stream ended early, if it did."""

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[dict[str, Any]]:
        yield self.hello
        while True:
            try:
                message = await wire.read_message(self.reader)
            except (ConnectionError, OSError):
                return
            except wire.ProtocolError as error:
                # A stream cut inside a frame (the program was killed, or its final flush ran
                # out of time): everything before it stands.
                self.error = str(error)
                return
            if message is None:
                return
            yield message

    async def send(self, message: dict[str, Any]) -> None:
        self.writer.write(wire.encode_frame(message))
        await self.writer.drain()

    async def cancel(self, task_id: int) -> None:
        """Ask the agent to cancel task ``task_id`` in the watched program."""
        with contextlib.suppress(ConnectionError, OSError):
            await self.send({"kind": "cancel", "task": task_id})

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


async def _handshake_as_listener(reader: asyncio.StreamReader,
                                 writer: asyncio.StreamWriter) -> AgentConnection:
    await wire.read_preamble(reader)
    hello = await wire.read_message(reader)
    if hello is None or hello.get("kind") != "hello" or hello.get("role") != "agent":
        raise wire.ProtocolError("the peer did not introduce itself as an agent")
    writer.write(wire.PREAMBLE + wire.encode_frame({"kind": "hello", "role": "viewer"}))
    await writer.drain()
    return AgentConnection(reader, writer, hello)


class AgentListener:
    """A private Unix socket an agent connects to (``--connect unix:PATH``)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or private_socket_path()
        self._server: asyncio.AbstractServer | None = None
        self._connections: asyncio.Queue[AgentConnection] = asyncio.Queue()

    @property
    def address(self) -> str:
        return f"unix:{self.path}"

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._accepted, self.path)
        os.chmod(self.path, 0o600)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            connection = await asyncio.wait_for(_handshake_as_listener(reader, writer), 10)
        except (wire.ProtocolError, EOFError, ConnectionError, OSError, TimeoutError):
            writer.close()
            return
        await self._connections.put(connection)

    async def accept(self) -> AgentConnection:
        """The next agent that connected and introduced itself."""
        return await self._connections.get()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(self.path))


async def connect(address: Address | str, token: str | None = None,
                  *, timeout: float = 5.0) -> AgentConnection:
    """Connect to a listening agent and say hello (``ProtocolError`` if it refuses)."""
    if isinstance(address, str):
        address = parse_address(address)

    async def handshake() -> AgentConnection:
        if address.kind == "unix":
            assert address.path is not None
            reader, writer = await asyncio.open_unix_connection(address.path)
        else:
            reader, writer = await asyncio.open_connection(address.host, address.port)
        writer.write(wire.PREAMBLE + wire.encode_frame(
            {"kind": "hello", "role": "viewer", "token": token, "version": wire.VERSION}
        ))
        await writer.drain()
        try:
            await wire.read_preamble(reader)
        except EOFError:
            writer.close()
            raise wire.ProtocolError(
                "the agent closed the connection (wrong or missing --token?)"
            ) from None
        hello = await wire.read_message(reader)
        if hello is None or hello.get("kind") != "hello":
            writer.close()
            raise wire.ProtocolError("the agent did not say hello")
        return AgentConnection(reader, writer, hello)

    return await asyncio.wait_for(handshake(), timeout)
