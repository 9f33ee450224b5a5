"""The agent's socket for its one viewer: opening it, probing a path left by an earlier
program, and the blocking hello exchange (the sender's own thread does it, never the loop's)."""

from __future__ import annotations

import socket
import time
from typing import Any

from loopscope.tasks.agent import wire
from loopscope.tasks.agent.address import Address

HANDSHAKE_TIMEOUT = 5.0


def answers(path: str) -> bool:
    """Whether something listens on the Unix socket at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def socket_for(address: Address) -> socket.socket:
    if address.kind == "unix":
        return socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    family = socket.AF_INET6 if address.host and ":" in address.host else socket.AF_INET
    return socket.socket(family, socket.SOCK_STREAM)


def read_hello(sock: socket.socket) -> dict[str, Any]:
    """Read the peer's preamble and hello on a blocking socket (with its timeout)."""
    decoder = wire.FrameDecoder()
    deadline = time.monotonic() + HANDSHAKE_TIMEOUT
    while time.monotonic() < deadline:
        data = sock.recv(65536)
        if not data:
            raise EOFError("the peer hung up")
        messages = decoder.feed(data)
        if messages:
            hello = messages[0]
            if hello.get("kind") != "hello":
                raise wire.ProtocolError("expected hello")
            return hello
    raise TimeoutError("no hello")
