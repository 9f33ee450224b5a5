"""Textual's Linux driver without its input thread's 10 Hz poll.

Textual's input thread waits for keys with ``select(0.1)``: ten wake-ups a second while nobody
types, only to notice that input was disabled (quit, suspend) and to time out a lone escape.
On an idle dashboard that was about a fifth of what the process costs in a real terminal
(every wake-up of an idle process costs CPU here: README, Benchmarks). This driver's thread
waits with no timeout while nothing is pending, until the parser's own deadline while an
escape sequence is pending (a lone escape is still a key), and a pipe wakes it the moment
input is disabled. Everything else is Textual's ``LinuxDriver`` (pinned in pyproject.toml: the
loop below follows its ``run_input_thread``).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from collections.abc import Callable
from typing import Any

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

POLL_S = 0.1
"""Textual's own poll, used if its parser ever stops saying when it next times out."""
_UNKNOWN = object()


class WakingEvent(threading.Event):
    """An Event whose ``set`` also wakes a thread waiting in ``select``."""

    def __init__(self, wake: Callable[[], None]) -> None:
        super().__init__()
        self._wake = wake

    def set(self) -> None:
        super().set()
        self._wake()


class QuietLinuxDriver(LinuxDriver):
    """``LinuxDriver`` whose input thread sleeps until a key, a deadline or input's end."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self.exit_event = WakingEvent(self._wake_input_thread)

    def _wake_input_thread(self) -> None:
        with contextlib.suppress(OSError):  # full (it is awake already) or closed (gone)
            os.write(self._wake_write, b"\0")

    def close(self) -> None:
        super().close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (Textual's loop, with the waits above)."""
        selector = selectors.SelectSelector()
        fileno = self.fileno
        wake = self._wake_read
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            keys = [key for key, mask in ready if mask & selectors.EVENT_READ]
            if any(key.fd == wake for key in keys):
                with contextlib.suppress(OSError):
                    os.read(wake, 1024)
            for key in keys:
                if key.fd != fileno:
                    continue
                data = decode(os.read(fileno, 1024 * 4), final=final)
                if not data:
                    break  # stdin is piped
                for event in parser.feed(data):
                    self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(self._timeout(parser)))
            selector.unregister(fileno)
            process(selector.select(0.0), final=True)
        finally:
            selector.close()
            try:
                for _ in parser.feed(""):
                    pass
            except (EOFError, ParseError):  # as Textual's own loop
                pass

    @staticmethod
    def _timeout(parser: XTermParser) -> float | None:
        """No timeout while nothing is pending; the parser's deadline while it waits for the
        rest of an escape sequence (after which a lone escape is a key)."""
        deadline = getattr(parser, "_timeout_time", _UNKNOWN)  # Textual's, private
        if deadline is None:
            return None
        if not isinstance(deadline, float | int):
            return POLL_S
        return max(0.0, deadline - get_time())
