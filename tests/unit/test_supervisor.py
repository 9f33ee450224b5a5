"""The watched program's supervisor: output through pipes, bounded; exit status; stopping
with SIGINT → SIGTERM → SIGKILL to the whole process group, nothing left behind.

Each test runs a small real child program; waits are on conditions, never on the clock.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import psutil

from loopscope.tasks.watch.output import ProgramOutput
from loopscope.tasks.watch.supervisor import ProgramState, ProgramSupervisor, python_command


async def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


def script(tmp_path: Path, body: str, name: str = "prog.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def texts(output: ProgramOutput, stream: str | None = None) -> list[str]:
    return [line.text for line in output.lines if stream is None or line.stream == stream]


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_output_from_both_pipes_and_the_exit_status(tmp_path: Path) -> None:
    path = script(tmp_path, """
        import sys
        print("hello from stdout")
        print("trouble on stderr", file=sys.stderr)
        sys.stdout.write("no newline at the end")
        sys.exit(3)
    """)
    program = ProgramSupervisor(python_command([path]))
    assert await program.start()
    status = await program.wait()
    await program.stop()
    assert status is not None
    assert status.returncode == 3
    assert not status.ok
    assert status.describe() == "exited with status 3"
    assert program.state is ProgramState.EXITED
    assert texts(program.output, "stdout") == ["hello from stdout", "no newline at the end"]
    assert texts(program.output, "stderr") == ["trouble on stderr"]
    assert texts(program.output, "loopscope")[-1] == "the program exited with status 3"


async def test_megabytes_of_output_keep_memory_bounded(tmp_path: Path) -> None:
    path = script(tmp_path, """
        import sys
        line = "x" * 99 + "\\n"
        for _ in range(200_000):          # 20 MB of lines
            sys.stdout.write(line)
        sys.stdout.write("y" * 50_000)     # one huge line with no end
        sys.stdout.write("\\nlast line\\n")
    """)
    output = ProgramOutput(max_lines=1_000, max_line_chars=500)
    program = ProgramSupervisor(python_command([path]), output=output)
    assert await program.start()
    await program.wait()
    await program.stop()
    assert output.total_bytes == 200_000 * 100 + 50_000 + len("\nlast line\n")
    assert len(output.lines) == 1_000
    assert output.dropped_lines == output.total_lines - 1_000 > 199_000
    assert max(len(line.text) for line in output.lines) < 600
    assert texts(output, "stdout")[-1] == "last line"


async def test_sigint_lets_the_program_clean_up(tmp_path: Path) -> None:
    path = script(tmp_path, """
        import time
        try:
            # inside the try: a ctrl-c that lands while print returns is still caught (it
            # was outside, and a busy machine interrupted the program there, uncleaned)
            print("ready", flush=True)
            while True:
                time.sleep(0.01)
        except KeyboardInterrupt:
            print("cleaned up after ctrl-c")
    """)
    program = ProgramSupervisor(python_command([path]), grace_s=10)
    assert await program.start()
    await wait_for(lambda: "ready" in texts(program.output))
    status = await program.stop()
    assert status is not None
    assert status.ok
    assert status.stopped_by_us == "SIGINT"
    assert "cleaned up after ctrl-c" in texts(program.output)


async def test_a_program_that_ignores_signals_is_killed_with_its_children(
    tmp_path: Path,
) -> None:
    path = script(tmp_path, """
        import signal, subprocess, sys, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
        print(f"child {child.pid}", flush=True)
        while True:
            time.sleep(0.01)
    """)
    program = ProgramSupervisor(python_command([path]), grace_s=0.2)
    assert await program.start()
    await wait_for(lambda: any(t.startswith("child ") for t in texts(program.output)))
    child_pid = int(next(t for t in texts(program.output) if t.startswith("child "))[6:])
    assert not gone(child_pid)
    status = await program.stop()
    assert status is not None
    assert status.signal_name == "SIGKILL"
    assert status.describe() == "killed by SIGKILL (stopped by loopscope with SIGKILL)"
    assert program.pid is not None
    assert gone(program.pid)
    await wait_for(lambda: gone(child_pid))


async def test_children_left_after_the_program_exits_are_stopped_too(tmp_path: Path) -> None:
    path = script(tmp_path, """
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"child {child.pid}", flush=True)
    """)
    program = ProgramSupervisor(python_command([path]), grace_s=0.2)
    assert await program.start()
    status = await program.wait()
    assert status is not None
    assert status.ok
    child_pid = int(next(t for t in texts(program.output) if t.startswith("child "))[6:])
    assert not gone(child_pid)
    await program.stop()
    await wait_for(lambda: gone(child_pid))


async def test_a_command_that_cannot_start_says_why(tmp_path: Path) -> None:
    program = ProgramSupervisor([str(tmp_path / "no-such-program")])
    assert not await program.start()
    assert program.state is ProgramState.FAILED_TO_START
    assert program.start_error is not None
    assert "No such file" in program.start_error
    assert await program.stop() is None


async def test_stdin_is_closed_so_a_program_reading_it_does_not_hang(tmp_path: Path) -> None:
    path = script(tmp_path, """
        import sys
        print(repr(sys.stdin.read()))
    """)
    program = ProgramSupervisor(python_command([path]))
    await program.start()
    await program.wait()
    await program.stop()
    assert texts(program.output, "stdout") == ["''"]


def test_utf8_split_across_reads_is_decoded_whole() -> None:
    output = ProgramOutput()
    data = "température: 21 °C\n".encode()
    cut = data.index("é".encode()) + 1
    output.feed("stdout", data[:cut])
    output.feed("stdout", data[cut:])
    assert [line.text for line in output.lines] == ["température: 21 °C"]


def test_interpreter_is_this_one() -> None:
    assert python_command(["x.py", "-v"])[0] == sys.executable
    assert python_command(["pkg.mod"], module=True)[1:] == ["-m", "pkg.mod"]


async def test_a_second_stop_waits_for_the_first_instead_of_killing(tmp_path: Path) -> None:
    path = script(tmp_path, """
        import time
        try:
            print("ready", flush=True)  # inside the try, as above
            while True:
                time.sleep(0.01)
        except KeyboardInterrupt:
            time.sleep(0.2)   # a clean-up that takes a moment
            print("cleaned up", flush=True)
    """)
    program = ProgramSupervisor(python_command([path]), grace_s=10)
    assert await program.start()
    await wait_for(lambda: "ready" in texts(program.output))
    first, second = await asyncio.gather(program.stop(), program.stop())
    assert first is second
    assert first is not None
    assert first.ok
    assert first.stopped_by_us == "SIGINT"  # not SIGKILL from the second call
    assert "cleaned up" in texts(program.output)
