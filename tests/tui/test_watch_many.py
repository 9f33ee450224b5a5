"""The watch screen with many tasks: it draws only what is on screen and only what changed,
and its keys work on 20,000 rows. (``python -m bench.watch_screen`` times 100,000.)"""

from __future__ import annotations

import dataclasses
import random

import pytest

from loopscope.tui.watch_app import make_watch_app
from loopscope.widgets import watch_order
from loopscope.widgets.watch_columns import DESCENDING, SORT_ORDER
from loopscope.widgets.watch_rows import flat_rows
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until
from tests.watch_fake import FakeFeed, batch, count_drawn_rows, fake_session, many_tasks

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
        drawn = count_drawn_rows(monkeypatch, tasks)
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


async def test_s_walks_the_columns_in_a_full_sorts_order_while_rows_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With many tasks every column is kept in order in the background: whatever ``s``
    lands on (ready or not yet), the rows are what a full sort gives, changes included."""
    monkeypatch.setattr(watch_order, "KEEP_FROM", 10_000)  # kept from here on
    rng = random.Random(41)
    rows = [dataclasses.replace(task, busy_s=rng.choice([0.0, 0.002, 0.5]),
                                idle_s=rng.random(), steps=rng.randrange(4),
                                name=f"sleeper-{rng.randrange(500)}")
            for task in many_tasks(COUNT)]
    app = make_watch_app(fake_session(feed=FakeFeed(tasks=rows, with_events=False)))
    async with app.run_test(size=(160, 50)) as pilot:
        tasks = app.screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == COUNT)
        store = app.session.store
        for step in range(len(SORT_ORDER) + 1):
            changed = [dataclasses.replace(store.tasks[i], steps=step + rng.randrange(3),
                                           busy_s=rng.random())
                       for i in rng.sample(range(1, COUNT + 1), 300)]
            store.apply_message(batch(changed))
            await until(pilot, lambda: tasks.synced_version == store.version)
            await pilot.press("s")
            key, reverse = tasks.sort_key, tasks.sort_reverse
            assert reverse == (key in DESCENDING)
            assert list(tasks.rows) == flat_rows(store.tasks, key, reverse, ""), key
            assert tasks._order.indexed == (key != "id")  # noqa: SLF001 - from the index
            await pilot.pause(0.1)  # the background work meanwhile
