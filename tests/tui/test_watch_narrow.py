"""The watch screen at 80x24 cuts no text a user reads: the status line and the lag &
warnings panel wrap rather than end in "…".

Trial: ``loopscope watch examples/taskgroup_fail.py`` at 80x24 ended its status line in
"agent fin…", and the crawler's events read "step held…" and "broken-page…".
"""

from __future__ import annotations

import pytest

from loopscope.tui.watch_app import make_watch_app
from loopscope.widgets.watch_events import WatchEvents
from loopscope.widgets.watch_jobs import WatchJobs
from loopscope.widgets.watch_status import WatchStatus
from tests.tui.conftest import until
from tests.watch_fake import exited_program, fake_session


def lines_of(widget: WatchStatus | WatchEvents | WatchJobs) -> list[str]:
    """The lines the widget draws inside its border and padding."""
    return [line.rstrip() for line in widget.render().plain.splitlines()]


async def test_a_long_status_line_breaks_between_its_parts() -> None:
    session = fake_session(program=exited_program(), label="examples/taskgroup_fail.py")
    app = make_watch_app(session)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one(WatchStatus)
        await until(pilot, lambda: "8 tasks" in " ".join(lines_of(status)))
        session.store.set_link("finished")
        status.sync()
        await until(pilot, lambda: status.region.height == 2)
        first, second = lines_of(status)
        assert first.strip() == "examples/taskgroup_fail.py exited 0"  # broken at a " · "
        assert second.strip().startswith("8 tasks 1 pend")
        assert second.strip().endswith("1 canc · agent finished")
        assert "…" not in first + second
        assert max(len(first), len(second)) <= status.content_size.width


async def test_events_wrap_at_80_columns_and_the_newest_is_whole() -> None:
    app = make_watch_app(fake_session(program=exited_program()))
    async with app.run_test(size=(80, 24)) as pilot:
        events = app.screen.query_one(WatchEvents)
        await until(pilot, lambda: "never-retrieved" in " ".join(lines_of(events)))
        shown = lines_of(events)
        text = " ".join(line.strip() for line in shown)
        assert "tiny_crawler.py:18 step held" in text  # the older spike, its line first
        assert text.endswith("ConnectionError: /broken: connection reset")  # the newest, whole
        assert all(len(line) <= events.content_size.width for line in shown)


def test_a_duration_never_breaks_from_its_unit() -> None:
    """Trial: "probe lag 0.250" at the end of a row, "s" alone on the next."""
    from rich.text import Text

    from loopscope.widgets.text_wrap import hanging

    event = Text("+0.352 s blocking.py:29 step held 0.300 s #3 report · probe lag 0.250 s")
    for width in range(12, 80):
        rows = [row.plain for row in hanging(event, width)]
        assert all(len(row) <= width for row in rows)
        assert "".join(rows).replace(" ", "") == event.plain.replace(" ", "")  # all of it
        assert not any(row.strip() in ("s", "ms") for row in rows)
        if width >= 16:  # room for its longest word: no word is split
            assert " ".join(row.strip() for row in rows) == event.plain


def test_the_status_line_says_waiting_for_the_agent_once() -> None:
    """Trial: before the agent connected the status line read "agent waiting for the agent"."""
    from loopscope.tasks.watch.store import WatchStore

    store = WatchStore()
    status = WatchStatus(store, None, label="examples/blocking.py")
    line = status._line(short=False).plain  # noqa: SLF001 - the line before it is fitted
    assert line.endswith("· waiting for the agent")
    store.set_link("finished")
    assert status._line(short=False).plain.endswith("· agent finished")  # noqa: SLF001


def test_wrapping_into_no_width_ends() -> None:
    """A panel asked to draw before it has a width (0 cells) must not wrap forever."""
    from rich.text import Text

    from loopscope.widgets.text_wrap import break_points, hanging, newest_that_fit

    starts = break_points("no executor job yet", 0)  # one cell a row, spaces skipped
    assert len(starts) == len("noexecutorjobyet") - 1
    assert [row.plain for row in hanging(Text("no executor job"), 0)] == ["no executor job"]
    assert len(newest_that_fit([Text("a b"), Text("c")], 0, 2)) == 2


