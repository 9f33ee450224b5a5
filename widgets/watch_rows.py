"""Which watched tasks the list shows, in what order: the sort, the filter, the tree, the
next match for ``n``/``N``.

Pure functions over the store's snapshots, kept apart from the widget (which draws and moves
the cursor) so the rules can be read and tested on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Reversible, Sequence
from operator import attrgetter

from loopscope.tasks.agent.model import TaskSnapshot
from loopscope.widgets.watch_columns import COLUMNS, matches


def flat_rows(tasks: Mapping[int, TaskSnapshot], sort_key: str, reverse: bool,
              needle: str) -> list[int]:
    """The ids of the tasks that match ``needle``, sorted by the column ``sort_key``."""
    if sort_key == "id":
        ids = sorted(tasks, reverse=reverse)
        return [i for i in ids if matches(tasks[i], needle)] if needle else ids
    chosen = [t for t in tasks.values() if matches(t, needle)] if needle else list(tasks.values())
    # Two sorts with C-level keys beat one sort on (key, id) tuples (100,000 rows: the screen
    # waits for this when a key asks for another order): by id, then stably by the column,
    # so equal rows stay in id order either way round.
    chosen.sort(key=_BY_ID)
    chosen.sort(key=COLUMNS[sort_key].sort, reverse=reverse)
    return [t.id for t in chosen]


_BY_ID = attrgetter("id")


def tree_rows(tasks: Mapping[int, TaskSnapshot], children: Mapping[int | None, Reversible[int]],
              needle: str) -> tuple[list[int], dict[int, int], set[int]]:
    """Depth-first from the root tasks (a task whose parent was forgotten is a root): the
    rows, each row's depth, and the context rows. With a filter the tree keeps its shape: a
    match is shown under its ancestors, which are context (shown, but not matches)."""
    keep: set[int] | None = None
    context: set[int] = set()
    if needle:
        matched = {i for i, task in tasks.items() if matches(task, needle)}
        keep = set(matched)
        for task_id in matched:
            parent = tasks[task_id].parent
            while parent is not None and parent in tasks and parent not in keep:
                keep.add(parent)
                context.add(parent)
                parent = tasks[parent].parent
    roots = [i for i in sorted(tasks) if tasks[i].parent not in tasks]
    rows: list[int] = []
    depth: dict[int, int] = {}
    stack: list[tuple[int, int]] = [(i, 0) for i in reversed(roots)]
    while stack:
        task_id, level = stack.pop()
        if task_id not in tasks or (keep is not None and task_id not in keep):
            continue
        rows.append(task_id)
        depth[task_id] = level
        kids = children.get(task_id, ())
        stack.extend((kid, level + 1) for kid in reversed(kids))
    return rows, depth, context


def next_match(rows: Sequence[int], start: int, step: int,
               is_match: Callable[[int], bool]) -> int | None:
    """The index of the next (``step`` 1) or previous (-1) row after ``start`` that is a
    match, wrapping around; None when no row is."""
    count = len(rows)
    for offset in range(1, count + 1):
        index = (start + step * offset) % count
        if is_match(rows[index]):
            return index
    return None
