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
from textual.widget import Widget
from textual.widgets import Static

from loopscope.tasks.agent.model import AgentWarning, LagSpike, TaskState, WarningKind
from loopscope.tasks.watch.agent_feed import ListenerFeed
from loopscope.tasks.watch.session import WatchSession
from loopscope.tasks.watch.supervisor import ProgramSupervisor
from loopscope.tui.screens.watch import WatchScreen
from loopscope.tui.screens.watch_modals import WatchDetailScreen
from loopscope.tui.watch_app import WatchApp, make_watch_app, program_session
from loopscope.widgets.prerendered_text import PrerenderedText
from loopscope.widgets.program_output import ProgramOutputView
from loopscope.widgets.watch_events import WatchEvents
from loopscope.widgets.watch_jobs import WatchJobs
from loopscope.widgets.watch_status import WatchStatus
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until
from tests.watch_fake import FakeFeed, at, batch, exited_program, fake_session, many_tasks

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
WIRE_AGENT = str(PROGRAMS / "wire_agent.py")
WAITER = str(PROGRAMS / "waiter.py")


def wire_session(*args: str) -> WatchSession:
    feed = ListenerFeed()
    # a long grace: the tests check SIGINT was enough, which a starved machine may take a
    # while to act on
    program = ProgramSupervisor([sys.executable, WIRE_AGENT, feed.address, *args], grace_s=10)
    return WatchSession(label="wire_agent.py", program=program, feed=feed)


def shown_text(widget: object) -> str:
    """What a Line-API widget shows right now, one line per row."""
    height = widget.size.height  # type: ignore[attr-defined]
    return "\n".join(str(widget.render_line(y).text) for y in range(height))  # type: ignore[attr-defined]


def shown_text_of(panel: Widget) -> str:
    """What a panel (border included) shows right now, as cut to its size."""
    return "\n".join(strip.text for strip in panel.render_lines(panel.region.reset_offset))


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
        await until(pilot, lambda: "stuck-on-event" in shown_text(tasks))
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
        await until(pilot, lambda: "cancelled task 4 stuck-on-event" in shown_text(output))
        await until(pilot, lambda: "cancelled" in shown_text(tasks))
        assert isinstance(app.screen, WatchScreen)  # the screen stays after the exit
        await pilot.press("q")
    # trial: loopscope said 0 whatever the program did; a script can tell now
    assert app.return_value == 3


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
    assert app.return_value == 0  # quitting stopped it, as asked
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

        def joined_rows() -> str:
            """The rows read on, without the spaces where lines wrapped between words."""
            return "".join("".join(str(output.render_line(y).text).split())
                           for y in range(output.size.height))

        # the long line wraps in the narrow panel instead of being cut
        await until(pilot, lambda: "can'topenfile'/no/such/script.py':[Errno2]Nosuchfile"
                    in joined_rows())
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
        await until(pilot, lambda: "└ robots" in shown_text(tasks))

        tasks.select(2)
        await pilot.press("enter")
        assert isinstance(app.screen, WatchDetailScreen)

        def body_text() -> str:
            return rendered(app.screen.query_one("#watch-detail-body", Static).content)

        await until(pilot, lambda: "Await chain" in body_text())
        body = body_text()
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
        await until(pilot, lambda: any(
            "cannot cancel: the agent is closed" in said for said in app.said))


async def test_the_real_agent_shows_where_a_task_waits_and_c_cancels_it() -> None:
    app = make_watch_app(program_session([WAITER]))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: state_of(app, "waiter") is TaskState.SUSPENDED)
        task = next(t for t in app.session.store.tasks.values() if t.name == "waiter")
        assert task.where is not None
        assert (task.where.function, task.where.line) == (
            "wait_forever", 7)
        await until(pilot, lambda: tasks.select(task.id))
        await until(pilot, lambda: "waiter.py:7" in shown_text(tasks))
        detail = app.screen.query_one("#watch-detail-body", Static)
        await until(pilot, lambda: "▶ 7     await event.wait()" in rendered(detail.content))

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
        await until(pilot, lambda: "1.4 s" in shown_text(tasks).splitlines()[0])
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


async def test_a_row_shows_the_newest_state_even_when_a_snapshot_reuses_an_old_address() -> None:
    """The row cache once keyed a row by ``id(snapshot)``: when the agent replaced a snapshot
    twice between two draws, CPython could put the newest one at the address of the one drawn
    (freed by then), and the row kept saying ``suspended`` after the program ended."""
    feed = FakeFeed()
    app = make_watch_app(fake_session(feed=feed))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        store = app.session.store
        first = store.get(4)
        assert first is not None
        assert first.state is TaskState.SUSPENDED
        line = tasks.rows.index(4) + 1 - tasks.scroll_offset.y
        assert "suspended" in str(tasks.render_line(line).text)
        drawn_at = id(first)
        del first
        # No await in this loop: nothing draws between the batches, as when several batches
        # arrive within one 10 Hz tick. Stop once the snapshot lands where the drawn one was.
        states = (TaskState.RUNNING, TaskState.READY, TaskState.DONE)
        for n in range(3000):
            old = store.get(4)
            assert old is not None
            new = dataclasses.replace(old, state=states[n % 3], busy_s=n * 1e-6)
            del old
            store.apply_message(batch([new], t=101.5 + n * 1e-3))
            del new
            if id(store.get(4)) == drawn_at and store.tasks[4].state is TaskState.DONE:
                break
        tasks.sync()
        assert "done" in str(tasks.render_line(line).text)  # never the stale "suspended"


