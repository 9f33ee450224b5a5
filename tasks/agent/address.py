"""Where an agent listens or connects: a private Unix socket, or loopback TCP with a token.

Forms accepted (``--listen``, ``--connect``, ``loopscope attach``, ``LOOPSCOPE_AGENT``)::

    unix:/run/user/1000/app.sock    a Unix socket
    /tmp/loopscope-x/agent.sock     the same (any text with a '/' and no port)
    127.0.0.1:6670  tcp:127.0.0.1:6670  localhost:6670  [::1]:6670  :6670  6670

A TCP host must be loopback unless ``allow_remote`` is given: the stream shows a program's
source lines and lets the viewer cancel tasks.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
from dataclasses import dataclass


class AddressError(ValueError):
    """An address loopscope cannot use; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Address:
    kind: str
    """``unix`` or ``tcp``."""
    path: str | None = None
    host: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        if self.kind == "unix":
            return f"unix:{self.path}"
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{host}:{self.port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_address(text: str, *, allow_remote: bool = False) -> Address:
    """Parse an address (raises ``AddressError`` with a one-line reason)."""
    text = text.strip()
    if not text:
        raise AddressError("empty address")
    if text.startswith("unix:"):
        path = text[5:]
        if not path:
            raise AddressError("unix: needs a path")
        return Address("unix", path=path)
    if text.startswith("tcp:"):
        text = text[4:]
    host, sep, port_text = text.rpartition(":")
    if not sep:
        if "/" in text:
            return Address("unix", path=text)
        host, port_text = "", text
    if "/" in port_text or ("/" in host and not host.startswith("[")):
        return Address("unix", path=text)
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise AddressError(f"{text!r}: expected unix:PATH or HOST:PORT") from None
    if not 0 <= port <= 65535:
        raise AddressError(f"port {port} is out of range")
    if not allow_remote and not is_loopback(host):
        raise AddressError(f"{host} is not a loopback address (the agent serves this machine only)")
    return Address("tcp", host=host, port=port)


def private_socket_path(name: str = "agent.sock") -> str:
    """A fresh Unix socket path in a new directory only this user can enter (mode 0700)."""
    directory = tempfile.mkdtemp(prefix="loopscope-")
    os.chmod(directory, 0o700)
    return os.path.join(directory, name)


def new_token() -> str:
    """A token for a TCP agent: hex, so it never starts with "-" (``--token -x9…`` reads as a
    missing value on a command line; a url-safe token did, one time in 32)."""
    return secrets.token_hex(18)
