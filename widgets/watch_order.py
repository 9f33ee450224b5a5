"""The flat task list's order, kept up to date change by change.

Sorting 100,000 rows costs the screen tens of milliseconds, and building every row's sort key
costs more (the location column's text above all): a key pressed meanwhile waits for both. So
the order remembers the sort key of every row it shows. A batch of changes moves only the
changed rows (a binary search takes each out, another puts it back); another direction or a
longer filter re-sorts the remembered keys; only another column builds the keys again.

Without a filter, in a column's natural order, the rows are those of the column's
``ColumnIndex`` (``watch_column_index``), which keeps every column in order as changes
arrive: moving to another column then lays out ids already in order, no keys are built and
nothing is sorted while the key waits.

The order is the one ``watch_rows.flat_rows`` defines: by the column (largest first when
reversed), equal rows by id either way round. Pure: no screen, tests read it on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from loopscope.tasks.agent.model import TaskSnapshot
from loopscope.widgets.watch_column_index import CALM, INDEXED, ColumnIndexes
from loopscope.widgets.watch_columns import COLUMNS, DESCENDING, matches, sort_keys

MOVE_AT_MOST = 300
"""Beyond this many changed rows a re-sort of the remembered keys is cheaper than moving each
(at 100,000 rows a move costs tens of microseconds, the re-sort about 20 ms)."""


class FlatOrder:
    """The ids of the tasks that match a filter, in the order of one column."""

    def __init__(self, indexes: ColumnIndexes | None = None) -> None:
        self.indexes = indexes
        """Every column kept in order (None: each order is built when asked for)."""
        self.column = "id"
        self.reverse = False
        self.needle = ""
        self.rows: Sequence[int] = []
        """The ids shown, in order (read only): a list sorted here, or a column index's
        rows (a live view of its chunks)."""
        self._list: list[int] = []
        """The rows sorted here (moved in place row by row)."""
        self._keys: dict[int, Any] = {}
        """The sort key of every row shown, as of the snapshot the row was placed with."""
        self._built = False
        self._indexed = False
        """The rows are a column index's (``indexes``), not sorted here."""
        self._seen = -1
        """The index's version the rows were taken at."""

    def __repr__(self) -> str:
        return (f"<FlatOrder by {self.column}{' reversed' if self.reverse else ''}"
                f" filter={self.needle!r} rows={len(self.rows)}>")

    def reset(self, tasks: Mapping[int, TaskSnapshot], column: str, reverse: bool,
              needle: str, changed: Iterable[int] = ()) -> None:
        """Order ``tasks`` by ``column``, taking in ``changed`` (tasks new, changed or
        forgotten since the last call). The keys are kept when only the direction changed or
        the filter grew longer (its matches are among the rows shown): a re-sort, no more.
        Without a filter, in the column's natural order, the rows are its index's."""
        changed = list(changed)
        self.take(tasks, changed)
        if self._indexable(column, reverse, needle) and self._from_index(tasks, column,
                                                                          fresh=True):
            self.column, self.reverse, self.needle = column, reverse, needle
            self._indexed, self._built, self._keys = True, False, {}
            return
        self._indexed = False
        reuse = self._built and column == self.column and self.needle in needle
        if not reuse:
            shown = {i: t for i, t in tasks.items() if matches(t, needle)} if needle else tasks
            # the id column's keys are the ids: no snapshot is read
            keys = shown if column == "id" else sort_keys(column, shown)
            self._keys = dict(zip(shown, keys, strict=True))
        else:
            self._take(tasks, changed)
            if needle != self.needle:
                keys = self._keys
                for task_id in [i for i in keys if not _shows(tasks.get(i), needle)]:
                    del keys[task_id]
            elif reverse == self.reverse and not changed:
                return
        self.column, self.reverse, self.needle = column, reverse, needle
        self._built = True
        self._sort()

    @property
    def indexed(self) -> bool:
        """The rows are kept in order by the column's index as changes arrive (``take``)."""
        return self._indexed

    def take(self, tasks: Mapping[int, TaskSnapshot], changed: Iterable[int]) -> None:
        """Note for every column's index the tasks in ``changed`` (new, changed or forgotten
        since the last call). Whatever is shown, every change must come through here (the
        tree view too: ``update`` and ``reset`` do it), or an index falls out of step."""
        if self.indexes is not None:
            self.indexes.note(changed, len(tasks))

    def work(self, tasks: Mapping[int, TaskSnapshot], *, calm: bool) -> bool:
        """A few milliseconds for the columns not shown (``ColumnIndexes.work``): True
        when work is left."""
        if self.indexes is None:
            return False
        return self.indexes.work(tasks, shown=self.column if self._indexed else None,
                                 calm=calm)

    @property
    def sorting(self) -> bool:
        """A column is being sorted anew in the background (``ColumnIndexes.sorting``)."""
        return self.indexes is not None and self.indexes.sorting

    def index(self, task_id: int) -> int | None:
        """Where the row of ``task_id`` is (a binary search), None when it is not shown."""
        if self._indexed:
            assert self.indexes is not None
            return self.indexes.indexes[self.column].position(task_id)
        key = self._keys.get(task_id, _MISSING)
        if key is _MISSING:
            return None
        at = self._position(key, task_id)
        return at if at < len(self.rows) and self.rows[at] == task_id else None

    def forget(self) -> None:
        """Build the order anew at the next ``reset`` (the rows were not kept up to date)."""
        self._built = False
        self._indexed = False

    def update(self, tasks: Mapping[int, TaskSnapshot], changed: Iterable[int]) -> bool:
        """Take in the tasks in ``changed`` (new, changed or forgotten): True when the rows
        or their order changed."""
        changed = list(dict.fromkeys(changed))
        self.take(tasks, changed)
        if self._indexed:
            if self._from_index(tasks, self.column):
                return True
            if self.indexes is not None and self.indexes.ready(self.column, tasks) is None:
                # the orders are no longer kept (fewer tasks): sorted here from now on
                self._indexed = False
                old = list(self.rows)
                self.reset(tasks, self.column, self.reverse, self.needle)
                return self.rows != old
            return False
        if len(changed) > MOVE_AT_MOST:
            return self._resort(tasks, changed)
        moved = False
        sort = COLUMNS[self.column].sort
        keys = self._keys
        rows = self._list
        needle = self.needle
        for task_id in changed:
            task = tasks.get(task_id)
            shown = _shows(task, needle)
            old = keys.get(task_id, _MISSING)
            if task is None or not shown:
                if old is not _MISSING:
                    del rows[self._position(old, task_id)]
                    del keys[task_id]
                    moved = True
                continue
            key = sort(task)
            if old is not _MISSING:
                if old == key:
                    continue
                at = self._position(old, task_id)
                keys[task_id] = key
                if self._in_place(at, key, task_id):
                    continue
                del rows[at]
            keys[task_id] = key
            rows.insert(self._position(key, task_id), task_id)
            moved = True
        return moved

    # --- internals ------------------------------------------------------------------------

    def _indexable(self, column: str, reverse: bool, needle: str) -> bool:
        """The view is a column in its natural order, unfiltered: its index's rows."""
        return (self.indexes is not None and not needle and column in INDEXED
                and reverse == (column in DESCENDING))

    def _from_index(self, tasks: Mapping[int, TaskSnapshot], column: str, *,
                    fresh: bool = False) -> bool:
        """The rows of ``column``'s index, caught up: True when they changed since last
        taken (``fresh``: True when the index is there to take them from)."""
        assert self.indexes is not None
        index = self.indexes.ready(column, tasks)
        if index is None:
            return False
        if fresh:
            self._seen = -1
        if index.version == self._seen:
            return False
        self._seen = index.version
        self.rows = index.rows()
        return True

    def _resort(self, tasks: Mapping[int, TaskSnapshot], changed: list[int]) -> bool:
        self._take(tasks, changed)
        old = self._list
        self._sort()
        return self._list != old

    def _take(self, tasks: Mapping[int, TaskSnapshot], changed: Iterable[int]) -> None:
        """The keys of the ``changed`` tasks (rows come and go with them), not yet sorted."""
        sort = COLUMNS[self.column].sort
        keys = self._keys
        needle = self.needle
        for task_id in changed:
            task = tasks.get(task_id)
            if task is not None and _shows(task, needle):
                keys[task_id] = sort(task)
            else:
                keys.pop(task_id, None)

    def _sort(self) -> None:
        # Two sorts with C-level keys beat one sort on (key, id) tuples: by id, then stably by
        # the column, so equal rows stay in id order either way round.
        keys = self._keys
        rows = sorted(keys)
        if self.column != "id":
            rows.sort(key=keys.__getitem__, reverse=self.reverse)
        elif self.reverse:
            rows.reverse()
        self.rows = self._list = rows

    def _position(self, key: Any, task_id: int) -> int:
        """Where the row (``key``, ``task_id``) is or belongs: the first row not before it."""
        rows, keys, reverse = self.rows, self._keys, self.reverse
        low, high = 0, len(rows)
        while low < high:
            middle = (low + high) // 2
            other = rows[middle]
            other_key = keys[other]
            if other_key == key:
                before = other < task_id
            else:
                before = other_key > key if reverse else other_key < key
            if before:
                low = middle + 1
            else:
                high = middle
        return low

    def _in_place(self, at: int, key: Any, task_id: int) -> bool:
        """The row at ``at`` (``task_id``, now ``key``) still sits between its neighbours."""
        rows, keys = self.rows, self._keys
        if at > 0 and not self._before(keys[rows[at - 1]], rows[at - 1], key, task_id):
            return False
        return at + 1 >= len(rows) or self._before(key, task_id, keys[rows[at + 1]],
                                                   rows[at + 1])

    def _before(self, key: Any, task_id: int, other_key: Any, other: int) -> bool:
        if key == other_key:
            return task_id < other
        return bool(key > other_key if self.reverse else key < other_key)


