"""The flat list's order kept up to date change by change: always the order a full sort gives
(``flat_rows``), whatever arrives, changes, goes, or however the user sorts and filters."""

from __future__ import annotations

import dataclasses
import random

import pytest

from loopscope.tasks.agent.model import TaskSnapshot, TaskState
from loopscope.widgets import watch_column_index, watch_order
from loopscope.widgets.watch_column_index import INDEXED, ColumnIndex, ColumnIndexes
from loopscope.widgets.watch_columns import (
    COLUMNS,
    DESCENDING,
    SORT_ORDER,
    location,
    remember_locations,
    sort_keys,
)
from loopscope.widgets.watch_order import FlatOrder
from loopscope.widgets.watch_rows import flat_rows
from tests.watch_fake import at, task

STATES = ["pending", "ready", "running", "suspended", "done", "exception", "cancelled"]
LINES = [(19, "fetch"), (25, "worker"), (27, "worker"), (41, "main")]


def random_task(rng: random.Random, task_id: int) -> TaskSnapshot:
    """Few distinct values per column, so equal keys (ordered by id) are common."""
    state = rng.choice(STATES)
    line, function = rng.choice(LINES)
    return task(
        task_id, f"{rng.choice(['Worker', 'fetch', 'main'])}-{rng.randrange(5)}",
        rng.choice(["worker", "fetch"]), state, None, at(37, "main"),
        busy=rng.choice([0.0, 0.001, 0.25, 3.0]), scheduled=rng.choice([0.0, 0.5]),
        idle=rng.choice([0.0, 1.0, 2.5]), steps=rng.randrange(4),
        longest=rng.choice([0.0, 0.1]), chain=(at(line, function),),
        awaiting=rng.choice([None, "sleep(1)", "Queue.get()"]),
        result="'ok'" if state == "done" and rng.random() < 0.5 else None,
    )


def churn(rng: random.Random, tasks: dict[int, TaskSnapshot], next_id: int,
          size: int) -> tuple[list[int], int]:
    """``size`` random events: a new task, a changed one, or one forgotten."""
    changed = []
    for _ in range(size):
        roll = rng.random()
        if roll < 0.3 or not tasks:
            tasks[next_id] = random_task(rng, next_id)
            changed.append(next_id)
            next_id += 1
        elif roll < 0.85:
            task_id = rng.choice(list(tasks))
            tasks[task_id] = dataclasses.replace(
                random_task(rng, task_id), name=tasks[task_id].name
                if rng.random() < 0.5 else f"renamed-{rng.randrange(3)}")
            changed.append(task_id)
        else:
            task_id = rng.choice(list(tasks))
            del tasks[task_id]
            changed.append(task_id)
    return changed, next_id


@pytest.mark.parametrize("column", SORT_ORDER)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("needle", ["", "work", "worker.py:25"])
def test_changes_moved_row_by_row_give_the_order_of_a_full_sort(
    column: str, reverse: bool, needle: str,
) -> None:
    rng = random.Random(f"{column}{reverse}{needle}")
    tasks = {i: random_task(rng, i) for i in range(1, 200)}
    order = FlatOrder()
    order.reset(tasks, column, reverse, needle)
    assert order.rows == flat_rows(tasks, column, reverse, needle)
    next_id = 200
    for _ in range(60):
        changed, next_id = churn(rng, tasks, next_id, rng.randrange(1, 12))
        order.update(tasks, changed)
        assert order.rows == flat_rows(tasks, column, reverse, needle)


def test_a_large_batch_is_re_sorted_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_order, "MOVE_AT_MOST", 5)
    rng = random.Random(7)
    tasks = {i: random_task(rng, i) for i in range(1, 300)}
    order = FlatOrder()
    order.reset(tasks, "busy", True, "")
    next_id = 300
    for _ in range(20):
        changed, next_id = churn(rng, tasks, next_id, 40)
        order.update(tasks, changed)
        assert order.rows == flat_rows(tasks, "busy", True, "")


