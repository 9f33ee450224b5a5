"""The watch screen, end to end: a real child program under the real supervisor, speaking the
agent's wire over the dashboard's private socket (tests/programs/wire_agent.py), and the
deterministic fake feed for the keys. Waits are on conditions, never on the clock.
"""

from __future__ import annotations

import dataclasses
import io
import sys
from collections.abc import Callable
from pathlib import Path

import psutil
from rich.console import Console
from textual.widgets import Static

from loopscope.tasks.agent.model import TaskState
from loopscope.tasks.watch.agent_feed import ListenerFeed
from loopscope.tasks.watch.session import WatchSession
from loopscope.tasks.watch.supervisor import ProgramSupervisor
from loopscope.tui.screens.watch import WatchScreen
from loopscope.tui.screens.watch_modals import WatchDetailScreen
from loopscope.tui.watch_app import WatchApp, make_watch_app, program_session
from loopscope.widgets.program_output import ProgramOutputView
from loopscope.widgets.watch_status import WatchStatus
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until
from tests.watch_fake import FakeFeed, batch, fake_session, many_tasks

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
WIRE_AGENT = str(PROGRAMS / "wire_agent.py")
WAITER = str(PROGRAMS / "waiter.py")


def wire_session(*args: str) -> WatchSession:
    feed = ListenerFeed()
    program = ProgramSupervisor([sys.executable, WIRE_AGENT, feed.address, *args], grace_s=2)
    return WatchSession(label="wire_agent.py", program=program, feed=feed)


def shown_text(widget: object) -> str:
    """What a Line-API widget shows right now, one line per row."""
    height = widget.size.height  # type: ignore[attr-defined]
    return "\n".join(str(widget.render_line(y).text) for y in range(height))  # type: ignore[attr-defined]


def rendered(renderable: object) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def state_of(app: WatchApp, name: str) -> TaskState | None:
    return next((t.state for t in app.session.store.tasks.values() if t.name == name), None)


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_a_watched_program_its_tasks_output_cancel_and_exit() -> None:
    app = make_watch_app(wire_session())
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 4)
        await pilot.pause(0.15)
        text = shown_text(tasks)
        for name in ("main", "poller-a", "poller-b", "stuck-on-event"):
            assert name in text
        assert "suspended" in text
        assert "wire_agent.py:60" in text
        output = app.screen.query_one(ProgramOutputView)
        await until(pilot, lambda: "a line on stderr" in shown_text(output))
        assert "program says hello" in shown_text(output)

        await pilot.press("end", "c")  # the newest row: stuck-on-event
        await until(pilot, lambda: state_of(app, "stuck-on-event") is TaskState.CANCELLED)
        status = app.screen.query_one(WatchStatus)
        await until(pilot, lambda: "exited 3" in str(status.render()))
        await pilot.pause(0.15)
        assert "cancelled task 4 stuck-on-event" in shown_text(output)
        assert "cancelled" in shown_text(tasks)
        assert isinstance(app.screen, WatchScreen)  # the screen stays after the exit


async def test_quitting_stops_the_program_and_leaves_no_process() -> None:
    session = wire_session("--stay")
    app = make_watch_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        program = session.program
        assert program is not None
        await until(pilot, lambda: "program says hello" in shown_text(
            app.screen.query_one(ProgramOutputView)))
        pid = program.pid
        assert pid is not None
        assert not gone(pid)
        await pilot.press("q")
        await until(pilot, lambda: program.exit_status is not None)
    assert gone(pid)
    assert program.exit_status is not None
    assert program.exit_status.stopped_by_us == "SIGINT"


async def test_a_program_that_cannot_be_found_says_so_and_the_screen_stays() -> None:
    program = ProgramSupervisor([sys.executable, "/no/such/script.py"])
    app = make_watch_app(WatchSession(label="script.py", program=program, feed=ListenerFeed()))
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one(WatchStatus)
        await until(pilot, lambda: "exited 2" in str(status.render()))
        assert program.output.lines[0].stream == "stderr"
        output = app.screen.query_one(ProgramOutputView)
        await pilot.pause(0.15)
        rows = [str(output.render_line(y).text) for y in range(output.size.height)]
        # the long line wraps in the narrow panel instead of being cut
        assert "can't open file '/no/such/script.py': [Errno 2] No such file" in "".join(rows)
        assert "never connected" in str(status.render())


async def test_sort_filter_tree_and_detail_keys() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        assert tasks.rows == [1, 2, 3, 4, 5, 6, 7, 8]

        await pilot.press("s")  # by name
        assert [app.session.store.tasks[i].name for i in tasks.rows][:3] == [
            "broken-page", "robots", "sitemap"]
        await pilot.press("s", "s")  # state, then busy (largest first)
        assert tasks.sort_key == "busy"
        assert tasks.rows[0] == 2
        await pilot.press("S")
        assert tasks.rows[-1] == 2

        await pilot.press("slash", *"worker", "enter")
        assert sorted(tasks.rows) == [2, 3, 4]
        assert "filter “worker”" in str(tasks.border_subtitle)
        await pilot.press("escape")
        assert tasks.row_count == 8

        await pilot.press("t")  # the tree: children under their parent, indented
        assert tasks.rows == [1, 2, 5, 6, 3, 4, 8, 7]
        await pilot.pause(0.15)
        assert "└ robots" in shown_text(tasks)

        tasks.select(2)
        await pilot.press("enter")
        assert isinstance(app.screen, WatchDetailScreen)
        await pilot.pause(0.15)
        body = rendered(app.screen.query_one("#watch-detail-body", Static).content)
        assert "Await chain" in body
        assert "tiny_crawler.py:19" in body
        assert "▶ 19     await asyncio.sleep(0.05)" in body
        await pilot.press("escape")
        assert isinstance(app.screen, WatchScreen)


