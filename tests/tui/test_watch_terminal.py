"""``loopscope watch`` in a real terminal (a pseudo-terminal) that goes away: the user quits
with q and closes the window at once, or just closes it. loopscope must stop the program and
exit, not hang on the terminal that no longer exists (Textual's shutdown waited forever on its
writer thread, which had died writing to the closed terminal)."""

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
import textwrap
import time
from pathlib import Path

import psutil
import pytest

PROGRAM = """
    import asyncio, os, signal, sys
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # slow to stop: SIGTERM after the grace
    open(sys.argv[1], "w").write(str(os.getpid()))

    async def main():
        await asyncio.Event().wait()

    asyncio.run(main())
"""


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def read_until(master: int, marker: bytes, pid_file: Path, limit: float = 60.0) -> None:
    """Read the terminal until ``marker`` was drawn and the program wrote its pid (a bound
    for a failure, not a timing: the condition is what is waited for)."""
    seen = b""
    deadline = time.monotonic() + limit
    while marker not in seen or not pid_file.exists() or not pid_file.read_text():
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the screen never showed {marker!r} with the program up")
        ready, _, _ = select.select([master], [], [], min(left, 0.5))
        if ready:
            seen = (seen + os.read(master, 65536))[-8192:]


@pytest.mark.parametrize("press_q", [True, False], ids=["q-then-close", "close"])
def test_closing_the_terminal_stops_the_program_and_loopscope_exits(
    tmp_path: Path, press_q: bool,
) -> None:
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(PROGRAM))
    pid_file = tmp_path / "pid"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "loopscope", "watch", str(script), str(pid_file)],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color"},
        # the terminal is the app's controlling terminal, as in a terminal window: closing it
        # makes the kernel send SIGHUP
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    program_pid: int | None = None
    try:
        read_until(master, b"Tasks", pid_file)
        program_pid = int(pid_file.read_text())
        if press_q:
            os.write(master, b"q")
        os.close(master)  # the terminal window closes: SIGHUP, and writes fail
        master = -1
        app.wait(timeout=60)
        assert gone(program_pid), "the watched program was left running"
    finally:
        if master >= 0:
            os.close(master)
        if app.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(app.pid, signal.SIGKILL)
            app.wait()
        if program_pid is not None and not gone(program_pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(program_pid, signal.SIGKILL)


@pytest.mark.parametrize("press_q", [True, False], ids=["q-then-close", "close"])
def test_closing_the_terminal_ends_the_dashboard_too(tmp_path: Path, press_q: bool) -> None:
    """The same for the dashboard itself: a loopscope left from a terminal that vanished was
    found hours later, its main thread waiting on Textual's dead writer thread."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    app = subprocess.Popen(
        [sys.executable, "-m", "loopscope"],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True, cwd=tmp_path,
        env={**os.environ, "TERM": "xterm-256color"},
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    marker = tmp_path / "drawn"
    marker.write_text("x")  # read_until also waits for a file; this one is there already
    try:
        read_until(master, b"Tasks", marker)
        if press_q:
            os.write(master, b"q")
        os.close(master)
        master = -1
        app.wait(timeout=60)
        children = [p for p in psutil.process_iter(["ppid"]) if p.info["ppid"] == app.pid]
        assert children == [], "a process of loopscope's was left behind"
    finally:
        if master >= 0:
            os.close(master)
        if app.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(app.pid, signal.SIGKILL)
            app.wait()
