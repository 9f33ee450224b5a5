"""The dashboard as a user reads it: the selection stays in view, a theme change recolours
everything, and an idle screen draws nothing."""

from __future__ import annotations

from rich.style import Style
from textual.strip import Strip

from loopscope.tasks.records import TaskState
from loopscope.tui.screens.detail import DetailScreen
from loopscope.widgets.task_list import TaskList
from loopscope.widgets.timeline import Timeline
from tests.tui.conftest import new_app, until


def cursor_visible(task_list: TaskList) -> bool:
    top = task_list.scroll_offset.y
    return top <= task_list.cursor_row < top + task_list.size.height - 1


def screen_row(task_list: TaskList) -> Strip:
    """The strip drawn on screen for the selected row (row 0 is the header)."""
    return task_list.render_line(task_list.cursor_row - task_list.scroll_offset.y + 1)


async def test_selection_follows_the_newest_row_at_80x24() -> None:
    """Issue 10: start, s, wait, f at 80x24 showed rows 1-11, no highlight, and enter opened
    task #20 from off screen."""
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        batch = app.manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done)
        await pilot.press("f")
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 20)
        await until(pilot, lambda: task_list.selected_id == 20 and cursor_visible(task_list))
        row = screen_row(task_list)
        assert row.text.lstrip().startswith("20 ")
        other = task_list.render_line(1)  # an unselected row, for comparison
        assert {s.style.bgcolor for s in row if s.style} != {s.style.bgcolor for s in other
                                                              if s.style}
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.record.id == 20


async def test_new_rows_do_not_steal_the_selection() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"sleep 3600 x30", "enter", "escape")
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 30)
        await pilot.press("home", "down", "down")
        assert task_list.selected_id == 3
        await pilot.press("colon", *"sleep 3600 x10", "enter", "escape")
        await until(pilot, lambda: task_list.row_count == 40)
        assert task_list.selected_id == 3
        assert cursor_visible(task_list)
        await pilot.press("end")  # following the newest again
        await pilot.press("colon", *"sleep 3600 x5", "enter", "escape")
        await until(pilot, lambda: task_list.row_count == 45)
        await until(pilot, lambda: task_list.selected_id == 45 and cursor_visible(task_list))


def styles_of(strip: Strip) -> set[Style]:
    return {s.style for s in strip if s.style is not None and s.text.strip()}


async def test_a_theme_change_recolours_finished_rows_and_lanes() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        app.theme = "textual-dark"
        await pilot.press("x")
        await until(pilot, lambda: app.manager.counts[TaskState.EXCEPTION] == 10)
        task_list = app.screen.query_one(TaskList)
        timeline = app.screen.query_one(Timeline)
        await until(pilot, lambda: task_list.row_count == 10 and timeline.mode == "lanes")
        await pilot.press("home")
        await pilot.pause()
        row_before = styles_of(task_list.render_line(2))  # task #2: finished, not selected
        lane_before = styles_of(timeline.render_line(1))
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        assert styles_of(task_list.render_line(2)) != row_before
        assert styles_of(timeline.render_line(1)) != lane_before


def kinds_shown(task_list: TaskList) -> list[str]:
    records = [task_list.manager.get(i) for i in task_list.rows]
    return [r.kind for r in records if r is not None]


async def test_sort_by_keys_and_by_clicking_a_header() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *"sleep 3600 x2; fail boom x2; sleep 3600", "enter", "escape")
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 5)
        await until(pilot, lambda: app.manager.counts[TaskState.EXCEPTION] == 2)
        selected = task_list.selected_id
        await pilot.press("greater_than_sign")  # id -> kind
        assert task_list.sort_column == "kind"
        assert kinds_shown(task_list) == ["fail", "fail", "sleep", "sleep", "sleep"]
        assert task_list.selected_id == selected  # the selection stays on its task
        await pilot.press("I")
        assert kinds_shown(task_list) == ["sleep", "sleep", "sleep", "fail", "fail"]
        assert "kind ▼" in task_list.render_line(0).text
        # click the "state" header: the widget's border is at row 0, the header at row 1
        x = 1 + task_list.render_line(0).text.index("state")
        await pilot.click(TaskList, offset=(x, 1))
        assert task_list.sort_column == "state"
        states = [task_list.manager.get(i).state for i in task_list.rows]  # type: ignore[union-attr]
        assert states == sorted(states, key=list(TaskState).index, reverse=True)
        await until(pilot, lambda: "by state" in str(task_list.border_title))


async def test_search_then_next_and_previous() -> None:
    from loopscope.tui.screens.scenarios import ScenarioPicker

    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("n")  # no search yet: n is still the scenario picker
        await until(pilot, lambda: isinstance(app.screen, ScenarioPicker))
        await pilot.press("escape")
        await pilot.press("colon", *"sleep 3600 x3; fail needle; sleep 3600 x3; fail needle",
                          "enter", "escape")
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 8)
        await until(pilot, lambda: app.manager.counts[TaskState.EXCEPTION] == 2)
        await pilot.press("home", "slash", *"NEEDLE", "enter")
        assert task_list.selected_id == 4
        await pilot.press("n")
        assert task_list.selected_id == 8
        await pilot.press("n")  # wraps around
        assert task_list.selected_id == 4
        await pilot.press("N")
        assert task_list.selected_id == 8
        assert cursor_visible(task_list)
        await until(pilot, lambda: "/NEEDLE" in str(task_list.border_title))


async def test_the_selection_bar_has_no_hole_at_the_state_or_error_cell() -> None:
    """The state cell kept the panel's background: the highlight had a gap in it."""
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")  # failures: a coloured state cell and a coloured error cell
        batch = app.manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done)
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 10)
        for focused in (True, False):
            if not focused:
                app.screen.set_focus(None)
                await pilot.pause()
            row = screen_row(task_list)
            assert "exception" in row.text
            backgrounds = {s.style.bgcolor for s in row if s.style}
            assert len(backgrounds) == 1, backgrounds
            assert backgrounds != {s.style.bgcolor for s in task_list.render_line(2) if s.style}


async def test_the_scrollbar_runs_beside_the_rows_not_the_header() -> None:
    """At 80x24 after `>` the thumb sat on the header row, which does not scroll."""
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s", "s", "s")
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 30)
        await pilot.press("greater_than_sign", "home")
        await pilot.pause()
        bar = task_list.vertical_scrollbar
        assert bar.display
        assert task_list.show_vertical_scrollbar
        header_y = task_list.content_region.y
        assert bar.region.y == header_y + 1
        assert bar.region.bottom == task_list.content_region.bottom


async def test_an_empty_search_or_escape_clears_the_search() -> None:
    """Trial: ``/purpose``, then ``/`` ctrl+u enter kept ``/purpose`` in the title and ``n``
    said no task matches instead of opening the scenarios."""
    from loopscope.tui.screens.scenarios import ScenarioPicker
    from loopscope.tui.screens.search import SearchScreen

    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        task_list = app.screen.query_one(TaskList)
        for clear in (("ctrl+u", "enter"), ("escape",)):
            await pilot.press("slash", *"purpose", "enter")
            await until(pilot, lambda: "/purpose" in str(task_list.border_title))
            await pilot.press("slash")
            await until(pilot, lambda: isinstance(app.screen, SearchScreen))
            await pilot.press(*clear)
            await until(pilot, lambda: "/purpose" not in str(task_list.border_title))
            assert task_list.search_text == ""
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPicker))