_MISSING = object()

KEEP_FROM = 25_000
"""From this many tasks the list keeps every column in order, so that ``s`` finds its next
column sorted (fewer rows sort in a few milliseconds when asked; a program of 100,000 short
tasks, whose finished ones the agent keeps 10,000 of, stays below it)."""
PAUSE_S = 0.02
"""The pause between two pieces of the columns' background work (each a few ms)."""
SORTING_PAUSE_S = 0.008
"""The pause while columns are sorted anew after a stream calmed down: each takes about a
second at 100,000 tasks with the longer pause, and the first ``s`` comes soon after."""


def kept_order() -> FlatOrder:
    """The list's order: every column kept in order from ``KEEP_FROM`` tasks on."""
    return FlatOrder(ColumnIndexes(start_at=KEEP_FROM))


class OrderUpkeep:
    """The pieces of background work that keep an order's columns in order: one after a
    pull, then another soon while work is left, a few milliseconds each, so that a key waits
    for a piece, never for a sort. ``later(delay, callback)`` runs a callback after a delay
    (the widget's timer)."""

    def __init__(self, order: FlatOrder, tasks: Mapping[int, TaskSnapshot],
                 later: Callable[[float, Callable[[], None]], object]) -> None:
        self.order = order
        self.tasks = tasks
        self.later = later
        self.calm = False
        """The last pull added few rows: the columns may be sorted anew meanwhile."""
        self._count = 0
        self._due = False

    def pulled(self) -> None:
        """A pull took in the changes: a piece now, unless one is due soon anyway."""
        indexes = self.order.indexes
        count = len(self.tasks)
        if indexes is None or count < indexes.start_at:
            return
        self.calm = (count - self._count) * CALM <= count  # not a stream's first batches
        self._count = count
        if not self._due:
            self._piece()

    def _piece(self) -> None:
        self._due = False
        if self.order.work(self.tasks, calm=self.calm):
            self._due = True
            self.later(SORTING_PAUSE_S if self.calm and self.order.sorting else PAUSE_S,
                       self._piece)


def _shows(task: TaskSnapshot | None, needle: str) -> bool:
    return task is not None and (not needle or matches(task, needle))
