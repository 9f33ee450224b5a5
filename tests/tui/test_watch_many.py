"""The watch screen with many tasks: it draws only what is on screen and only what changed,
and its keys work on 20,000 rows. (``python -m bench.watch_screen`` times 100,000.)"""

from __future__ import annotations

import dataclasses

import pytest
from textual.strip import Strip

from loopscope.tasks.agent.model import TaskSnapshot
from loopscope.tui.watch_app import make_watch_app
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until
from tests.watch_fake import FakeFeed, batch, fake_session, many_tasks

COUNT = 20_000


async def test_many_tasks_redraw_only_visible_changes_and_keys_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed = FakeFeed(tasks=many_tasks(COUNT), with_events=False)
    app = make_watch_app(fake_session(feed=feed))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == COUNT)
        await pilot.pause(0.3)
        drawn: list[int] = []
        original = tasks._render_row  # noqa: SLF001 - counts the rows the list draws

        def counting(task: TaskSnapshot, width: int, is_cursor: bool, depth: int) -> Strip:
            drawn.append(task.id)
            return original(task, width, is_cursor, depth)

        monkeypatch.setattr(tasks, "_render_row", counting)
        store = app.session.store
        offscreen = [dataclasses.replace(store.tasks[i], steps=3) for i in range(10_000, 11_000)]
        store.apply_message(batch(offscreen))
        await until(pilot, lambda: tasks.synced_version == store.version)
        await pilot.pause(0.2)
        assert drawn == []  # 1,000 changes, none on screen: nothing redrawn

        visible = dataclasses.replace(store.tasks[3], steps=99)
        store.apply_message(batch([visible]))
        await until(pilot, lambda: 3 in drawn)
        assert len(set(drawn)) == 1  # only the row that changed

        await pilot.press("end")
        assert tasks.selected_id == COUNT
        await pilot.press("home", "down")
        assert tasks.selected_id == 2
        await pilot.press("slash", *"sleeper-1999", "enter")
        assert sorted(tasks.rows) == [1999, *range(19990, 20000)]
        await pilot.press("escape", "t")
        assert tasks.row_count == COUNT
        assert tasks.rows[:2] == [1, 2]