async def test_the_jobs_panel_wraps_at_80_columns() -> None:
    """Trial: ``J`` at 80x24 read "no executor job (loop.run_in_executor…"."""
    app = make_watch_app(fake_session(program=exited_program()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("J")
        jobs = app.screen.query_one(WatchJobs)
        await until(pilot, lambda: jobs.region.width > 0 and "executor" in jobs.render().plain)
        shown = lines_of(jobs)
        assert " ".join(line.strip() for line in shown).endswith(
            "(loop.run_in_executor, asyncio.to_thread)")
        assert all(len(line) <= jobs.content_size.width for line in shown)


LONG_PATH = "/srv/reports/quarterly_report_generator_with_a_long_name.py"
LONG_NAME = "regenerate-quarterly-report-for-region-3-north-east-and-south-west"


async def test_a_long_spike_cause_cut_at_80x24_is_whole_in_the_w_pop_up() -> None:
    """Trial: at 80x24 a spike blamed on a long file name and a long task name needs more
    rows than the panel has; its end (the task's name, the probe's figure) was cut after
    "…" and nothing on the screen showed it whole. The panel now says ``w``, and ``w`` shows
    every spike and warning whole."""
    from loopscope.tasks.agent.model import Frame, LagSpike
    from loopscope.tui.screens.watch import WatchScreen
    from loopscope.tui.screens.watch_modals import WatchEventsScreen
    from loopscope.widgets.watch_events import ALL_HINT
    from loopscope.widgets.watch_events_whole import WatchEventsWhole
    from tests.watch_fake import batch

    app = make_watch_app(fake_session(program=exited_program()))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        events = screen.query_one(WatchEvents)
        await until(pilot, lambda: "never-retrieved" in " ".join(lines_of(events)))
        assert events.border_subtitle == ALL_HINT  # the older spike ends "probe lag…"
        spike = LagSpike(102.0, 289.0, 1, 4, LONG_NAME,
                         Frame("regenerate", LONG_PATH, 5), 0.300)
        app.session.store.apply_message(batch([], t=102.1, spikes=[spike]))
        screen.sync()
        await until(pilot, lambda: LONG_NAME[:20] in "".join(lines_of(events)))
        panel = "".join(line.strip() for line in lines_of(events))
        assert "probe lag 0.289 s" not in panel  # cut: the panel has six rows
        assert events.border_subtitle == ALL_HINT
        await pilot.press("w")
        assert isinstance(app.screen, WatchEventsScreen)
        whole = app.screen.query_one(WatchEventsWhole)
        await until(pilot, lambda: whole.content_size.width > 0)
        rows = [row.plain for row in whole.lines(whole.content_size.width)]
        assert all(len(row) <= whole.content_size.width for row in rows)
        text = " ".join(row.strip() for row in rows)
        assert (f"quarterly_report_generator_with_a_long_name.py:5 step held 0.300 s #4 "
                f"{LONG_NAME} · probe lag 0.289 s") in text
        assert "tiny_crawler.py:18 step held" in text  # the older events too
        assert "never-retrieved" in text
        await pilot.press("escape")
        assert isinstance(app.screen, WatchScreen)


@pytest.mark.parametrize(("size", "cut"), [((160, 50), False), ((80, 24), True)])
async def test_the_events_panel_hints_at_w_only_when_something_is_cut(
    size: tuple[int, int], cut: bool,
) -> None:
    """At 80x24 the crawler's older spike ends in "probe lag…"; at 160x50 all is whole."""
    from loopscope.widgets.watch_events import ALL_HINT

    app = make_watch_app(fake_session(program=exited_program()))
    async with app.run_test(size=size) as pilot:
        events = app.screen.query_one(WatchEvents)
        await until(pilot, lambda: "never-retrieved" in " ".join(lines_of(events)))
        await until(pilot, lambda: events.border_subtitle == (ALL_HINT if cut else ""))
        assert ("probe lag…" in " ".join(lines_of(events))) is cut


def test_a_long_task_name_and_await_chain_fold_whole_in_the_detail() -> None:
    """Trial at 80x24: the detail pop-up of a task named
    "regenerate-quarterly-report-for-region-2-north-east-and-south-west" read
    "…-north-e…", its coroutine "…_every_region…", its await chain's file:line "quart…"."""
    import io

    from rich.console import Console

    from loopscope.tasks.watch.store import WatchStore
    from loopscope.widgets.watch_detail import describe_task
    from tests.watch_fake import at, task

    coro = "regenerate_the_quarterly_report_for_every_region_in_one_go"
    chain = (at(19, coro),)
    long = task(3, LONG_NAME, coro, "suspended", None, at(37, "main"), chain=chain,
                awaiting="sleep(0.5)")
    console = Console(width=70, file=io.StringIO(), record=True)  # the pop-up at 80x24
    console.print(describe_task(long, WatchStore()))
    rows = console.export_text().splitlines()
    assert not any("…" in row for row in rows)
    assert all(len(row) <= 70 for row in rows)
    text = "".join(row.strip() for row in rows)
    assert f"#3{LONG_NAME}" in text
    assert coro in text
    assert f"{coro}tiny_crawler.py:19" in text  # the chain's file:line, whole
