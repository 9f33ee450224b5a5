"""``loopscope watch --json`` end to end: each example, and programs that misbehave.

Each test runs the real command in a child process (the program under the agent in a
grandchild) and checks what a user reads in the report: task names, parents, states, the
busy time and line of a blocking step, where a stuck task waits, failures, exit statuses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def watch(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
          timeout: float = 120) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    run = subprocess.run(
        [sys.executable, "-m", "loopscope", "watch", "--json", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
    )
    assert run.stdout.startswith("{"), run.stderr[-2000:]
    return json.loads(run.stdout), run


def line_of(path: Path, marker: str) -> int:
    """The line of ``path`` holding ``marker`` (tests find lines, so examples can change)."""
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if marker in text:
            return number
    raise AssertionError(f"{marker!r} not in {path}")


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["name"]: task for task in report["tasks"]}


def program(tmp_path: Path, source: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


# -- the examples ---------------------------------------------------------------------------


def test_sensors_five_children_of_main_each_polled_three_times() -> None:
    report, run = watch("examples/sensors.py")
    assert run.returncode == 0
    tasks = by_name(report)
    # the task that runs main(): uvloop.run wraps it in a coroutine of its own
    main = next(task for task in report["tasks"]
                if task["coro"] in ("main", "run.<locals>.wrapper"))
    assert main["parent"] is None
    sensors = [tasks[f"sensor-{n}"] for n in range(1, 6)]
    for sensor in sensors:
        assert sensor["parent"] == main["id"]
        assert sensor["coro"] == "poll"
        assert sensor["state"] == "done"
        assert sensor["steps"] == 4  # first step, then one wake-up per reading
        assert sensor["result"].startswith("<list of 3>")
        assert sensor["created_at"]["line"] == line_of(EXAMPLES / "sensors.py", "create_task")
    assert "sensor-1: [" in run.stderr  # the program's own output, on stderr
    assert report["program"]["exit_code"] == 0


def test_crawler_workers_wait_on_the_queue_and_are_cancelled_at_the_end() -> None:
    report, run = watch("examples/crawler.py")
    assert run.returncode == 0, run.stderr[-2000:]
    tasks = by_name(report)
    # the task that runs main(): uvloop.run wraps it in a coroutine of its own
    main = next(task for task in report["tasks"]
                if task["coro"] in ("main", "run.<locals>.wrapper"))
    assert main["parent"] is None
    workers = [tasks[f"worker-{n}"] for n in range(1, 5)]
    for worker in workers:
        assert worker["parent"] == main["id"]
        assert worker["state"] == "cancelled"
        assert worker["steps"] > 1
    # Idle workers were seen parked in Queue.get, called from the worker's own line.
    queue_line = line_of(EXAMPLES / "crawler.py", "await queue.get()")
    parked = [w for w in workers if w["where"] and w["where"]["line"] == queue_line]
    assert parked, [w["await_chain"] for w in workers]
    assert any(frame["function"] == "Queue.get" and frame["library"]
               for frame in parked[0]["await_chain"])
    # The server's request handlers are tasks too, children of the connection's handler.
    handlers = [t for t in report["tasks"] if t["coro"] == "RequestHandler._handle_request"]
    assert handlers
    assert all(t["parent"] is not None for t in handlers)
    assert "crawled 40 pages" in run.stderr


def test_taskgroup_failure_is_an_exception_row_and_siblings_are_cancelled() -> None:
    report, run = watch("examples/taskgroup_fail.py")
    assert run.returncode == 0
    tasks = by_name(report)
    download = tasks["download"]
    assert download["state"] == "exception"
    assert download["error"]["type"] == "ValueError"
    assert download["error"]["message"] == "checksum mismatch"
    raise_line = line_of(EXAMPLES / "taskgroup_fail.py", 'raise ValueError("checksum')
    assert f'taskgroup_fail.py", line {raise_line}, in download' in download["error"]["traceback"]
    assert tasks["resize"]["state"] == tasks["upload"]["state"] == "cancelled"
    # the task that runs main(): uvloop.run wraps it in a coroutine of its own
    main = next(task for task in report["tasks"]
                if task["coro"] in ("main", "run.<locals>.wrapper"))
    assert main["parent"] is None
    assert {tasks[n]["parent"] for n in ("resize", "download", "upload")} == {main["id"]}
    assert report["counts"]["finished"]["exception"] == 1


def test_blocking_step_is_timed_and_blamed_on_its_line() -> None:
    report, run = watch("examples/blocking.py")
    assert run.returncode == 0
    blocker = by_name(report)["report"]
    sleep_line = line_of(EXAMPLES / "blocking.py", "# BLOCKS")
    assert blocker["busy_s"] >= 0.29
    assert blocker["longest_step_s"] >= 0.29
    assert blocker["blocked_at"]["line"] == sleep_line
    assert blocker["longest_step_line"]["line"] == sleep_line + 1  # where the step ran to
    assert by_name(report)["ticker"]["busy_s"] < 0.1
    [warning] = [w for w in report["warnings"] if w["kind"] == "slow-step"]
    assert warning["task"] == blocker["id"]
    # the one duration format of the screen (human_seconds), not "300 ms" beside "0.300 s"
    assert re.fullmatch(r"a step held the loop for 0\.\d{3} s", warning["message"])
    assert warning["line"]["line"] == sleep_line
    spikes = [s for s in report["spikes"] if s["task"] == blocker["id"]]
    assert spikes
    assert spikes[0]["lag_ms"] >= 100
    assert spikes[0]["line"]["line"] == sleep_line
    assert spikes[0]["task_name"] == "report"


def test_stuck_consumer_is_seen_waiting_on_the_event_line() -> None:
    report, run = watch("examples/stuck_event.py", env={"LOOPSCOPE_STUCK_S": "0.5"})
    assert run.returncode == 0
    consumer = by_name(report)["consumer"]
    wait_line = line_of(EXAMPLES / "stuck_event.py", "# STUCK")
    assert consumer["state"] == "cancelled"
    assert consumer["where"] == {
        "function": "consumer", "file": "examples/stuck_event.py", "line": wait_line,
        "library": False,
    }
    assert consumer["await_chain"][-1]["function"] == "Event.wait"
    assert consumer["busy_s"] < 0.05
    [stuck] = [w for w in report["warnings"]
               if w["kind"] == "stuck" and w["task"] == consumer["id"]]
    assert stuck["task"] == consumer["id"]
    assert stuck["line"]["line"] == wait_line
    assert re.match(r"suspended for \d+\.\d{3} s at ", stuck["message"])  # as on screen


def test_a_module_runs_with_dash_m(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent("""
        import asyncio, sys
        async def main():
            await asyncio.create_task(asyncio.sleep(0.01), name="nap")
            print("args", sys.argv[1:], __name__)
        asyncio.run(main())
    """))
    report, run = watch("-m", "pkg", "a", "b", cwd=tmp_path)
    assert run.returncode == 0
    assert "args ['a', 'b'] __main__" in run.stderr
    assert by_name(report)["nap"]["state"] == "done"


# -- programs that misbehave ----------------------------------------------------------------


def test_a_program_that_raises_at_import(tmp_path: Path) -> None:
    path = program(tmp_path, "import asyncio\nimport no_such_module_here\n")
    report, run = watch(str(path))
    assert run.returncode == 1
    assert report["program"]["exit_code"] == 1
    assert report["program"]["error"].startswith("ModuleNotFoundError")
    assert report["tasks"] == []
    assert any("No module named 'no_such_module_here'" in line
               for line in report["output"]["tail"])
    assert "loopscope" not in "".join(report["output"]["tail"][:3])  # the program's traceback


def test_a_program_that_exits_non_zero(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, sys
        async def main():
            await asyncio.sleep(0.01)
            sys.exit(3)
        asyncio.run(main())
    """)
    report, run = watch(str(path))
    assert run.returncode == 3
    assert report["program"]["exit_code"] == 3
    assert report["program"]["stopped_by"] is None


