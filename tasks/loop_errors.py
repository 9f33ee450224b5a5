"""The engine's handler for the event loop's unhandled errors: out of file descriptors.

Out of file descriptors, asyncio logs a traceback per failed accept (thousands, and more for
each retry it schedules). The manager installs this handler on start: it says it once, in
words (a notice for the screen), and drops the retries that fire once the server is closed.
Everything else goes to the handler that was there before, unchanged. It stays installed after
the manager closes, since an accept retry can fire later still.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable
from typing import Any

TOO_MANY_FILES = "too many open files: raise ulimit -n or lower the connection limit"

Handler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


class LoopErrors:
    """``loop.set_exception_handler(LoopErrors(notice, previous))``."""

    def __init__(self, notice: Callable[[str], None], previous: Handler | None):
        self._notice = notice
        self._previous = previous

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE):
            self._notice(TOO_MANY_FILES)
            return
        if _is_accept_retry(context):
            return  # the retry of an accept that failed for lack of descriptors
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)


def _is_accept_retry(context: dict[str, Any]) -> bool:
    """A server's delayed accept retry failing because its socket is gone (closed meanwhile)."""
    handle = context.get("handle")
    callback = getattr(handle, "_callback", None)
    return getattr(callback, "__name__", "") == "_start_serving" and isinstance(
        context.get("exception"), (OSError, ValueError)
    )