def test_update_says_whether_the_rows_changed() -> None:
    rng = random.Random(3)
    tasks = {i: random_task(rng, i) for i in range(1, 50)}
    order = FlatOrder()
    order.reset(tasks, "idle", True, "")
    top = order.rows[0]
    tasks[top] = dataclasses.replace(tasks[top], name="the same place")
    assert not order.update(tasks, [top])  # a new snapshot, the same key: nothing moves
    last = order.rows[-1]
    tasks[last] = dataclasses.replace(tasks[last], idle_s=99.0)
    assert order.update(tasks, [last])
    assert order.rows[0] == last


def test_reversing_narrowing_and_widening_the_filter_and_another_column() -> None:
    """Each way the user changes the view gives a full sort's order, also when changes were
    taken in between (some handed to ``reset`` itself, as the list does with held-back ones)."""
    rng = random.Random(11)
    tasks = {i: random_task(rng, i) for i in range(1, 400)}
    order = FlatOrder()
    next_id = 400
    views = [("busy", True, ""), ("busy", False, ""), ("busy", False, "w"),
             ("busy", False, "wor"), ("busy", True, "worker"), ("busy", True, "wo"),
             ("where", False, "wo"), ("where", False, ""), ("name", False, "fetch"),
             ("id", True, ""), ("id", False, "")]
    for column, reverse, needle in views:
        changed, next_id = churn(rng, tasks, next_id, 15)
        order.reset(tasks, column, reverse, needle, changed=changed)
        assert order.rows == flat_rows(tasks, column, reverse, needle), (column, reverse, needle)
        changed, next_id = churn(rng, tasks, next_id, 15)
        order.update(tasks, changed)
        assert order.rows == flat_rows(tasks, column, reverse, needle), (column, reverse, needle)


def test_a_narrower_filter_reuses_the_keys_it_has() -> None:
    """Typing on in the filter box sorts the rows it shows, no key is built again."""
    rng = random.Random(5)
    tasks = {i: random_task(rng, i) for i in range(1, 100)}
    order = FlatOrder()
    order.reset(tasks, "where", False, "w")
    built: list[int] = []
    column = COLUMNS["where"]

    def spy(snapshot: TaskSnapshot) -> object:
        built.append(snapshot.id)
        return column.sort(snapshot)

    COLUMNS["where"] = dataclasses.replace(column, sort=spy)
    try:
        order.reset(tasks, "where", False, "wor")
        order.reset(tasks, "where", True, "wor")
    finally:
        COLUMNS["where"] = column
    assert built == []
    assert order.rows == flat_rows(tasks, "where", True, "wor")


def test_an_order_forgotten_is_built_anew() -> None:
    """The list forgets the order while it shows the tree (changes are not taken in then)."""
    rng = random.Random(9)
    tasks = {i: random_task(rng, i) for i in range(1, 60)}
    order = FlatOrder()
    order.reset(tasks, "steps", True, "")
    order.forget()
    for task_id in list(tasks)[:30]:
        tasks[task_id] = dataclasses.replace(tasks[task_id], steps=100 + task_id,
                                             state=TaskState.RUNNING)
    order.reset(tasks, "steps", True, "")
    assert order.rows == flat_rows(tasks, "steps", True, "")


@pytest.mark.parametrize("column", SORT_ORDER)
def test_keys_built_in_bulk_are_the_columns_own(column: str) -> None:
    rng = random.Random(column)
    tasks = {i: random_task(rng, i) for i in range(1, 100)}
    expected = [COLUMNS[column].sort(t) for t in tasks.values()]
    assert list(sort_keys(column, tasks)) == expected
    assert list(sort_keys(column, tasks)) == expected  # the location texts remembered now


def test_remembered_locations_follow_each_new_snapshot() -> None:
    rng = random.Random(17)
    tasks = {i: random_task(rng, i) for i in range(1, 30)}
    remember_locations(tasks, list(tasks))
    tasks[4] = dataclasses.replace(tasks[4], state=TaskState.DONE, result="'new'")
    del tasks[5]
    remember_locations(tasks, [4, 5])
    assert list(sort_keys("where", tasks)) == [location(t) for t in tasks.values()]
    assert "→ 'new'" in list(sort_keys("where", {4: tasks[4]}))


