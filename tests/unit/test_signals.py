"""Stopping `loopscope run` from outside: Ctrl-C, SIGTERM, SIGHUP, a stuck worker, few fds.

Each test runs loopscope in a child process, waits for a condition (workers started, a file
written), then signals it and checks that nothing survives: no worker process, no resource
tracker, no temporary folder, no traceback, no leaked-semaphore warning.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

LEFTOVER_WORDS = ("Traceback", "InvalidStateError", "leaked semaphore", "Invalid file descriptor")


def start(
    args: list[str], env: dict[str, str], preexec_fn: Callable[[], object] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loopscope", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env},
        preexec_fn=preexec_fn,
    )


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Poll ``condition`` (a safety net of ``timeout`` seconds, not a timing window)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def workers(pid: int) -> list[psutil.Process]:
    found = []
    for child in descendants(pid):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_stops_a_run_and_nothing_survives(tmp_path: Path, signum: int) -> None:
    child = start(
        ["run", "cpu 3000000000 x2; sleep 60; read", "--processes", "2"],
        {"TMPDIR": str(tmp_path)},
    )
    try:
        wait_until(lambda: len(workers(child.pid)) >= 2 and any(tmp_path.glob("loopscope-*")))
        family = descendants(child.pid)  # the workers and multiprocessing's resource tracker
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 128 + signum, err
    assert f"loopscope: stopped by {signal.Signals(signum).name}" in err
    assert not [word for word in LEFTOVER_WORDS if word in err], err
    _, alive = psutil.wait_procs(family, timeout=10)
    assert alive == []
    assert list(tmp_path.glob("loopscope-*")) == []


STUCK_KIND = '''
import asyncio, os, pathlib, time
from loopscope.tasks.kinds import KindContext, kind

@kind("stuck", help="a worker thread in a call that cannot be interrupted")
async def stuck(seconds: float = 60.0, *, ctx: KindContext) -> str:
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(ctx.thread_pool, time.sleep, seconds)
    pathlib.Path(os.environ["STUCK_MARK"]).write_text("started")
    await job
    return "unstuck"
'''


@pytest.mark.parametrize("presses", [1, 2], ids=["once", "twice"])
def test_ctrl_c_during_a_stuck_worker_quits_at_once(tmp_path: Path, presses: int) -> None:
    """The first Ctrl-C is honoured without waiting for the worker (60 s here); a second one
    during the close prints no traceback."""
    kinds = tmp_path / "stuck_kinds.py"
    kinds.write_text(STUCK_KIND)
    mark = tmp_path / "started"
    child = start(["run", "--kinds", str(kinds), "stuck"], {"STUCK_MARK": str(mark)})
    try:
        wait_until(mark.exists)
        for _ in range(presses):
            child.send_signal(signal.SIGINT)
            time.sleep(0.05)
        _, err = child.communicate(timeout=20)  # the stuck call would take 60 s
    finally:
        child.kill()
    assert child.returncode == 130, err
    assert "loopscope: interrupted" in err
    assert not [word for word in LEFTOVER_WORDS if word in err], err


def test_too_few_file_descriptors_is_one_readable_line() -> None:
    def few_fds() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))

    child = start(["run", "fetch /delay/100 x1000 timeout=3", "--json"], {}, preexec_fn=few_fds)
    try:
        _, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err[-2000:]
    assert err.splitlines() == [
        "loopscope: too many open files: raise ulimit -n or lower the connection limit"
    ]


DASHBOARD = '''
import asyncio, sys
from loopscope.tasks.options import EngineOptions
from loopscope.tui.app import make_app

async def main() -> int:
    app = make_app(options=EngineOptions(process_workers=2))
    async with app.run_test(size=(80, 24)):
        app.manager.launch("cpu 3000000000 x2; sleep 60; read")
        print("ready", flush=True)
        while app.is_running:
            await asyncio.sleep(0.05)
    return app.return_code or 0

sys.exit(asyncio.run(main()))
'''


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_quits_the_dashboard_and_nothing_survives(tmp_path: Path, signum: int) -> None:
    script = tmp_path / "dashboard.py"
    script.write_text(DASHBOARD)
    child = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    try:
        wait_until(lambda: len(workers(child.pid)) >= 2 and any(tmp_path.glob("loopscope-*")))
        family = descendants(child.pid)
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 128 + signum, err
    assert not [word for word in LEFTOVER_WORDS if word in err], err
    _, alive = psutil.wait_procs(family, timeout=10)
    assert alive == []
    assert list(tmp_path.glob("loopscope-*")) == []
