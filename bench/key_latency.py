"""Key to screen: how long ``loopscope watch`` takes to answer a key while the program runs.

The real command runs in a pseudo-terminal (160x50) as a user runs it: ``loopscope watch``
starts a program under the agent, and the program keeps 100,000 tasks coming and going. A key
is written to the terminal, and the clock stops when the terminal receives the bytes that
show the key's effect: ``?`` the help screen's title, ``s`` the list's "sorted by <next
column>" (drawn in the same frame as the re-sorted rows), ``/`` the filter box's placeholder
(the part after the text cursor, whose blink would otherwise split it). That is
everything a user waits for: reading the key, the handler, the re-sort, the redraw, the write.

The same keys are timed on the same command watching a program with 100 tasks, in the same
run, so the ratio says what the 100,000 tasks cost.

    flock /work/wt/bench.lock python -m bench.key_latency [--rounds N] [--tasks N] [--big-only]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import pty
import re
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

from loopscope.widgets.watch_columns import COLUMNS, DESCENDING, SORT_ORDER

ROUNDS = 8
STREAM_TIMEOUT = 240.0
"""How long the agent may take to stream every task's row to the screen (about 20 s here: it
paces itself to 3% of a core while the program works, up to half while the program idles)."""
TARGET_MS = 100.0
SIZE = (160, 50)

PROGRAM = """
import asyncio, random, sys

COUNT = int(sys.argv[1])


async def parked(gate):
    await gate.wait()                     # most tasks wait, like idle connections


async def busy(n):
    while True:                           # a few keep the stream of changes going
        await asyncio.sleep(random.uniform(0.1, 1.0))


async def main():
    gate = asyncio.Event()
    tasks = [asyncio.create_task(busy(n), name=f"busy-{n}") for n in range(min(COUNT, 200))]
    for start in range(len(tasks), COUNT, 2_000):
        tasks += [asyncio.create_task(parked(gate), name=f"parked-{n}")
                  for n in range(start, min(COUNT, start + 2_000))]
        await asyncio.sleep(0.01)
    await asyncio.gather(*tasks)          # until loopscope stops it


