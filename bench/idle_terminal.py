"""The idle dashboard's CPU in a real terminal: ``loopscope`` in a 160x50 tmux pane.

tui_bench measures the idle cost headless (``run_test``: no terminal writes); this measures the
real process as a user runs it, with its CPU time read from ``/proc/<pid>/stat`` (every thread:
the screen, the lag probe's watchdog, the psutil sampler) over ``--seconds``, first with no
tasks, then after ``sleep 0 x100000`` has finished (100,000 finished tasks kept).

    flock /work/wt/bench.lock .venv/bin/python -m bench.idle_terminal [--seconds 20]

Each window starts ``--settle`` seconds after the screen went quiet. It needs tmux.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

TICKS = os.sysconf("SC_CLK_TCK")
SESSION = f"loopscope-idle-{os.getpid()}"


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, all threads (``/proc/<pid>/stat`` fields 14 and 15)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def pane_text() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def loopscope_pid() -> int:
    """The dashboard's process: the pane's own, or its child if a shell started it."""
    pane = int(tmux("list-panes", "-t", SESSION, "-F", "#{pane_pid}").split()[0])
    process = psutil.Process(pane)
    for candidate in [process, *process.children(recursive=True)]:
        if "loopscope" in " ".join(candidate.cmdline()):
            return candidate.pid
    return pane


def wait_for(text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in pane_text():
        if time.monotonic() > deadline:
            raise SystemExit(f"the pane never showed {text!r}:\n{pane_text()}")
        time.sleep(0.2)


def idle_share(pid: int, seconds: float) -> float:
    cpu, wall = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each measured window")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="wait this long before each window")
    parser.add_argument("--history", type=int, default=100_000,
                        help="finished tasks for the second window (0: skip it)")
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        print("tmux is not installed", file=sys.stderr)
        return 1
    binary = Path(sys.executable).parent / "loopscope"
    tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "50", str(binary))
    try:
        wait_for("Process & loop", 30)
        pid = loopscope_pid()
        time.sleep(args.settle)
        empty = idle_share(pid, args.seconds)
        print(f"  idle, no tasks           {empty * 100:5.2f}% of one core  "
              f"(tmux 160x50, /proc/{pid}/stat over {args.seconds:g} s)", flush=True)
        if args.history:
            tmux("send-keys", "-t", SESSION, ":")
            wait_for("spec, e.g.", 10)  # the command bar is open
            tmux("send-keys", "-t", SESSION, "-l", f"sleep 0 x{args.history}")
            tmux("send-keys", "-t", SESSION, "Enter", "Escape")
            wait_for(f"done {args.history:,}", 120)
            time.sleep(args.settle)
            kept = idle_share(pid, args.seconds)
            print(f"  idle, {args.history:,} finished {kept * 100:5.2f}% of one core", flush=True)
        tmux("send-keys", "-t", SESSION, "q")
        time.sleep(1)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
