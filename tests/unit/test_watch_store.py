"""The watch screen's store: counts by state, children and the change log stay true to the
agent's batches, whatever they hold."""

from __future__ import annotations

import dataclasses

from loopscope.tasks.agent.model import TaskState
from loopscope.tasks.watch.store import WatchStore
from tests.watch_fake import batch, crawler_tasks


def consistent(store: WatchStore) -> bool:
    counted = sum(store.counts.values()) == len(store.tasks)
    by_state = all(
        store.counts[state] == sum(1 for t in store.tasks.values() if t.state is state)
        for state in TaskState
    )
    kids = sorted(i for ids in store.children.values() for i in ids) == sorted(store.tasks)
    return counted and by_state and kids


def test_a_task_created_and_let_go_of_in_one_batch() -> None:
    store = WatchStore()
    tasks = crawler_tasks()
    store.apply_message(batch(tasks[:4], full=True))
    brief = dataclasses.replace(tasks[4], id=99)
    store.apply_message(batch([brief, tasks[5]], gone=[99]))  # used to raise KeyError
    assert 99 not in store.tasks
    assert 6 in store.tasks
    assert consistent(store)


def test_counts_follow_state_changes_gone_and_full_batches() -> None:
    store = WatchStore()
    tasks = crawler_tasks()
    store.apply_message(batch(tasks, full=True))
    assert consistent(store)
    assert store.counts[TaskState.SUSPENDED] == 3
    store.apply_message(batch([dataclasses.replace(tasks[1], state=TaskState.DONE)], gone=[7]))
    assert consistent(store)
    assert store.counts[TaskState.SUSPENDED] == 2
    version = store.version
    store.apply_message(batch(tasks[:2], full=True))  # a viewer that reconnects
    assert consistent(store)
    assert len(store.tasks) == 2
    _, changed = store.changes_since(version - 1)
    assert set(changed) >= set(range(1, 9))  # gone ones are reported as changed too


def test_duplicate_rows_in_one_batch_count_once() -> None:
    store = WatchStore()
    tasks = crawler_tasks()
    store.apply_message(batch([tasks[0], tasks[0], tasks[1]], full=True))
    assert consistent(store)
    assert len(store.tasks) == 2


def test_children_keep_their_order_as_siblings_are_let_go_of() -> None:
    # the index is an ordered set: letting go of one of many siblings is one step (a list's
    # remove searched, and 100,000 "gone" at a program's exit stalled the screen)
    store = WatchStore()
    parent = crawler_tasks()[0]
    kids = [dataclasses.replace(crawler_tasks()[1], id=n, parent=parent.id, name=f"k{n}")
            for n in range(100, 130)]
    store.apply_message(batch([parent, *kids], full=True))
    store.apply_message(batch([], gone=list(range(100, 130, 3))))
    assert list(store.children[parent.id]) == [n for n in range(100, 130) if n % 3 != 1]
    assert consistent(store)
