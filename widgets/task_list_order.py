"""The order of the dashboard's task list: sorting by a column, finding text (``/``, ``n``,
``N``), and placing changed tasks in or out of a state filter.

Kept apart from the widget (which draws rows and moves the cursor) so the rules read on their
own. A re-sort of 100,000 rows costs tens of milliseconds: the widget decides when to pay it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence

from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.widgets.task_columns import SORTABLE, cell_text, sort_key


def sorted_ids(ids: Sequence[int], records: Mapping[int, TaskRecord], column: str,
               reverse: bool, now: float) -> list[int]:
    """``ids`` in the order of ``column`` (its natural order, or reversed)."""
    key = sort_key(column, now)
    return sorted(ids, key=lambda i: key(records[i]), reverse=reverse)


def find_row(rows: Sequence[int], records: Mapping[int, TaskRecord], text: str, *,
             step: int, from_row: int, now: float) -> int | None:
    """The index of the next (``step`` 1) or previous (-1) row after ``from_row`` with a cell
    containing ``text`` (any case), wrapping around; None when no row has one."""
    needle = text.casefold()
    count = len(rows)
    for offset in range(1, count + 1):
        index = (from_row + step * offset) % count
        record = records.get(rows[index])
        if record is not None and any(
            needle in cell_text(record, key, now).casefold() for key in SORTABLE
        ):
            return index
    return None


def place_changed(ids: list[int], changed: Iterable[int], max_id: int,
                  state: TaskState | None,
                  get: Callable[[int], TaskRecord | None]) -> tuple[list[int], bool]:
    """Tasks new since the last sync (returned, in the order they changed: ids above
    ``max_id``), and whether a known task entered or left the ``state`` filter (``ids``, the
    sorted filtered ids, is updated in place)."""
    new_ids: list[int] = []
    moved = False
    for task_id in changed:
        if task_id > max_id:
            new_ids.append(task_id)
            continue
        if state is None:
            continue
        record = get(task_id)
        if record is None:
            continue
        index = bisect.bisect_left(ids, task_id)
        present = index < len(ids) and ids[index] == task_id
        if record.state is state and not present:
            ids.insert(index, task_id)
            moved = True
        elif record.state is not state and present:
            del ids[index]
            moved = True
    return new_ids, moved
