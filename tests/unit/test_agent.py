"""The agent inside a program: every way of making a loop, install() and attach, cancel from
the viewer, bounded memory, a viewer that does not read."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loopscope.tasks.agent.recorder import PURE_PYTHON_ENV
from loopscope.tasks.agent.store import WatchState
from loopscope.tasks.agent.viewer import AgentListener, connect
from tests.unit.agent_paths import PATHS, pure_python_env

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, source: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def line_of(path: Path, marker: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if marker in text)


def watch_json(path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-m", "loopscope", "watch", "--json", str(path)],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )
    assert run.stdout.startswith("{"), run.stderr[-2000:]
    report: dict[str, Any] = json.loads(run.stdout)
    return report


@pytest.fixture(autouse=True, params=PATHS)
def agent_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Every test here runs twice: programs watched through the C hot path, then through the
    pure-Python hooks (the fallback without a compiler); both must record the same."""
    accelerated: bool = request.param
    for name, value in pure_python_env(accelerated).items():
        monkeypatch.setenv(name, value)
    if accelerated:
        monkeypatch.delenv(PURE_PYTHON_ENV, raising=False)
    return accelerated


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Poll a condition (never a fixed sleep): fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_every_way_of_making_a_loop_is_watched(tmp_path: Path) -> None:
    path = write(tmp_path, """
        import asyncio
        async def child(tag):
            await asyncio.sleep(0.01)
            return tag
        async def main(tag):
            return await asyncio.create_task(child(tag), name=f"child-{tag}")  # CHILD
        asyncio.run(main("run"))
        loop = asyncio.new_event_loop()
        loop.run_until_complete(main("until"))
        loop.close()
        with asyncio.Runner() as runner:
            runner.run(main("runner"))
    """)
    report = watch_json(path)
    tasks = {task["name"]: task for task in report["tasks"]}
    ids = {task["id"]: task for task in report["tasks"]}
    for tag in ("run", "until", "runner"):
        child = tasks[f"child-{tag}"]
        assert child["result"] == repr(tag)
        assert ids[child["parent"]]["coro"] == "main"
        assert child["created_at"]["line"] == line_of(path, "# CHILD")
    assert len({tasks[f"child-{tag}"]["loop"] for tag in ("run", "until", "runner")}) == 3


def test_tasks_made_without_create_task_and_by_a_task_factory_are_seen(tmp_path: Path) -> None:
    path = write(tmp_path, """
        import asyncio
        class MyTask(asyncio.Task):
            pass
        async def job():
            await asyncio.sleep(0)
            return 7
        async def main():
            loop = asyncio.get_running_loop()
            loop.set_task_factory(lambda loop, coro, **kw: MyTask(coro, loop=loop, **kw))
            factory_made = asyncio.create_task(job(), name="factory-made")
            loop.set_task_factory(None)
            direct = asyncio.Task(job(), name="direct")
            print(await factory_made, await direct)
        asyncio.run(main())
    """)
    report = watch_json(path)
    tasks = {task["name"]: task for task in report["tasks"]}
    assert tasks["factory-made"]["state"] == tasks["direct"]["state"] == "done"
    assert tasks["factory-made"]["result"] == "7"
    assert tasks["factory-made"]["steps"] == tasks["direct"]["steps"] == 2
    assert tasks["direct"]["created_at"] is None  # not made through create_task
    assert report["program"]["exit_code"] == 0


def test_finished_tasks_are_kept_up_to_a_limit_and_the_rest_counted(tmp_path: Path) -> None:
    path = write(tmp_path, """
        import asyncio
        async def tiny():
            await asyncio.sleep(0)
        async def main():
            for _ in range(5):
                await asyncio.gather(*(tiny() for _ in range(1000)))
        asyncio.run(main())
    """)
    report = watch_json(path, env={"LOOPSCOPE_KEEP_FINISHED": "300"})
    assert report["counts"]["created"] == 5003  # the tasks, main, and asyncio.run's own two
    assert report["counts"]["kept"] == 300
    assert report["counts"]["dropped"]["finished_tasks"] == 5003 - 300
    assert report["counts"]["finished"]["done"] == 5003


@pytest.fixture
def server_program(tmp_path: Path) -> Path:
    return write(tmp_path, """
        import asyncio, sys
        import loopscope.agent
        loopscope.agent.install()
        async def sleeper():
            try:
                await asyncio.sleep(3600)  # SLEEPS
            except asyncio.CancelledError:
                print("sleeper cancelled", flush=True)
                raise
        async def main():
            task = asyncio.create_task(sleeper(), name="sleeper")
            print("ready", flush=True)
            await asyncio.gather(task, return_exceptions=True)
        asyncio.run(main())
    """)


