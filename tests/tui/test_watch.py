"""The watch screen, end to end: a real child program under the real supervisor, speaking the
agent's wire over the dashboard's private socket (tests/programs/wire_agent.py), and the
deterministic fake feed for the keys. Waits are on conditions, never on the clock.
"""

from __future__ import annotations

import io
import sys
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
from loopscope.tui.watch_app import WatchApp, make_watch_app
from loopscope.widgets.program_output import ProgramOutputView
from loopscope.widgets.watch_status import WatchStatus
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until
from tests.watch_fake import fake_session

WIRE_AGENT = str(Path(__file__).resolve().parent.parent / "programs" / "wire_agent.py")


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
        assert "suspended" in text and "wire_agent.py:60" in text
        output = app.screen.query_one(ProgramOutputView)
        await until(pilot, lambda: "a line on stderr" in shown_text(output))
        assert "program says hello" in shown_text(output)

        await pilot.press("end", "c")  # the newest row: stuck-on-event
        await until(pilot, lambda: state_of(app, "stuck-on-event") is TaskState.CANCELLED)
        status = app.screen.query_one(WatchStatus)
        await until(pilot, lambda: "exited with status 3" in str(status.render()))
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
        assert pid is not None and not gone(pid)
        await pilot.press("q")
        await until(pilot, lambda: program.exit_status is not None)
    assert gone(pid)
    assert program.exit_status is not None and program.exit_status.stopped_by_us == "SIGINT"


async def test_a_program_that_cannot_be_found_says_so_and_the_screen_stays() -> None:
    program = ProgramSupervisor([sys.executable, "/no/such/script.py"])
    app = make_watch_app(WatchSession(label="script.py", program=program, feed=ListenerFeed()))
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one(WatchStatus)
        await until(pilot, lambda: "exited with status 2" in str(status.render()))
        assert program.output.lines[0].stream == "stderr"
        assert "can't open file '/no/such/script.py'" in program.output.lines[0].text
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
        assert tasks.sort_key == "busy" and tasks.rows[0] == 2
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
        assert "Await chain" in body and "tiny_crawler.py:19" in body
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
                   for n in app._notifications)