def test_index_finds_a_row_by_binary_search() -> None:
    rng = random.Random(13)
    tasks = {i: random_task(rng, i) for i in range(1, 120)}
    order = FlatOrder()
    order.reset(tasks, "where", True, "worker")
    for place, task_id in enumerate(order.rows):
        assert order.index(task_id) == place
    hidden = next(i for i in tasks if i not in order.rows)
    assert order.index(hidden) is None


def test_locations_of_snapshots_not_yet_remembered_are_built_in_place() -> None:
    """A key can come between a batch and the next pull: the few changed tasks' texts are
    built then, and every row still gets its own."""
    rng = random.Random(19)
    tasks = {i: random_task(rng, i) for i in range(1, 40)}
    remember_locations(tasks, list(tasks))
    for task_id in (3, 17, 39):
        tasks[task_id] = dataclasses.replace(tasks[task_id], state=TaskState.DONE,
                                             result=f"'{task_id}'")
    assert list(sort_keys("where", tasks)) == [location(t) for t in tasks.values()]


def caught_up(index: ColumnIndex, tasks: dict[int, TaskSnapshot]) -> list[int]:
    assert index.catch_up(tasks)
    return list(index.rows())


@pytest.mark.parametrize("column", INDEXED)
def test_each_column_index_keeps_the_order_of_a_full_sort(column: str) -> None:
    """Every column kept in its natural order as rows come, change and go, caught up row by
    row or sorted anew when far behind: always what a full sort of the tasks gives (equal
    keys by id), and each row found where it is."""
    rng = random.Random(f"index-{column}")
    tasks = {i: random_task(rng, i) for i in range(1, 150)}
    index = ColumnIndex(column)
    index.note(tasks)
    reverse = column in DESCENDING
    assert caught_up(index, tasks) == flat_rows(tasks, column, reverse, "")
    next_id = 150
    for size in [rng.randrange(1, 40) for _ in range(80)] + [400, 3]:
        changed, next_id = churn(rng, tasks, next_id, size)
        index.note(changed)
        expected = flat_rows(tasks, column, reverse, "")
        assert caught_up(index, tasks) == expected
        assert len(index) == len(expected)
        for place in rng.sample(range(len(expected)), min(10, len(expected))):
            assert index.position(expected[place]) == place
    gone = next(i for i in range(1, next_id) if i not in tasks)
    assert index.position(gone) is None