async def test_cancel_without_an_agent_says_it_is_not_available() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(80, 24)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        app.session.store.cancel_request = None
        app.session.store.set_link("closed")
        await pilot.press("c")
        await pilot.pause(0.05)
        assert any("cannot cancel: the agent is closed" in str(n.message)
                   for n in app._notifications)  # noqa: SLF001 - textual keeps them private


async def test_the_real_agent_shows_where_a_task_waits_and_c_cancels_it() -> None:
    app = make_watch_app(program_session([WAITER]))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: state_of(app, "waiter") is TaskState.SUSPENDED)
        task = next(t for t in app.session.store.tasks.values() if t.name == "waiter")
        assert task.where is not None
        assert (task.where.function, task.where.line) == (
            "wait_forever", 7)
        await pilot.pause(0.15)
        assert tasks.select(task.id)
        await pilot.pause(0.15)
        assert "waiter.py:7" in shown_text(tasks)
        detail = rendered(app.screen.query_one("#watch-detail-body", Static).content)
        assert "▶ 7     await event.wait()" in detail

        await pilot.press("c")
        await until(pilot, lambda: state_of(app, "waiter") is TaskState.CANCELLED)
        status = app.screen.query_one(WatchStatus)
        await until(pilot, lambda: "exited 0" in str(status.render()))
        output = app.screen.query_one(ProgramOutputView)
        await until(pilot, lambda: "the waiter was cancelled" in shown_text(output))


async def test_lanes_draw_each_task_life_on_the_program_time_axis() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        await pilot.press("L")
        await pilot.pause(0.15)
        lines = shown_text(tasks).splitlines()
        assert "0 s" in lines[0]
        assert "1.4 s" in lines[0]
        assert "!" in lines[0]
        assert lines[1].rstrip().endswith("█")  # Task-1 lives until now
        assert "busy" in lines[0]
        assert "sched" not in lines[0]  # lanes take their room


async def test_the_tree_keeps_each_task_once_as_states_change() -> None:
    feed = FakeFeed()
    app = make_watch_app(fake_session(feed=feed))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        await pilot.press("t")
        assert tasks.rows[-1] == 7  # the tree ends with the watchdog, #7; #8 sits under #4
        await pilot.press("up")  # a row that is not the cursor's: #8 changes state
        feed.cancel(8)
        await until(pilot, lambda: tasks.synced_version == app.session.store.version)
        assert sorted(tasks.rows) == list(range(1, 9))


async def test_with_many_rows_a_held_back_re_sort_still_happens() -> None:
    from loopscope.widgets import watch_task_list

    feed = FakeFeed(tasks=many_tasks(50), with_events=False)
    app = make_watch_app(fake_session(feed=feed))
    old_big = watch_task_list.BIG
    watch_task_list.BIG = 10  # behave as with many thousands of rows
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            tasks = app.screen.query_one(WatchTaskList)
            await until(pilot, lambda: tasks.row_count == 50)
            await pilot.press("s", "s", "s")  # busy, largest first
            store = app.session.store
            store.apply_message(batch([dataclasses.replace(store.tasks[30], busy_s=9.0)]))
            await until(pilot, lambda: tasks.rows[0] == 30)  # within ten syncs, no new change
    finally:
        watch_task_list.BIG = old_big


async def test_attach_shows_a_listening_program_and_quitting_leaves_it_running(
    tmp_path: Path,
) -> None:
    from loopscope.tui.watch_app import attach_session

    socket_dir = tmp_path / "s"
    socket_dir.mkdir(mode=0o700)
    address = f"unix:{socket_dir / 'agent.sock'}"
    source = tmp_path / "longrun.py"
    source.write_text(
        "import asyncio, loopscope.agent\n"
        f"loopscope.agent.install({address!r})\n"
        "async def main():\n"
        "    await asyncio.create_task(asyncio.sleep(3600), name='sleeper')\n"
        "asyncio.run(main())\n"
    )
    program = ProgramSupervisor([sys.executable, str(source)])
    await program.start()
    try:
        await until_async(lambda: any("listening on" in line.text for line in
                                      program.output.lines))
        app = make_watch_app(attach_session(address))
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: state_of(app, "sleeper") is TaskState.SUSPENDED)
            status = app.screen.query_one(WatchStatus)
            await until(pilot, lambda: f"running pid {program.pid}" in str(status.render()))
            await pilot.press("q")
        assert program.running  # detaching does not stop it
    finally:
        await program.stop()
    assert program.exit_status is not None


async def until_async(condition: Callable[[], bool], timeout: float = 20) -> None:
    import asyncio

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def test_q_pressed_twice_still_stops_the_program_gently() -> None:
    session = wire_session("--stay")
    app = make_watch_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        program = session.program
        assert program is not None
        await until(pilot, lambda: "program says hello" in shown_text(
            app.screen.query_one(ProgramOutputView)))
        await pilot.press("q", "q")
    assert program.exit_status is not None
    assert program.exit_status.stopped_by_us == "SIGINT"
    assert program.pid is not None
    assert gone(program.pid)


async def test_sigterm_to_loopscope_stops_the_watched_program_too() -> None:
    import os
    import signal

    session = wire_session("--stay")
    app = make_watch_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        program = session.program
        assert program is not None
        await until(pilot, lambda: "program says hello" in shown_text(
            app.screen.query_one(ProgramOutputView)))
        os.kill(os.getpid(), signal.SIGTERM)  # `kill loopscope`: handled by the app
        await until(pilot, lambda: program.exit_status is not None)
    assert app.return_code == 128 + signal.SIGTERM
    assert program.exit_status is not None
    assert program.exit_status.stopped_by_us == "SIGINT"
    assert program.pid is not None
    assert gone(program.pid)