def start_listening(program: Path, address: str,
                    extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "LOOPSCOPE_AGENT": f"listen:{address}", **(extra_env or {})}
    return subprocess.Popen(
        [sys.executable, str(program)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env,
    )


def attach(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loopscope", "attach", "--json", *args],
        capture_output=True, text=True, timeout=60,
    )


def test_attach_to_a_program_that_installed_the_agent_on_a_unix_socket(
    server_program: Path, tmp_path: Path,
) -> None:
    sock = tmp_path / "private" / "agent.sock"
    process = start_listening(server_program, f"unix:{sock}")
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        assert oct(sock.stat().st_mode & 0o777) == "0o600"
        assert oct(sock.parent.stat().st_mode & 0o777) == "0o700"
        run = attach(f"unix:{sock}")
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        sleeper = next(t for t in report["tasks"] if t["name"] == "sleeper")
        assert sleeper["state"] == "suspended"
        assert sleeper["where"]["line"] == line_of(server_program, "# SLEEPS")
        assert report["program"]["state"] == "running"
    finally:
        process.kill()
        process.communicate()


def test_attach_to_nothing_is_one_line_not_an_empty_dashboard(tmp_path: Path) -> None:
    """Trial: ``loopscope attach unix:/tmp/nope.sock`` opened the watch screen with no tasks
    and the error cut off in its status line; ``--json`` already said it in one line."""
    for address in (f"unix:{tmp_path}/nope.sock", "127.0.0.1:1"):
        run = subprocess.run([sys.executable, "-m", "loopscope", "attach", address],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 2
        assert run.stderr.startswith(f"loopscope: attach: cannot reach an agent at {address}")
        assert run.stderr.count("\n") == 1
        assert run.stdout == ""


def test_the_agent_takes_a_viewer_after_one_that_only_said_hello(
    server_program: Path, tmp_path: Path,
) -> None:
    """``attach`` checks the address with a hello and hangs up before the screen connects."""
    from loopscope.tui.watch_cli import _say_hello

    sock = tmp_path / "agent.sock"
    process = start_listening(server_program, f"unix:{sock}")
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        asyncio.run(_say_hello(f"unix:{sock}", None))
        run = attach(f"unix:{sock}")
        assert run.returncode == 0, run.stderr
        assert any(t["name"] == "sleeper" for t in json.loads(run.stdout)["tasks"])
    finally:
        process.kill()
        process.communicate()


def test_a_tcp_agent_needs_its_token(server_program: Path) -> None:
    process = start_listening(server_program, "127.0.0.1:0")
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        match = re.search(r"listening on (127\.0\.0\.1:\d+) .*--token (\S+)\)", banner)
        assert match, banner
        address, token = match.groups()
        refused = attach(address, "--token", "wrong")
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"loopscope: attach: cannot reach an agent at {address}")
        assert len(refused.stderr.strip().splitlines()) == 1
        allowed = attach(address, "--token", token)
        assert allowed.returncode == 0, allowed.stderr
        assert any(t["name"] == "sleeper" for t in json.loads(allowed.stdout)["tasks"])
    finally:
        process.kill()
        process.communicate()


def test_the_agent_refuses_a_non_loopback_address(tmp_path: Path) -> None:
    path = write(tmp_path, "print('ran anyway')\n")
    run = subprocess.run(
        [sys.executable, "-m", "loopscope.agent", "--listen", "0.0.0.0:6670", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert "0.0.0.0 is not a loopback address" in run.stderr
    assert "not watching" in run.stderr
    assert run.stdout.strip() == "ran anyway"  # the program runs, unwatched
    assert run.returncode == 0


async def test_the_viewer_cancels_a_task_in_the_watched_program(
    server_program: Path, tmp_path: Path,
) -> None:
    sock = tmp_path / "agent.sock"
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(server_program), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "LOOPSCOPE_AGENT": f"listen:unix:{sock}"},
    )
    assert process.stdout is not None
    try:
        assert (await process.stdout.readline()).strip() == b"ready"
        connection = await connect(f"unix:{sock}")
        state = WatchState()

        async def sleeper_seen() -> int:
            async for message in connection:
                state.apply(message)
                for task in state.tasks.values():
                    if task.name == "sleeper" and task.state.value == "suspended":
                        return task.id
            raise AssertionError("stream ended")

        sleeper = await asyncio.wait_for(sleeper_seen(), 30)
        await connection.cancel(sleeper)
        assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == (
            b"sleeper cancelled"
        )
        assert await asyncio.wait_for(process.wait(), 30) == 0
        async for message in connection:
            state.apply(message)
        assert state.tasks[sleeper].state.value == "cancelled"
        assert state.final
        await connection.close()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_viewer_that_does_not_read_never_blocks_the_program(tmp_path: Path) -> None:
    path = write(tmp_path, """
        import asyncio
        async def tiny(n):
            await asyncio.sleep(0)
            return "x" * 200
        async def main():
            for _ in range(10):
                await asyncio.gather(*(tiny(n) for n in range(2000)))
            print("finished", flush=True)
        asyncio.run(main())
    """)
    listener = AgentListener()
    await listener.start()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loopscope.agent", "--connect", listener.address, str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    connection = None
    try:
        connection = await asyncio.wait_for(listener.accept(), 30)
        # Read nothing until the program is over: it must finish on its own (its final flush
        # gives up after a few seconds), never wait for the viewer.
        assert await asyncio.wait_for(process.wait(), 60) == 0
        assert process.stdout is not None
        assert (await process.stdout.read()).strip() == b"finished"
        state = WatchState()
        async for message in connection:
            state.apply(message)
        # What did arrive is a clean prefix of the stream, at most cut inside its last frame.
        assert connection.error is None or "inside a frame" in connection.error
    finally:
        if connection is not None:
            await connection.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
        await listener.close()


def test_python_dash_m_loopscope_agent_usage_errors(tmp_path: Path) -> None:
    def agent(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "loopscope.agent", *args],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)

    missing = agent("nope.py")
    assert missing.returncode == 2
    assert "can't open file 'nope.py'" in missing.stderr
    nothing = agent()
    assert nothing.returncode == 2
    assert "give a script or -m module" in nothing.stderr
    path = write(tmp_path, "import sys; print(sys.argv, __name__); sys.exit(4)\n")
    plain = agent("--listen", f"unix:{tmp_path}/s.sock", str(path), "x", "--y")
    assert plain.returncode == 4
    assert plain.stdout.strip() == f"[{str(path)!r}, 'x', '--y'] __main__"