def test_column_index_chunks_split_and_empty_as_rows_come_and_go(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks, so rows cross chunk boundaries: many equal keys (ties by id across
    chunks), the same key arriving again, every row removed and new ones placed."""
    monkeypatch.setattr(watch_column_index, "LOAD", 2)
    monkeypatch.setattr(watch_column_index, "SMALL", 10_000)  # never sorted anew
    rng = random.Random(23)
    tasks: dict[int, TaskSnapshot] = {}
    indexes = {column: ColumnIndex(column) for column in INDEXED}
    for index in indexes.values():
        index.rebuild(tasks)
    next_id = 1
    for _ in range(120):
        changed, next_id = churn(rng, tasks, next_id, rng.randrange(1, 6))
        for column, index in indexes.items():
            index.note(changed)
            assert caught_up(index, tasks) == flat_rows(
                tasks, column, column in DESCENDING, ""), column
    ids = list(tasks)
    tasks.clear()
    for index in indexes.values():
        index.note(ids)
        assert caught_up(index, tasks) == []
        assert len(index) == 0
    tasks.update({i: random_task(rng, i) for i in range(500, 520)})
    indexes["name"].note(tasks)
    assert caught_up(indexes["name"], tasks) == flat_rows(tasks, "name", False, "")


def test_the_columns_not_shown_catch_up_a_piece_at_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``work`` does one piece of at most its budget (the clock says when it is spent),
    leaves the column shown alone, sorts columns anew only once the stream is calm, and
    each column, once caught up, has a full sort's order."""
    monkeypatch.setattr(watch_column_index, "RUN", 200)
    rng = random.Random(31)
    tasks = {i: random_task(rng, i) for i in range(1, 3_001)}
    ticks = iter(range(10_000_000))
    indexes = ColumnIndexes(budget_s=20.0, clock=lambda: float(next(ticks)))
    indexes.note(tasks, len(tasks))
    assert indexes.work(tasks, shown="busy", calm=False)  # a stream's batches: work left
    assert not any(index.built or index.building for index in indexes.indexes.values())
    assert indexes.work(tasks, shown="busy", calm=True)  # one piece, the budget spent
    assert not all(index.built for column, index in indexes.indexes.items() if column != "busy")
    pieces = 1
    while indexes.work(tasks, shown="busy", calm=True):
        pieces += 1
        assert pieces < 1_000
    changed, _ = churn(rng, tasks, 3_001, 600)
    indexes.note(changed, len(tasks))
    assert indexes.work(tasks, shown="busy", calm=True)  # stopped on the clock
    while indexes.work(tasks, shown="busy", calm=True):
        pass
    for column, index in indexes.indexes.items():
        if column != "busy":
            assert index.pending == 0
            assert index.rows() == flat_rows(tasks, column, column in DESCENDING, "")
    assert indexes.indexes["busy"].pending  # the list catches the shown one up itself
    ready = indexes.ready("busy", tasks)
    assert ready is not None
    assert ready.rows() == flat_rows(tasks, "busy", True, "")


@pytest.mark.parametrize("column", INDEXED)
def test_a_build_in_pieces_takes_in_what_changed_meanwhile(
        column: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows new, changed and forgotten between the pieces of a build (before and after the
    piece that sorted them) are in their places once it is done; a build asked for at once
    (``ready``) finishes it in one go."""
    monkeypatch.setattr(watch_column_index, "RUN", 50)
    monkeypatch.setattr(watch_column_index, "LOAD", 8)
    rng = random.Random(f"build-{column}")
    tasks = {i: random_task(rng, i) for i in range(1, 400)}
    reverse = column in DESCENDING
    for finish_at in (None, 4, 12):  # never, while sorting runs, while merging them
        index = ColumnIndex(column)
        next_id = 1_000
        steps = 0
        while not index.build_step(tasks):
            changed, next_id = churn(rng, tasks, next_id, 6)
            index.note(changed)
            steps += 1
            if steps == finish_at:
                assert index.building
                indexes = ColumnIndexes()
                indexes.indexes[column] = index
                assert indexes.ready(column, tasks) is index
                break
        assert not index.building
        assert caught_up(index, tasks) == flat_rows(tasks, column, reverse, "")


@pytest.mark.parametrize("column", SORT_ORDER)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("needle", ["", "work"])
def test_an_order_on_column_indexes_gives_the_order_of_a_full_sort(
    column: str, reverse: bool, needle: str,
) -> None:
    """The list's order with every column indexed: rows from the index in a column's
    natural order, sorted as before otherwise, the same either way; and moving between
    columns, directions and filters while changes arrive."""
    rng = random.Random(f"indexed-{column}{reverse}{needle}")
    tasks = {i: random_task(rng, i) for i in range(1, 200)}
    order = FlatOrder(ColumnIndexes())
    order.reset(tasks, column, reverse, needle)
    assert order.indexed == (column in INDEXED and reverse == (column in DESCENDING)
                             and not needle)
    assert order.rows == flat_rows(tasks, column, reverse, needle)
    next_id = 200
    for step in range(40):
        changed, next_id = churn(rng, tasks, next_id, rng.randrange(1, 12))
        if step % 10 == 9:  # another view meanwhile, with changes handed to reset
            other = SORT_ORDER[(SORT_ORDER.index(column) + step) % len(SORT_ORDER)]
            order.reset(tasks, other, other in DESCENDING, "", changed=changed)
            assert order.rows == flat_rows(tasks, other, other in DESCENDING, "")
            changed, next_id = churn(rng, tasks, next_id, 5)
            order.reset(tasks, column, reverse, needle, changed=changed)
        else:
            order.update(tasks, changed)
        rows = flat_rows(tasks, column, reverse, needle)
        assert order.rows == rows
        for place in rng.sample(range(len(rows)), min(5, len(rows))):
            assert order.index(rows[place]) == place


def test_an_indexed_order_says_when_its_rows_changed() -> None:
    rng = random.Random(29)
    tasks = {i: random_task(rng, i) for i in range(1, 50)}
    order = FlatOrder(ColumnIndexes())
    order.reset(tasks, "idle", True, "")
    assert order.indexed
    top = order.rows[0]
    tasks[top] = dataclasses.replace(tasks[top], name="the same place")
    assert not order.update(tasks, [top])  # only the name's order changed, not this one
    last = order.rows[-1]
    tasks[last] = dataclasses.replace(tasks[last], idle_s=99.0)
    assert order.update(tasks, [last])
    assert order.rows[0] == last


def test_a_column_index_is_read_through_its_chunks_like_a_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the list reads from the rows (a row by place, slices across chunks, a row's
    place, iteration) is what the same rows as a list give, and it follows the index."""
    monkeypatch.setattr(watch_column_index, "LOAD", 4)
    rng = random.Random(37)
    tasks = {i: random_task(rng, i) for i in range(1, 60)}
    index = ColumnIndex("idle")
    index.rebuild(tasks)
    rows = index.rows()
    expected = flat_rows(tasks, "idle", True, "")
    assert list(rows) == expected
    assert len(rows) == len(expected)
    assert [rows[i] for i in range(-3, len(expected))] == expected[-3:] + expected
    for start, stop in [(0, 5), (3, 11), (7, 8), (50, 70), (10, 3), (0, 1_000)]:
        assert rows[start:stop] == expected[start:stop]
    assert rows[1:20:3] == expected[1:20:3]
    assert all(rows.index(task_id) == place for place, task_id in enumerate(expected))
    with pytest.raises(IndexError):
        rows[len(expected)]
    changed, _ = churn(rng, tasks, 60, 10)
    index.note(changed)
    index.catch_up(tasks)
    assert rows == flat_rows(tasks, "idle", True, "")  # the same view, following
    gone = next(i for i in range(1, 70) if i not in tasks)
    with pytest.raises(ValueError, match="not shown"):
        rows.index(gone)


def test_below_start_at_the_orders_are_not_kept_and_nothing_piles_up() -> None:
    """Few tasks: nothing noted (it would pile up, nothing takes it in), no index offered,
    the list sorts as before; more tasks: the columns are kept; fewer again: dropped, and
    the order shown stays a full sort's throughout."""
    rng = random.Random(43)
    tasks = {i: random_task(rng, i) for i in range(1, 40)}
    indexes = ColumnIndexes(start_at=100)
    order = FlatOrder(indexes)
    order.reset(tasks, "busy", True, "")
    assert not order.indexed
    next_id = 40
    sizes = []
    for size in [60] * 8 + [-40] * 4 + [10] * 3:
        if size > 0:
            changed, next_id = churn(rng, tasks, next_id, size)
        else:
            changed = rng.sample(list(tasks), min(-size, len(tasks) - 60))
            for task_id in changed:
                del tasks[task_id]
        order.update(tasks, changed)
        sizes.append((len(tasks), order.indexed))
        assert order.rows == flat_rows(tasks, "busy", True, "")
        if len(tasks) < 100:
            assert all(index.pending == 0 and len(index) == 0
                       for index in indexes.indexes.values())
            assert indexes.ready("busy", tasks) is None
        order.reset(tasks, "busy", True, "")  # as a key would: the index, once there is one
        assert order.rows == flat_rows(tasks, "busy", True, "")
    assert any(indexed for _, indexed in sizes)
    assert not sizes[-1][1]
