"""The watch dashboard when the program misbehaves: it keeps working and says what happened.

Each test runs a small real program under the real agent (``loopscope watch``'s own session)
and checks what the user sees: the status line, the output panel, the rows. Waits are on
conditions, never on the clock.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from loopscope.tasks.agent.model import TaskSnapshot, TaskState
from loopscope.tui.screens.watch import WatchScreen
from loopscope.tui.watch_app import make_watch_app, program_session
from loopscope.widgets.program_output import ProgramOutputView
from loopscope.widgets.watch_status import WatchStatus
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until


def program(tmp_path: Path, source: str) -> str:
    path = tmp_path / "prog.py"
    path.write_text(textwrap.dedent(source))
    return str(path)


def status_text(app: object) -> str:
    return str(app.screen.query_one(WatchStatus).render())  # type: ignore[attr-defined]


def output_texts(app: object) -> list[str]:
    return [line.text for line in app.session.program.output.lines]  # type: ignore[attr-defined]


async def test_a_program_that_raises_at_import(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio
        raise RuntimeError("no config file")
    """)
    app = make_watch_app(program_session([path]))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "exited 1" in status_text(app))
        await until(pilot, lambda: any("RuntimeError: no config file" in t
                                       for t in output_texts(app)))
        assert isinstance(app.screen, WatchScreen)


async def test_a_program_that_prints_megabytes_keeps_the_screen_working(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, sys

        async def main():
            line = "x" * 99 + "\\n"
            for _ in range(100_000):      # 10 MB
                sys.stdout.write(line)
            print("the last line")
            await asyncio.sleep(0)

        asyncio.run(main())
    """)
    app = make_watch_app(program_session([path]))
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: "exited 0" in status_text(app), timeout=60)
        output = app.screen.query_one(ProgramOutputView)
        await until(pilot, lambda: "the last line" in str(
            output.render_line(output.size.height - 2).text), timeout=10)
        assert len(output.output.lines) <= 5_000
        await pilot.press("s")  # the keys still answer
        assert app.screen.query_one(WatchTaskList).sort_key == "name"


async def test_while_the_program_blocks_its_loop_the_dashboard_answers(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, sys, time

        async def blocker():
            print("blocking", flush=True)
            while True:
                time.sleep(0.05)   # never yields: the loop is held until we are stopped

        asyncio.run(blocker())
    """)
    session = program_session([path])
    app = make_watch_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "blocking" in output_texts(app))
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count >= 1)
        await pilot.press("t", "t", "s")  # the screen answers while the program is stuck
        assert tasks.sort_key == "name"
        await pilot.press("q")
        await until(pilot, lambda: session.program is not None
                    and session.program.exit_status is not None)
    assert session.program is not None
    assert session.program.exit_status is not None


async def test_a_program_that_exits_non_zero_keeps_its_rows(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, sys

        async def fail():
            raise ValueError("bad input")

        async def main():
            task = asyncio.create_task(fail(), name="failing")
            try:
                await task
            except ValueError:
                sys.exit(4)

        asyncio.run(main())
    """)
    app = make_watch_app(program_session([path]))
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: "exited 4" in status_text(app))
        store = app.session.store
        await until(pilot, lambda: any(t.name == "failing" for t in store.tasks.values()))
        failing = next(t for t in store.tasks.values() if t.name == "failing")
        assert failing.state is TaskState.EXCEPTION
        assert failing.error is not None
        assert failing.error.message == "bad input"


async def test_executor_jobs_and_lag_are_shown(tmp_path: Path) -> None:
    path = program(tmp_path, """
        import asyncio, time

        def crunch():
            time.sleep(0.05)
            return 42

        async def main():
            loop = asyncio.get_running_loop()
            print(await loop.run_in_executor(None, crunch))
            time.sleep(0.2)   # holds the loop: a lag spike

        asyncio.run(main())
    """)
    app = make_watch_app(program_session([path]))
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: "exited 0" in status_text(app))
        await until(pilot, lambda: bool(app.session.store.state.jobs))
        await pilot.press("J")
        jobs = app.screen.query_one("#watch-jobs")
        await until(pilot, lambda: "crunch done" in str(jobs.render()))
        await pilot.press("J")
        await until(pilot, lambda: bool(app.session.store.spikes))
        await until(pilot, lambda: "lag " in str(app.screen.query_one("#watch-events").render()))
        events = str(app.screen.query_one("#watch-events").render())
        assert "prog.py:11" in events


async def test_a_uvloop_program_has_task_rows_on_the_watch_screen(tmp_path: Path) -> None:
    pytest.importorskip("uvloop")
    path = program(tmp_path, """
        import asyncio, time, uvloop

        async def fetch(n):
            await asyncio.sleep(0.01 * n)
            return n

        async def hold():
            time.sleep(0.2)                 # holds the loop for 200 ms
            await asyncio.sleep(0)

        async def main():
            await asyncio.gather(*(asyncio.create_task(fetch(n), name=f"fetch-{n}")
                                   for n in range(3)))
            await asyncio.create_task(hold(), name="holder")
            await asyncio.Event().wait()    # parked here until we are stopped

        uvloop.run(main())
    """)
    app = make_watch_app(program_session([path]))
    async with app.run_test(size=(160, 50)) as pilot:
        store = app.session.store
        await until(pilot, lambda: {"fetch-0", "fetch-1", "fetch-2", "holder"}
                    <= {t.name for t in store.tasks.values()})

        def named(name: str) -> TaskSnapshot:
            return next(t for t in store.tasks.values() if t.name == name)

        await until(pilot, lambda: named("holder").state is TaskState.DONE)
        assert named("fetch-1").state is TaskState.DONE
        assert named("holder").busy_s >= 0.15  # step timing works on uvloop too
        parent = named("fetch-0").parent
        assert parent is not None
        await until(pilot, lambda: store.tasks[parent].state is TaskState.SUSPENDED)
        assert any(frame.function == "main" for frame in store.tasks[parent].await_chain)
        def shown() -> str:
            task_list = app.screen.query_one(WatchTaskList)
            return "\n".join(str(task_list.render_line(y).text)
                             for y in range(task_list.size.height))

        await until(pilot, lambda: "fetch-1" in shown())  # at the screen's next pull
        assert "holder" in shown()
