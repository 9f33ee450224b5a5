"""The watch screen repaints only what changed, and ``?`` reopens the help it already built:
with 100,000 tasks every repaint is time a pressed key waits for."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from rich.table import Table
from textual.strip import Strip

from loopscope.tui.screens.watch import WatchScreen
from loopscope.tui.screens.watch_modals import WatchHelpScreen, help_text_width
from loopscope.tui.watch_app import make_watch_app
from loopscope.widgets.prerendered_text import PrerenderedText
from loopscope.widgets.watch_detail import WatchDetail
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until
from tests.watch_fake import FakeFeed, batch, count_drawn_rows, fake_session, many_tasks


async def test_a_quiet_screen_repaints_neither_the_list_nor_the_detail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The border titles were set on every 10 Hz pull, and each assignment repaints the
    whole widget: the list's 50 rows and the detail, ten times a second, for nothing."""
    app = make_watch_app(fake_session(feed=FakeFeed(tasks=many_tasks(500), with_events=False)))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        tasks = screen.query_one(WatchTaskList)
        detail = screen.query_one(WatchDetail)
        await until(pilot, lambda: tasks.row_count == 500)
        repaints: list[str] = []
        for widget in (tasks, detail):
            original = widget.refresh

            def counting(*args: object, _name: str = type(widget).__name__,
                         _original: object = original, **kwargs: object) -> object:
                repaints.append(_name)
                return _original(*args, **kwargs)  # type: ignore[operator]

            monkeypatch.setattr(widget, "refresh", counting)
        store = app.session.store
        for _ in range(5):  # changes below the screen: five pulls with something to take in
            offscreen = [dataclasses.replace(store.tasks[i], steps=7) for i in range(300, 310)]
            store.apply_message(batch(offscreen))
            await until(pilot, lambda: tasks.synced_version == store.version)
        assert repaints == []
        assert tasks.border_title == "Tasks 500"


async def test_a_changed_row_redraws_its_own_line_only(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_watch_app(fake_session(feed=FakeFeed(tasks=many_tasks(500), with_events=False)))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 500)
        await pilot.pause(0.2)
        lines: list[int] = []
        original = tasks.render_line

        def counting(y: int) -> Strip:
            lines.append(y)
            return original(y)

        monkeypatch.setattr(tasks, "render_line", counting)
        store = app.session.store
        store.apply_message(batch([dataclasses.replace(store.tasks[5], steps=42)]))
        row_line = tasks.rows.index(5) + 1 - tasks.scroll_offset.y  # under the header
        await until(pilot, lambda: row_line in lines)
        await pilot.pause(0.2)
        assert set(lines) == {row_line}


async def test_help_opened_again_is_the_one_built_the_first_time() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        await pilot.press("question_mark")
        first = app.screen
        assert isinstance(first, WatchHelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, WatchScreen)
        await pilot.press("s")  # the watch screen's keys are its own again
        assert tasks.sort_key == "name"
        await pilot.press("question_mark")
        again: object = app.screen
        assert again is first
        assert first.query_one("#watch-help-body").border_title == "loopscope watch: keys"
        await pilot.press("question_mark")  # ? closes it too
        assert isinstance(app.screen, WatchScreen)


async def test_the_filter_box_opening_redraws_only_the_cursor_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Focus moving to the filter box restyles the list (its border): every visible row was
    drawn again for it (tens of ms at the key); only the cursor's row looks different."""
    app = make_watch_app(fake_session(feed=FakeFeed(tasks=many_tasks(500), with_events=False)))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 500)
        await pilot.pause(0.2)
        drawn = count_drawn_rows(monkeypatch, tasks)
        await pilot.press("slash")
        await pilot.pause(0.2)
        assert drawn == [tasks.selected_id]
        drawn.clear()
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        visible = tasks.size.height - 1  # the header is the first line
        await until(pilot, lambda: len(set(drawn)) >= visible)  # new colours: every row anew


@pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["160x50", "80x24"])
async def test_the_first_help_shows_text_rendered_before_the_key(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int],
) -> None:
    """The help screen was composed and its key table (every binding, wrapped) rendered when
    ``?`` was first pressed: the first opening's wait, 100-130 ms at 100,000 tasks
    (bench/key_latency.py). The watch screen builds both after its first frame; the key only
    shows them, with the text rendered for that width."""
    app = make_watch_app(fake_session())
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        await until(pilot, lambda: screen.help_text.has(help_text_width(app.size)))
        await until(pilot, lambda: app.is_screen_installed("watch-help")
                    and bool(app.get_screen("watch-help").query(PrerenderedText)))
        composed: list[object] = []
        original_compose = WatchHelpScreen.compose

        def counting_compose(help_screen: WatchHelpScreen) -> Any:
            composed.append(help_screen)
            return original_compose(help_screen)

        monkeypatch.setattr(WatchHelpScreen, "compose", counting_compose)
        tables_rendered: list[Table] = []
        original = Table.__rich_console__

        def counting(table: Table, *args: Any) -> Any:
            tables_rendered.append(table)
            return original(table, *args)

        monkeypatch.setattr(Table, "__rich_console__", counting)
        await pilot.press("question_mark")
        assert isinstance(app.screen, WatchHelpScreen)
        await pilot.pause()
        help_body = app.screen.query_one(PrerenderedText)
        assert help_body.size.width == help_text_width(app.size)
        assert "cancel the selected task in the watched program" in help_body.text
        assert "waits at / outcome" in help_body.text  # the columns' meanings, under the keys
        assert tables_rendered == []
        assert composed == []
