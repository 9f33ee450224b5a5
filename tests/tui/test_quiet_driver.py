"""The dashboard's terminal driver waits for keys without polling (tui/quiet_driver.py), and
still does what Textual's does: a lone escape is a key (it closes the command bar), and ``q``
quits at once rather than leaving the input thread asleep forever.

In a real terminal (a pseudo-terminal). Each wait is for what the screen draws, bounded only
to fail rather than hang."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

from loopscope.tui.app import make_app
from loopscope.tui.quiet_driver import QuietLinuxDriver


def read_until(master: int, marker: bytes, limit: float = 60.0) -> None:
    """Read the terminal until ``marker`` is drawn (``limit`` bounds a failure)."""
    seen = b""
    deadline = time.monotonic() + limit
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the screen never showed {marker!r}")
        ready, _, _ = select.select([master], [], [], min(left, 0.5))
        if ready:
            seen = (seen + os.read(master, 65536))[-8192:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's driver")
def test_the_dashboard_uses_the_quiet_driver_on_linux() -> None:
    assert make_app().driver_class is QuietLinuxDriver


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's driver")
def test_a_lone_escape_closes_the_bar_and_q_quits_in_a_real_terminal() -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "loopscope"],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color"},
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    try:
        read_until(master, b"Tasks")
        os.write(master, b":")
        read_until(master, b"close")  # the command bar is open: "esc close" in the footer
        os.write(master, b"\x1b")  # a lone escape: a key only once the parser times it out
        read_until(master, b"quit")  # the bar closed: the dashboard's keys are back
        os.write(master, b"q")
        assert app.wait(timeout=60) == 0
    finally:
        os.close(master)
        if app.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(app.pid, signal.SIGKILL)
            app.wait()