async def test_lag_and_warnings_use_one_duration_format_and_name_each_figure() -> None:
    """A 0.300 s step seen by the probe as 0.253 s of lag: both figures, each labelled, in the
    format of the rest of the screen (once ``+0.4s``, ``held 0.253 s`` and ``max 253 ms``)."""
    app = make_watch_app(fake_session(feed=FakeFeed(with_events=False)))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        events = app.screen.query_one(WatchEvents)
        report = at(25, "worker")
        message = batch(
            [], t=100.5,
            spikes=[LagSpike(100.412, 253.0, 1, 4, "worker-2", report, 0.300)],
            warnings=[AgentWarning(WarningKind.SLOW_STEP, 100.412, 4, report,
                                   "a step held the loop for 0.300 s")],
        )
        message["lag"] = [[100.35, 0.4, 1], [100.412, 253.0, 1]]
        app.session.store.apply_message(message)
        await until(pilot, lambda: "step held" in str(events.render()))
        lines = str(events.render()).splitlines()
        assert lines[0].startswith("probe lag ")
        assert lines[0].endswith(" now 0.253 s, max 0.253 s")
        events_text = " ".join(line.strip() for line in lines[1:])  # an event may wrap
        assert ("+0.412 s tiny_crawler.py:25 step held 0.300 s #4 worker-2 · probe lag 0.253 s"
                in events_text)
        # the slow-step warning of that same step is the spike again: one line, one count
        # (trial: every stall was listed twice, "Lag & warnings 6" for 3 stalls)
        assert not any("slow-step" in line for line in lines)
        await until(pilot, lambda: events.border_title == "Lag & warnings 1")


async def test_at_80_columns_a_spike_shows_the_line_that_held_the_loop() -> None:
    """Trial: at 80x24 the panel read ``+0.353 s step held 0.300 s blocking.p…``: the line,
    the point of the blocking example, was cut off."""
    app = make_watch_app(fake_session(feed=FakeFeed(with_events=False)))
    async with app.run_test(size=(80, 24)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        events = app.screen.query_one(WatchEvents)
        report = at(25, "worker")
        app.session.store.apply_message(batch(
            [], t=100.5, spikes=[LagSpike(100.412, 253.0, 1, 4, "worker-2", report, 0.300)]))
        await until(pilot, lambda: "step held" in shown_text_of(events))
        assert "tiny_crawler.py:25" in shown_text_of(events)


async def test_after_the_program_ended_the_empty_panels_say_none_not_yet() -> None:
    running = make_watch_app(fake_session(feed=FakeFeed(with_events=False)))
    async with running.run_test(size=(160, 50)) as pilot:
        events = running.screen.query_one(WatchEvents)
        await until(pilot, lambda: "no lag spike or warning yet" in str(events.render()))
        jobs = running.screen.query_one(WatchJobs)
        assert str(jobs.render()).startswith("no executor job yet")
    ended = make_watch_app(fake_session(program=exited_program(),
                                        feed=FakeFeed(with_events=False)))
    async with ended.run_test(size=(160, 50)) as pilot:
        events = ended.screen.query_one(WatchEvents)
        await until(pilot, lambda: str(events.render()).endswith("no lag spike or warning"))
        jobs = ended.screen.query_one(WatchJobs)
        assert str(jobs.render()).startswith("no executor job (")


async def test_the_dashboard_sort_keys_work_on_the_watch_screen_too() -> None:
    """``<`` ``>`` ``I`` sort the dashboard's list; the watch screen once knew only ``s``/``S``."""
    app = make_watch_app(fake_session())
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        await pilot.press("greater_than_sign")  # id → name
        assert tasks.sort_key == "name"
        assert [app.session.store.tasks[i].name for i in tasks.rows][:2] == [
            "broken-page", "robots"]
        await pilot.press("less_than_sign")  # back to id
        assert tasks.sort_key == "id"
        assert tasks.rows == [1, 2, 3, 4, 5, 6, 7, 8]
        await pilot.press("I")
        assert tasks.sort_reverse
        assert tasks.rows == [8, 7, 6, 5, 4, 3, 2, 1]
        await pilot.press("question_mark")

        def help_text_now() -> str:
            return " ".join(w.text for w in app.screen.query(PrerenderedText))

        await until(pilot, lambda: "previous column" in help_text_now())
        help_text = help_text_now()
        assert "previous column" in help_text
        assert "invert the sort order" in help_text
        assert "less_than_sign" not in help_text  # the key as typed: <


def test_the_exit_code_is_the_programs_when_it_ended_by_itself() -> None:
    from loopscope.tasks.watch.supervisor import ExitStatus
    from loopscope.tui.watch_app import exit_code

    assert exit_code(ExitStatus(1)) == 1
    assert exit_code(ExitStatus(-9)) == 128 + 9  # killed by SIGKILL, as a shell says it
    assert exit_code(ExitStatus(-2, stopped_by_us="SIGINT")) == 0
    assert exit_code(None) == 0  # attached: there is no program of ours