def test_the_agent_imports_only_the_standard_library() -> None:
    """It runs inside the user's program: no screen code, no aiohttp, nothing to shadow."""
    code = (
        "import sys, loopscope.agent\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual', 'rich', 'aiohttp', 'aiofiles', 'psutil'} or "
        "m.startswith(('loopscope.tui', 'loopscope.widgets', 'loopscope.tasks.manager')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_a_second_agent_does_not_steal_a_socket_in_use(server_program: Path,
                                                       tmp_path: Path) -> None:
    sock = tmp_path / "agent.sock"
    first = start_listening(server_program, f"unix:{sock}")
    try:
        assert first.stdout is not None
        assert first.stdout.readline().strip() == "ready"
        path = write(tmp_path, "print('second ran')\n", "second.py")
        second = subprocess.run(
            [sys.executable, "-m", "loopscope.agent", "--listen", f"unix:{sock}", str(path)],
            capture_output=True, text=True, timeout=60,
        )
        assert "is in use by another agent; not watching" in second.stderr
        assert second.stdout.strip() == "second ran"
        run = attach(f"unix:{sock}")  # the first agent still answers
        assert run.returncode == 0, run.stderr
    finally:
        first.kill()
        first.communicate()


async def test_a_loop_blocked_for_seconds_is_shown_blocked_while_it_is(tmp_path: Path) -> None:
    path = write(tmp_path, """
        import asyncio, time
        async def hog():
            await asyncio.sleep(0)
            time.sleep(30)  # HOG: the test stops the program before this ends
        async def main():
            await asyncio.create_task(hog(), name="hog")
        asyncio.run(main())
    """)
    listener = AgentListener()
    await listener.start()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loopscope.agent", "--connect", listener.address, str(path),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    connection = None
    try:
        connection = await asyncio.wait_for(listener.accept(), 30)
        state = WatchState()

        async def seen_blocked() -> None:
            async for message in connection:
                state.apply(message)
                for loop in state.loops.values():
                    hog = state.tasks.get(loop.step_task or -1)
                    if (hog is not None and hog.name == "hog" and loop.step_s >= 1.0
                            and loop.step_line is not None
                            and loop.step_line.line == line_of(path, "# HOG")):
                        return
            raise AssertionError("the stream ended before the block was seen")

        await asyncio.wait_for(seen_blocked(), 60)
        assert process.returncode is None  # seen live, while the loop is still held
        assert state.tasks[next(iter(state.loops.values())).step_task or -1].state.value == (
            "running"
        )
    finally:
        if connection is not None:
            await connection.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
        await listener.close()


def test_a_private_socket_leaves_no_directory_behind(tmp_path: Path) -> None:
    """``loopscope.agent.install()`` with no address listens on a socket in a private
    directory of its own; the program's exit removed the socket but left the directory,
    one per run, in the user's temporary folder."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    path = tmp_path / "opted_in.py"
    path.write_text(textwrap.dedent("""
        import asyncio
        import loopscope.agent
        agent = loopscope.agent.install(quiet=True)
        print(agent.address, flush=True)
        asyncio.run(asyncio.sleep(0))
    """))
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "TMPDIR": str(scratch)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"unix:{scratch}")  # it did use a private directory there
    assert list(scratch.iterdir()) == []


def test_the_agent_leaves_the_programs_heap_lean() -> None:
    # Every module the agent imports is objects the watched program's garbage collector walks
    # on each full collection: loopscope's version lookup (importlib.metadata, which pulls in
    # email, zipfile and csv) waits until someone asks for the version.
    check = ("import sys, loopscope.tasks.agent.runner, loopscope.tasks.agent.sender\n"
             "print(sorted(m for m in ('importlib.metadata', 'email', 'zipfile', 'csv',"
             " 'textual', 'aiohttp') if m in sys.modules))\n"
             "import loopscope\n"
             "print(loopscope.__version__ != '')\n")
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                         timeout=60, check=True)
    assert run.stdout.split("\n")[:2] == ["[]", "True"]
