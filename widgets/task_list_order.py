"""The order of the dashboard's task list: sorting by a column, and finding text (``/``,
``n``, ``N``).

Kept apart from the widget (which draws rows and moves the cursor) so the rules read on their
own. A re-sort of 100,000 rows costs tens of milliseconds: the widget decides when to pay it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loopscope.tasks.records import TaskRecord
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
