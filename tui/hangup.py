"""Closing the terminal quits like ``q``, for the dashboard and for ``watch`` alike.

Not through the event loop: once the terminal is gone the loop may be stuck writing to it
(Textual's writer thread is replaced on the SIGCONT that comes with the hangup, and the old
one's full queue is never drained), and Textual's shutdown then waits forever on it (a
dashboard was found hours later, idle, its terminal deleted). A plain signal handler still
runs then: it asks the loop to stop as ``q`` would, and starts a watchdog thread that ends
what the app started and leaves if the loop never gets to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType


class HangupExit:
    """SIGHUP's handler for an app on a real terminal."""

    def __init__(self, *, closed: Callable[[], bool], stop: Callable[[int], None],
                 leave_if_stuck: Callable[[], None]) -> None:
        self._closed = closed
        """Whether the app already closed what it started (then it leaves at once)."""
        self._stop = stop
        """The app's stop on a signal, called on its loop."""
        self._leave_if_stuck = leave_if_stuck
        """The watchdog: ends what the app started after a grace, then ``os._exit``."""
        self.terminal_gone = False

    def install(self) -> None:
        with contextlib.suppress(ValueError):  # not the main thread
            signal.signal(signal.SIGHUP, self._on_hangup)

    def _on_hangup(self, signum: int, frame: FrameType | None) -> None:
        if self._closed():
            os._exit(128 + signal.SIGHUP)  # no terminal to restore
        if self.terminal_gone:
            return
        self.terminal_gone = True
        threading.Thread(target=self._leave_if_stuck, name="loopscope-hangup",
                         daemon=True).start()
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            asyncio.get_running_loop().call_soon_threadsafe(self._stop, signum)
