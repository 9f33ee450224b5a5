"""Messages never cover the data being watched.

Trial: after ``R`` or a refused key, Textual's toast sat over the timeline's lanes (at 80x24
over half the timeline and the status line) for up to twelve seconds. Messages now take the
key footer's row, and the keys come back when the message goes.
"""

from __future__ import annotations

import pytest
from textual.widgets import Footer
from textual.widgets._toast import Toast

from loopscope.tui.watch_app import make_watch_app
from loopscope.widgets.notice_line import WARNING_S, NoticeLine, shown_for
from loopscope.widgets.timeline import Timeline
from tests.tui.conftest import new_app, until
from tests.watch_fake import fake_session

PANELS = ("#task-list", "#gain", "#system", "#timeline", "#status")


@pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["160x50", "80x24"])
async def test_a_message_on_the_dashboard_covers_no_panel(size: tuple[int, int]) -> None:
    app = new_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("w")  # refused: no race yet (a warning)
        notice = app.screen.query_one(NoticeLine)
        await until(pilot, lambda: notice.message is not None)
        assert "run the race scenario first" in str(notice.message)
        await pilot.pause()
        assert not app.screen.query(Toast)
        assert notice.region.bottom == size[1]  # on the bottom row, where the keys were
        for selector in PANELS:
            assert not notice.region.overlaps(app.screen.query_one(selector).region), selector
        timeline = app.screen.query_one(Timeline)
        assert timeline.region.height > 2
        assert not app.screen.query_one(Footer).display  # the keys give way, then come back
        notice.dismiss()
        await pilot.pause()
        assert app.screen.query_one(Footer).display
        assert notice.region.height == 0


async def test_a_long_message_wraps_rather_than_being_cut() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        text = "a message longer than one row of eighty columns, " * 2 + "read to its end"
        app.notify(text)
        await pilot.pause()
        notice = app.screen.query_one(NoticeLine)
        assert notice.region.height == 2
        drawn = " ".join(strip.text.strip() for strip in notice.render_lines(
            notice.region.reset_offset))
        assert "read to its end" in drawn
        for selector in PANELS:
            assert not notice.region.overlaps(app.screen.query_one(selector).region), selector


async def test_the_watch_screen_says_it_in_the_same_place() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify("asked the program to cancel task #3", timeout=3)
        await pilot.pause()
        notice = app.screen.query_one(NoticeLine)
        assert notice.message == "asked the program to cancel task #3"
        assert not app.screen.query(Toast)
        for selector in ("#watch-tasks", "#watch-output", "#watch-events", "#watch-status"):
            assert not notice.region.overlaps(app.screen.query_one(selector).region), selector


def test_warnings_stay_long_enough_to_read() -> None:
    assert shown_for("no task selected", "warning", 2.0) >= WARNING_S
    assert shown_for("no task selected", "error", None) >= WARNING_S
    assert shown_for("cancelled 3 tasks", "information", 3.0) == pytest.approx(4.0)
    long = "x" * 300  # 300 characters take longer to read than any fixed timeout
    assert shown_for(long, "information", 4.0) > 15


@pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["160x50", "80x24"])
async def test_a_scenario_started_in_the_picker_says_so_below_it(size: tuple[int, int]) -> None:
    """Trial: ``r`` in the picker put a toast over the source it was marking."""
    from loopscope.tui.screens.scenarios import ScenarioPicker

    app = new_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("n", "down", "down", "down", "down", "r")  # futures
        picker = app.screen
        assert isinstance(picker, ScenarioPicker)
        notice = picker.query_one(NoticeLine)
        await until(pilot, lambda: notice.message is not None)
        assert "scenario futures" in str(notice.message)
        await pilot.pause()
        assert not picker.query(Toast)
        assert not notice.region.overlaps(picker.query_one("#picker-body").region)
