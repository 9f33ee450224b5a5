"""``n``/``N`` on the watch screen: after a ``/`` filter, the next and previous match, as on the
dashboard's task list. In the tree a filter keeps each match under its ancestors, and ``n``
skips those. Driven through the real screen on the fake feed (the tiny crawler's tasks)."""

from __future__ import annotations

from textual.widgets import Footer

from loopscope.tui.screens.watch_modals import WatchHelpScreen
from loopscope.tui.watch_app import make_watch_app
from loopscope.widgets.prerendered_text import PrerenderedText
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until
from tests.watch_fake import fake_session


def footer_keys(app: object) -> str:
    footer = app.screen.query_one(Footer)  # type: ignore[attr-defined]
    return " ".join(str(key.render()) for key in footer.children)


async def test_n_and_N_walk_the_matches_of_the_filter_and_wrap() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        await pilot.press("n")  # no filter: n is not the list's, nothing moves
        assert tasks.selected_id == 1
        assert "next" not in footer_keys(app)

        await pilot.press("slash", *"fetch", "enter")
        assert tasks.rows == [5, 6, 8]
        assert tasks.selected_id == 5
        await pilot.pause(0.1)
        assert "n next" in footer_keys(app).replace("  ", " ")
        await pilot.press("n")
        assert tasks.selected_id == 6
        await pilot.press("n", "n")  # past the last match: back to the first
        assert tasks.selected_id == 5
        await pilot.press("N")
        assert tasks.selected_id == 8


async def test_in_the_tree_a_filter_keeps_the_ancestors_and_n_skips_them() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        await pilot.press("t", "slash", *"fetch", "enter")
        # robots and broken-page under worker-0 under main; sitemap under worker-2
        assert tasks.rows == [1, 2, 5, 6, 4, 8]
        assert tasks.selected_id == 1
        await pilot.press("n")
        assert tasks.selected_id == 5
        await pilot.press("n", "n")
        assert tasks.selected_id == 8
        await pilot.press("n")
        assert tasks.selected_id == 5
        await pilot.press("N")
        assert tasks.selected_id == 8
        await pilot.press("escape")  # the filter cleared: the whole tree, n inactive
        assert tasks.row_count == 8
        await pilot.press("n")
        assert tasks.selected_id == 8


async def test_a_filter_with_no_match_says_so_on_n() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == 8)
        await pilot.press("slash", *"nothing-like-this", "enter", "n")
        assert tasks.row_count == 0
        await pilot.pause(0.1)
        assert any("no task matches 'nothing-like-this'" in said for said in app.said)


async def test_help_lists_n_and_N() -> None:
    app = make_watch_app(fake_session())
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.screen.query_one(WatchTaskList).row_count == 8)
        await pilot.press("question_mark")
        assert isinstance(app.screen, WatchHelpScreen)
        lines = app.screen.query_one(PrerenderedText).text.splitlines()
        assert any(line.startswith("n ") and "the next matching task" in line for line in lines)
        assert any(line.startswith("N ") and "the previous matching" in line for line in lines)