asyncio.run(main())
"""


class Terminal:
    """``loopscope watch`` in a pseudo-terminal, with what it writes timestamped."""

    def __init__(self, argv: list[str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.chunks: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            with self._arrived:
                if not data:
                    self.chunks.append((time.perf_counter(), b""))
                    self._arrived.notify_all()
                    return
                self.chunks.append((time.perf_counter(), data))
                self._arrived.notify_all()

    def mark(self) -> int:
        with self._lock:
            return len(self.chunks)

    def wait_for(self, pattern: bytes, since: int, timeout: float) -> tuple[float, re.Match[bytes]]:
        """When the bytes written since chunk ``since`` first matched ``pattern``."""
        deadline = time.perf_counter() + timeout
        regex = re.compile(pattern)
        with self._arrived:
            seen = since
            text = b""
            while True:
                while seen < len(self.chunks):
                    at, data = self.chunks[seen]
                    seen += 1
                    if not data:
                        raise RuntimeError("loopscope watch exited")
                    text += data
                    found = regex.search(text)
                    if found:
                        return at, found
                    text = text[-4096:]
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError(f"the screen never showed {pattern!r}")
                self._arrived.wait(left)

    def press(self, key: bytes, shows: bytes, timeout: float = 10.0) -> float:
        """Write ``key``; milliseconds until the screen shows ``shows``."""
        since = self.mark()
        start = time.perf_counter()
        os.write(self.master, key)
        at, _ = self.wait_for(re.escape(shows), since, timeout)
        return (at - start) * 1000

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.master, b"q")
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)


def measure(program: Path, count: int, rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Key-to-screen times in ms per key, once the screen shows at least ``count`` tasks."""
    terminal = Terminal([sys.executable, "-m", "loopscope", "watch", str(program), str(count)])
    times: dict[str, list[float]] = {"?  help": [], "s  sort": [], "/  filter": []}
    try:
        started = time.perf_counter()
        since = 0
        while True:  # until the title counts every task (it reads "Tasks 100,000")
            _, found = terminal.wait_for(rb"Tasks ([\d,]+)", since, timeout=STREAM_TIMEOUT)
            since = terminal.mark()
            if int(found.group(1).replace(b",", b"")) >= count:
                break
        times["streamed"] = [time.perf_counter() - started]
        time.sleep(1.0)
        order = list(SORT_ORDER)
        sort_at = 0
        for _ in range(rounds):
            times["?  help"].append(terminal.press(b"?", b"loopscope watch: keys"))
            time.sleep(0.3)
            terminal.press(b"\x1b", b"sorted by")  # back on the watch screen
            time.sleep(0.3)
            sort_at = (sort_at + 1) % len(order)
            key = order[sort_at]
            arrow = "▼" if key in DESCENDING else "▲"  # its natural order
            shows = f"sorted by {COLUMNS[key].title} {arrow}".encode()
            took = terminal.press(b"s", shows)
            times["s  sort"].append(took)
            times.setdefault(f"sort by {key}", []).append(took)
            time.sleep(0.3)
            times["/  filter"].append(terminal.press(b"/", b"coroutine, state or file:line"))
            time.sleep(0.3)
            os.write(terminal.master, b"\x1b")
            time.sleep(0.3)
    finally:
        terminal.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Key to screen in the real `loopscope watch`.")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="presses per key")
    parser.add_argument("--tasks", type=int, default=100_000, help="the big program's tasks")
    parser.add_argument("--big-only", action="store_true",
                        help="skip the 100-task side (no ratios)")
    options = parser.parse_args(argv)
    count = options.tasks
    with tempfile.TemporaryDirectory() as scratch:
        program = Path(scratch) / "many_tasks.py"
        program.write_text(PROGRAM)
        small = None if options.big_only else measure(program, 100, options.rounds)
        big = measure(program, count, options.rounds)
    print(f"watch screen, key to screen in a {SIZE[0]}x{SIZE[1]} terminal, {options.rounds} "
          "presses per key while the program runs (ms):")
    if small is None:
        report_big_only(big, count)
        return 0
    print(f"  {'':10} {'100 tasks':>22} {f'{count:,} tasks':>22} {'ratio':>7}")
    worst = 0.0
    for key in small:
        if key == "streamed" or key.startswith("sort by"):
            continue
        a, b = small[key], big[key]
        worst = max(worst, max(b))
        print(f"  {key:10} p50 {statistics.median(a):6.1f} max {max(a):6.1f}   "
              f"p50 {statistics.median(b):6.1f} max {max(b):6.1f} "
              f"{statistics.median(b) / statistics.median(a):6.2f}x")
    print(f"  (every row on the screen {small['streamed'][0]:.1f} s and "
          f"{big['streamed'][0]:.1f} s after the start: the agent's stream paces itself)")
    report_tail(big, count, worst)
    return 0


def report_big_only(big: dict[str, list[float]], count: int) -> None:
    print(f"  {'':10} {f'{count:,} tasks':>22}")
    worst = 0.0
    for key, times in big.items():
        if key == "streamed" or key.startswith("sort by"):
            continue
        worst = max(worst, max(times))
        print(f"  {key:10} p50 {statistics.median(times):6.1f} max {max(times):6.1f}")
    print(f"  (every row on the screen {big['streamed'][0]:.1f} s after the start)")
    report_tail(big, count, worst)


def report_tail(big: dict[str, list[float]], count: int, worst: float) -> None:
    by_column = {k[len("sort by "):]: max(v) for k, v in big.items() if k.startswith("sort by")}
    print(f"  s at {count:,} tasks, per column (ms): " + ", ".join(
        f"{column} {ms:.0f}" for column, ms in by_column.items()))
    verdict = "met" if worst <= TARGET_MS else "NOT met"
    print(f"  target: every key answered within {TARGET_MS:.0f} ms at {count:,} tasks: {verdict} "
          f"(worst {worst:.0f} ms)")


if __name__ == "__main__":
    sys.exit(main())
