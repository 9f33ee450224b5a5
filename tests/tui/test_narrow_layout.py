"""The dashboard at 80x24: every panel keeps its frame whatever is open or shown."""

from __future__ import annotations

from textual.widget import Widget

from loopscope.tasks.lag import LagSpike
from loopscope.tasks.records import TaskState
from loopscope.tui.screens.main import MainScreen
from loopscope.widgets.status_line import StatusLine
from loopscope.widgets.system_panel import SystemPanel
from tests.tui.conftest import new_app, until


def bottom_border_shown(panel: Widget) -> bool:
    """The panel's last row (its bottom border) lies inside its parent's visible region."""
    parent = panel.parent
    assert isinstance(parent, Widget)
    return panel.region.bottom <= parent.region.bottom


async def test_process_panel_keeps_its_bottom_border_with_the_command_bar_open() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        panel = screen.query_one(SystemPanel)
        # the panel at its tallest: psutil figures on three lines, not "measuring…"
        await until(pilot, lambda: app.manager.process.latest is not None)
        screen.sync()
        await pilot.pause()
        assert "sys cpu" in str(panel.render())
        assert bottom_border_shown(panel)
        await pilot.press("colon")
        await pilot.pause()
        assert bottom_border_shown(panel)
        # a long spike line (what `b` leaves) must not push the border out either
        app.manager.lag.spikes.append(
            LagSpike(at=0.0, lag_ms=1234.0, culprit="task #1 block (time.sleep in a coroutine)")
        )
        screen.sync()
        await pilot.pause()
        assert bottom_border_shown(panel)
        shown = "".join(strip.text for strip in panel.render_lines(panel.region.reset_offset))
        assert "spike 1.234 s" in shown
        assert shown.rstrip().endswith("╯")


async def test_an_active_filter_keeps_the_status_on_its_two_rows() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        status = screen.query_one(StatusLine)
        await pilot.press("F")  # all -> pending
        await pilot.pause()
        assert status.state_filter is TaskState.PENDING
        assert status.size.height == 2
        width = status.content_size.width
        counts, settings = [strip.text.strip() for strip in status.render_lines(
            status.region.reset_offset)]
        assert "filter pending" in counts
        assert counts.startswith("pend")
        assert settings.startswith("limit 100")
        assert all(len(line) <= width for line in (counts, settings))


async def test_sample_reads_name_their_file_in_full_at_80_columns() -> None:
    """Trial: the 64 KiB sample read showed as "…4KiB.txt (sample)" at 80x24 (its target,
    "sample-64KiB.txt (sample)", was cut from the left), so two sizes looked the same."""
    from loopscope.widgets.task_list import TaskList

    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")  # one read of each sample file
        await until(pilot, lambda: app.manager.last_batch is not None
                    and app.manager.last_batch.done)
        task_list = app.screen.query_one(TaskList)

        def shown() -> str:
            return "\n".join(strip.text for strip in
                             task_list.render_lines(task_list.region.reset_offset))

        names = ("sample-4KiB.txt", "sample-64KiB.txt", "sample-1MiB.txt", "sample-8MiB.txt")
        await until(pilot, lambda: all(name in shown() for name in names))


async def test_an_empty_filtered_list_says_why_and_the_bar_has_no_blank_row() -> None:
    """Trial: ``F`` on a list with no pending task showed an empty panel (was it broken?), and
    the command bar opened with a blank row under the line being typed."""
    from loopscope.widgets.command_bar import CommandBar
    from loopscope.widgets.task_list import TaskList

    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")  # ten failing tasks
        await until(pilot, lambda: app.manager.last_batch is not None
                    and app.manager.last_batch.done)
        await pilot.press("F")  # pending: none
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: "no pending task" in task_list.render_line(2).text)
        assert "F shows the next state" in task_list.render_line(2).text
        await pilot.press("colon")
        bar = app.screen.query_one(CommandBar)
        await pilot.pause()
        assert bar.region.height == 1
        await pilot.press(*"sleep 0.01", "enter")
        await until(pilot, lambda: bar.region.height == 2)  # now it has something to say
        assert "launched 1 task" in str(bar.message.render())