def test_a_program_that_never_exits_is_stopped_by_the_timeout(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio
        async def forever():
            await asyncio.Event().wait()  # FOREVER
        async def main():
            await asyncio.create_task(forever(), name="forever")
        asyncio.run(main())
    """)
    # --grace 10: on a busy machine the program's own shutdown can take over a second
    report, run = watch("--timeout", "3", "--grace", "10", str(path))
    assert run.returncode == 124
    assert report["program"]["stopped_by"] == "timeout"
    assert report["program"]["exit_code"] == 130  # SIGINT was enough: KeyboardInterrupt
    forever = by_name(report)["forever"]
    assert forever["where"]["line"] == line_of(path, "# FOREVER")


def test_a_program_that_blocks_its_loop_for_long(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, time
        async def hog():
            await asyncio.sleep(0)
            time.sleep(2)  # HOG
        async def main():
            await asyncio.create_task(hog(), name="hog")
        asyncio.run(main())
    """)
    report, _ = watch(str(path))
    hog = by_name(report)["hog"]
    assert hog["busy_s"] >= 1.9
    assert hog["blocked_at"]["line"] == line_of(path, "# HOG")
    assert [w["task"] for w in report["warnings"] if w["kind"] == "slow-step"] == [hog["id"]]


def test_loops_in_several_threads_are_told_apart(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, threading
        async def work(tag):
            await asyncio.gather(*(asyncio.sleep(0.05) for _ in range(3)))
            await asyncio.create_task(asyncio.sleep(0.01), name=f"inner-{tag}")
        def in_thread(tag):
            asyncio.run(work(tag))
        threads = [threading.Thread(target=in_thread, args=(n,), name=f"loop-{n}")
                   for n in range(3)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        asyncio.run(work("main"))
    """)
    report, run = watch(str(path))
    assert run.returncode == 0
    tasks = by_name(report)
    loops = {tasks[f"inner-{tag}"]["loop"] for tag in (0, 1, 2, "main")}
    assert len(loops) == 4
    threads = {loop["thread"] for loop in report["loops"]}
    assert {"loop-0", "loop-1", "loop-2", "MainThread"} <= threads


def test_a_program_that_starts_child_processes(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, multiprocessing, sys
        def square(x):
            return x * x
        async def main():
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", "print('child says hi')")
            await proc.wait()
            loop = asyncio.get_running_loop()
            with multiprocessing.get_context("fork").Pool(2) as pool:
                squares = await loop.run_in_executor(None, pool.map, square, range(5))
            print("squares", squares)
        if __name__ == "__main__":
            asyncio.run(main())
    """)
    report, run = watch(str(path))
    assert run.returncode == 0, run.stderr[-2000:]
    assert "child says hi" in run.stderr
    assert "squares [0, 1, 4, 9, 16]" in run.stderr
    [job] = report["jobs"]
    assert job["function"] == "Pool.map"
    assert job["state"] == "done"
    # the task that runs main(): uvloop.run wraps it in a coroutine of its own
    main = next(task for task in report["tasks"]
                if task["coro"] in ("main", "run.<locals>.wrapper"))
    assert main["parent"] is None
    assert job["task"] == main["id"]
    assert main["state"] == "done"


def test_a_program_that_prints_megabytes(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, sys
        async def shout():
            for _ in range(80):
                sys.stdout.write("x" * 65535 + "\\n")
                await asyncio.sleep(0)
        asyncio.run(shout())
        print("the end")
    """)
    report, run = watch(str(path))
    assert run.returncode == 0
    assert report["output"]["bytes"] >= 80 * 65536
    assert report["output"]["tail"][-1] == "the end"
    assert by_name(report)["Task-1"]["steps"] == 81


def test_warnings_for_an_exception_never_retrieved_and_a_task_destroyed_pending(
    tmp_path: Path,
) -> None:
    path = program(tmp_path, """
        import asyncio, gc
        async def fails():
            raise KeyError("lost")
        async def forever():
            await asyncio.get_running_loop().create_future()
        async def main():
            task = asyncio.create_task(fails(), name="fails")
            await asyncio.sleep(0.01)
            del task
            asyncio.create_task(forever(), name="forgotten")
            await asyncio.sleep(0.01)
            gc.collect()
            await asyncio.sleep(0.01)
        asyncio.run(main())
    """)
    report, _ = watch(str(path))
    kinds = {w["kind"]: w for w in report["warnings"]}
    assert "KeyError" in kinds["never-retrieved"]["message"]
    assert kinds["never-retrieved"]["task"] == by_name(report)["fails"]["id"]
    assert kinds["destroyed-pending"]["task"] == by_name(report)["forgotten"]["id"]


def test_a_missing_script_is_one_line() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "loopscope", "watch", "--json", "no/such/script.py"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert run.returncode == 2
    assert run.stderr.strip() == "loopscope: watch: no such file: no/such/script.py"


def test_a_grace_that_is_not_positive_is_one_line(tmp_path: Path) -> None:
    path = program(tmp_path, "print('never run')")
    run = subprocess.run(
        [sys.executable, "-m", "loopscope", "watch", "--json", "--grace", "0", str(path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert run.returncode == 2
    assert run.stderr.strip() == "loopscope: watch: --grace must be more than 0"
    assert "never run" not in run.stdout + run.stderr


UVLOOP_PROGRAM = """
    import asyncio, sys, time, uvloop

    async def child(n):
        await asyncio.sleep(0.01 * n)
        if n == 2:
            raise ValueError("child two failed")
        return n * 10

    async def blocker():
        time.sleep(0.3)                                  # holds the loop
        await asyncio.sleep(0)

    async def main():
        gate = asyncio.Event()
        waiter = asyncio.create_task(gate.wait(), name="waiter")
        kids = [asyncio.create_task(child(n), name=f"child-{n}") for n in range(4)]
        await asyncio.gather(*kids, return_exceptions=True)
        await asyncio.create_task(blocker(), name="blocker")
        await asyncio.sleep(0.2)
        waiter.cancel()
        print("uvloop ran")

    if sys.argv[1:] == ["install"]:
        uvloop.install()
        asyncio.run(main())
    elif sys.argv[1:] in (["new_event_loop"], ["task_factory"]):
        loop = uvloop.new_event_loop()
        if sys.argv[1:] == ["task_factory"]:             # the program's own factory
            loop.set_task_factory(lambda loop, coro, **kw: asyncio.Task(coro, loop=loop, **kw))
        loop.run_until_complete(main())
        loop.close()
    else:
        uvloop.run(main())
"""


@pytest.mark.parametrize("way", ["run", "install", "new_event_loop", "task_factory"])
def test_uvloop_programs_get_task_rows_with_step_timing(tmp_path: Path, way: str) -> None:
    pytest.importorskip("uvloop")
    path = program(tmp_path, UVLOOP_PROGRAM)
    report, run = watch(str(path), way)
    assert run.returncode == 0
    assert "uvloop ran" in run.stderr
    tasks = by_name(report)
    # the task that runs main(): uvloop.run wraps it in a coroutine of its own
    main = next(task for task in report["tasks"]
                if task["coro"] in ("main", "run.<locals>.wrapper"))
    assert main["parent"] is None
    for n in range(4):
        child = tasks[f"child-{n}"]
        assert child["parent"] == main["id"]
        assert child["coro"] == "child"
        assert child["created_at"]["line"] == line_of(path, "kids = [")
        assert child["steps"] >= 2
    assert tasks["child-1"]["state"] == "done"
    assert tasks["child-1"]["result"] == "10"
    assert tasks["child-2"]["state"] == "exception"
    assert tasks["child-2"]["error"]["message"] == "child two failed"
    waiter = tasks["waiter"]
    assert waiter["state"] == "cancelled"
    assert [frame["function"] for frame in waiter["await_chain"]] == ["Event.wait"]
    blocker = tasks["blocker"]
    assert 0.25 <= blocker["busy_s"] < 1.0
    assert blocker["longest_step_s"] >= 0.25
    blocked_line = line_of(path, "holds the loop")
    assert any(spike["task"] == blocker["id"] and spike["line"]["line"] == blocked_line
               for spike in report["spikes"])
    assert report["lag"]["samples"] > 0


def test_the_report_has_the_shape_the_readme_documents() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### The headless report"):]
    start = section.index("```json") + len("```json")
    sample = json.loads(section[start : section.index("\n```", start)])
    report, _ = watch("examples/blocking.py")

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items()
                    if key not in ("finished", "by_state", "dropped")}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return None

    # blocking.py runs no executor job; its tasks are compared one by one below.
    assert shape(sample) == shape({**report, "jobs": sample["jobs"], "tasks": sample["tasks"]})
    assert shape(sample["tasks"][0]) == shape(by_name(report)["report"])
