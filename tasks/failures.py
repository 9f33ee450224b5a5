"""Turn an exception into what a person reads: a type name and one line that says what happened.

aiohttp's messages carry internals (``ssl:default [Connect call failed ...]``); these say the
same thing in words a user can act on. The full traceback is kept separately on the record.
Both go through :func:`~loopscope.tasks.secrets.mask_text`: what a record stores (and so the
screen, the JSON report and any export) never holds a password or a token.
"""

from __future__ import annotations

import errno
import traceback

import aiohttp

from loopscope.tasks.safe_text import printable
from loopscope.tasks.secrets import mask_text

MAX_MESSAGE = 300

_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "timed out",
    errno.EMFILE: "too many open files (raise ulimit -n or lower the connection limit)",
}


def one_line(text: str) -> str:
    """The first non-empty line of ``text``, shortened to MAX_MESSAGE characters."""
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"
    return ""


def describe(exc: BaseException) -> tuple[str, str]:
    """``(type name, one-line message)`` for an exception a task raised, secrets masked and
    control characters escaped (a message can quote a server's reason phrase or a file name)."""
    name, message = _describe(exc)
    return printable(name), printable(mask_text(message))


def _describe(exc: BaseException) -> tuple[str, str]:
    name = type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = _connector_reason(exc)
        return name, f"Cannot connect to host {exc.host}:{exc.port}" + (
            f" ({reason})" if reason else ""
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return name, f"invalid URL: {mask_text(str(exc.url))}"
    if isinstance(exc, OSError) and exc.strerror and getattr(exc, "filename", None):
        return name, f"{exc.strerror}: {exc.filename}"
    message = one_line(mask_text(str(exc)))  # masked before it is cut: no half-password shown
    if not message and isinstance(exc, TimeoutError):
        message = "timed out"
    return name, message


def _connector_reason(exc: aiohttp.ClientConnectorError) -> str:
    os_error = exc.os_error
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or os_error.errno in (-2, -3, -5):
        return f"host name not found: {os_error.strerror}" if os_error.strerror else "DNS failed"
    if os_error.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[os_error.errno]
    return one_line(os_error.strerror or str(os_error))


def format_traceback(exc: BaseException) -> str:
    """The full traceback, secrets masked, lines kept, control characters escaped."""
    return printable(mask_text("".join(traceback.format_exception(exc))), keep_lines=True)
