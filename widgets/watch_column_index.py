"""Every task in the order of each column, kept ready before a key asks for it.

Sorting 100,000 rows when ``s`` moves to another column cost the watch screen 55-85 ms in the
real app (building the keys and sorting them reads 100,000 snapshots scattered in memory), and
a key waited for all of it. So the list keeps, for each column, the rows already in that
column's natural order (largest first for times and counts), and moves each changed row in
every column as changes arrive. A move is a few C-level binary searches and an insert into a
chunk of at most ``2 * LOAD`` ids (not into one list of 100,000, whose every insert moved
800 KB of pointers), so ``s`` only has to lay out ids that are already in order.

Each column takes in changes at its own pace: the one shown at once, every change (the list
must be exact), the others from what they have pending, a few milliseconds' worth at a time
(``ColumnIndexes.work``). A column far behind (a program streaming its first 100,000 tasks)
is sorted anew once the stream is calm, in pieces of a few milliseconds too: sorted runs of
a few thousand rows, then merged chunk by chunk (``_Build``).

The order is ``watch_rows.flat_rows``'s: by the column, equal rows by id. Pure: no screen.
"""

from __future__ import annotations

import heapq
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, chain, islice
from operator import neg
from typing import Any, overload

from loopscope.tasks.agent.model import TaskSnapshot
from loopscope.widgets.watch_columns import COLUMNS, DESCENDING, SORT_ORDER, sort_keys

LOAD = 256
"""Ids per chunk (a chunk is split at twice this): inserts move at most a few KB."""

FAR_BEHIND = 4
"""A column with more than a ``1/FAR_BEHIND`` share of its rows pending (and at least
``SMALL`` of them) is sorted anew rather than caught up row by row."""
SMALL = 2_000
CALM = 20
"""A pull that adds at most one row in this many is calm: a column sorted anew then is not
far behind again by the time it is done (a stream's first batches add more)."""
BUDGET_S = 0.006
"""How long one piece of background work may take (a key pressed meanwhile waits for it)."""
RUN = 1_024
"""Rows sorted in one piece of a build."""

TYPECODES = {"state": "q", "busy": "d", "scheduled": "d", "idle": "d", "steps": "q",
             "longest": "d"}
"""Columns whose keys are stored as machine numbers: the collector never walks an array (a
full collection walking 100,000 keys per column held the screen for tens of ms); the
texts of the others stay in lists."""

INDEXED = tuple(key for key in SORT_ORDER if key != "id")
"""The columns kept in order (the id order is the store's own, sorted in C in a moment)."""


def _negated(sort: Callable[[TaskSnapshot], Any]) -> Callable[[TaskSnapshot], Any]:
    def key(task: TaskSnapshot) -> Any:
        return -sort(task)

    return key


Clock = Callable[[], float]


class _Build:
    """Sorting a column anew, a piece at a time: the ids there were at the start, sorted in
    runs of ``RUN``, then merged ``LOAD`` rows at a time into chunks. Changes meanwhile are
    pending in the index and taken in once it is done."""

    def __init__(self, column: str, descending: bool, ids: list[int]) -> None:
        self.column = column
        self.descending = descending
        self.ids = ids
        self.at = 0
        self.runs: list[list[tuple[Any, int]]] = []
        self.merged: Iterator[tuple[Any, int]] | None = None
        self.chunks: list[array[int]] = []
        self.keys: list[Any] = []
        self.placed: dict[int, Any] = {}

    def step(self, tasks: Mapping[int, TaskSnapshot]) -> bool:
        """One piece; True when the build is done."""
        if self.at < len(self.ids):
            part = self.ids[self.at:self.at + RUN]
            self.at += RUN
            shown = {i: tasks[i] for i in part if i in tasks}
            keys: Iterable[Any] = sort_keys(self.column, shown)
            if self.descending:
                keys = map(neg, keys)
            self.runs.append(sorted(zip(keys, shown, strict=True)))
            return False
        if self.merged is None:
            self.merged = heapq.merge(*self.runs)
            self.runs = []
        for _ in range(4):
            piece = list(islice(self.merged, LOAD))
            if not piece:
                return True
            ids = [i for _, i in piece]
            keys = [k for k, _ in piece]
            self.chunks.append(array("q", ids))
            self.keys.append(_keys(self.column, keys))
            self.placed.update(zip(ids, keys, strict=True))
        return False


class ColumnIndex:
    """The ids of all tasks in one column's natural order, in chunks.

    Stored ascending by (key, id); a column whose natural order is largest first stores its
    key negated, so equal rows stay in id order either way round, as a full sort leaves them.
    ``note`` the ids that changed; ``catch_up`` (or ``rebuild``) before reading.
    """

    def __init__(self, column: str) -> None:
        self.column = column
        self._descending = column in DESCENDING
        sort = COLUMNS[column].sort
        self.key: Callable[[TaskSnapshot], Any] = _negated(sort) if self._descending else sort
        """The stored key of a task."""
        self.built = False
        """Sorted once at least (before, every row is pending)."""
        self._ids: list[array[int]] = []
        self._keys: list[Any] = []
        """Each chunk's keys: an array of numbers, or a list of texts."""
        self._last: list[tuple[Any, int]] = []
        """(key, id) of each chunk's last row: the chunk a row belongs to, by one bisect."""
        self._placed: dict[int, Any] = {}
        """The key each row is placed with."""
        self._pending: dict[int, None] = {}
        """Ids changed since they were placed, oldest first."""
        self._build: _Build | None = None
        """A build in pieces under way (the order is not usable until it is done)."""
        self._starts: list[int] | None = None
        self._rows = ColumnRows(self)
        self.version = 0
        """Rises whenever the order changes."""

    def __repr__(self) -> str:
        return (f"<ColumnIndex {self.column} rows={len(self._placed)} "
                f"pending={len(self._pending)}>")

    def __len__(self) -> int:
        return len(self._placed)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def far_behind(self, size: int) -> bool:
        """Sorting anew is cheaper than catching up (``size``: the rows there are now)."""
        pending = len(self._pending)
        return not self.built or (pending >= SMALL and pending * FAR_BEHIND > size)

    def note(self, changed: Iterable[int]) -> None:
        """The tasks ``changed`` (new, changed or forgotten) are to be taken in."""
        self._pending.update(dict.fromkeys(changed))

    def forget(self) -> None:
        """Drop the order and what is pending (no longer kept up to date)."""
        self.__init__(self.column)  # type: ignore[misc]

    @property
    def building(self) -> bool:
        return self._build is not None

    def build_step(self, tasks: Mapping[int, TaskSnapshot]) -> bool:
        """One piece of sorting the column anew (started if need be): True when done."""
        if self._build is None:
            self._build = _Build(self.column, self._descending, list(tasks))
            self._pending.clear()  # what changes from now on is taken in after the build
            self.built = False
        if not self._build.step(tasks):
            return False
        build, self._build = self._build, None
        self._ids, self._keys, self._placed = build.chunks, build.keys, build.placed
        self._last = [(keys[-1], ids[-1]) for keys, ids in zip(self._keys, self._ids,
                                                               strict=True)]
        self.built = True
        self._changed()
        return True

    def rebuild(self, tasks: Mapping[int, TaskSnapshot]) -> None:
        """Sort every task anew at once (two C-level sorts: by id, then stably by the key)."""
        self._build = None
        keys: Iterable[Any] = sort_keys(self.column, tasks)
        if self._descending:
            keys = map(neg, keys)
        placed = self._placed = dict(zip(tasks, keys, strict=True))
        order = sorted(placed)
        order.sort(key=placed.__getitem__)
        parts = [order[at:at + LOAD] for at in range(0, len(order), LOAD)]
        self._ids = [array("q", ids) for ids in parts]
        self._keys = [_keys(self.column, map(placed.__getitem__, ids)) for ids in parts]
        self._last = [(keys[-1], ids[-1]) for keys, ids in zip(self._keys, self._ids,
                                                               strict=True)]
        self._pending.clear()
        self.built = True
        self._changed()

    def catch_up(self, tasks: Mapping[int, TaskSnapshot], *, until: float | None = None,
                 clock: Clock = time.perf_counter) -> bool:
        """Move the pending rows to their places; a column far behind is sorted anew, at
        once when asked for now, else in pieces. With ``until``, stop once ``clock()``
        passes it. True when nothing is left pending."""
        if self._build is not None or self.far_behind(len(tasks)):
            if until is None:  # asked for now: the merge's rest, or all at once
                if self._build is not None and self._build.merged is not None:
                    while not self.build_step(tasks):
                        pass
                else:
                    self.rebuild(tasks)
                    return True
            else:
                while not self.build_step(tasks):
                    if clock() >= until:
                        return False
        pending = self._pending
        take_in = self._take_in
        while pending:
            # from the newest: taking from the front of a dict that keeps growing at its
            # end walks every slot emptied before (quadratic over a session)
            for _ in range(min(64, len(pending))):
                task_id, _ = pending.popitem()
                take_in(task_id, tasks.get(task_id))
            if until is not None and clock() >= until:
                break
        return not pending

    def rows(self) -> ColumnRows:
        """Every id in order: a view of the chunks, as they are now (nothing is copied)."""
        return self._rows

    def position(self, task_id: int) -> int | None:
        """Where the row of ``task_id`` is, None when it is not there."""
        key = self._placed.get(task_id, _MISSING)
        if key is _MISSING:
            return None
        chunk, at = self._find(key, task_id)
        return self.starts()[chunk] + at

    # --- internals ----------------------------------------------------------------------

    def _take_in(self, task_id: int, task: TaskSnapshot | None) -> None:
        """Move the row of ``task_id`` to where ``task`` (None: forgotten) belongs."""
        placed = self._placed
        old = placed.get(task_id, _MISSING)
        new = _MISSING if task is None else self.key(task)
        if old is _MISSING and new is _MISSING:
            return
        if old is not _MISSING and new is not _MISSING and old == new:
            return
        if old is not _MISSING:
            self._remove(old, task_id)
            del placed[task_id]
        if new is not _MISSING:
            self._insert(new, task_id)
            placed[task_id] = new

    def _insert(self, key: Any, task_id: int) -> None:
        if not self._ids:
            self._ids.append(array("q", [task_id]))
            self._keys.append(_keys(self.column, [key]))
            self._last.append((key, task_id))
            self._changed()
            return
        chunk, at = self._find(key, task_id)
        ids, keys = self._ids[chunk], self._keys[chunk]
        ids.insert(at, task_id)
        keys.insert(at, key)
        if at == len(ids) - 1:
            self._last[chunk] = (key, task_id)
        if len(ids) > 2 * LOAD:
            self._ids[chunk + 1:chunk + 1] = [ids[LOAD:]]
            self._keys[chunk + 1:chunk + 1] = [keys[LOAD:]]
            self._last.insert(chunk, (keys[LOAD - 1], ids[LOAD - 1]))
            del ids[LOAD:], keys[LOAD:]
        self._changed()

    def _remove(self, key: Any, task_id: int) -> None:
        chunk, at = self._find(key, task_id)
        ids, keys = self._ids[chunk], self._keys[chunk]
        if at >= len(ids) or ids[at] != task_id:  # an index out of step is a bug: say so
            raise LookupError(f"task {task_id} is not in the {self.column} order")
        del ids[at], keys[at]
        if not ids:
            del self._ids[chunk], self._keys[chunk], self._last[chunk]
        elif at == len(ids):
            self._last[chunk] = (keys[-1], ids[-1])
        self._changed()

    def _find(self, key: Any, task_id: int) -> tuple[int, int]:
        """The chunk and the place in it where (``key``, ``task_id``) is or belongs."""
        chunk = min(bisect_left(self._last, (key, task_id)), len(self._last) - 1)
        keys = self._keys[chunk]
        low = bisect_left(keys, key)
        high = bisect_right(keys, key, low)
        return chunk, bisect_left(self._ids[chunk], task_id, low, high)  # equal keys: by id

    @property
    def chunks(self) -> list[array[int]]:
        """The ids in order, chunk by chunk (read only)."""
        return self._ids

    def starts(self) -> list[int]:
        """Where each chunk starts among the rows, and the number of rows last."""
        if self._starts is None:
            self._starts = [0, *accumulate(map(len, self._ids))]
        return self._starts

    def _changed(self) -> None:
        self._starts = None
        self.version += 1


_MISSING: Any = object()


def _keys(column: str, keys: Iterable[Any]) -> Any:
    code = TYPECODES.get(column)
    return list(keys) if code is None else array(code, keys)


class ColumnRows(Sequence[int]):
    """The ids of a ``ColumnIndex`` in order, read through its chunks (live: it changes
    with the index). What the list draws from: a row by its place, a slice, a row's place."""

    def __init__(self, index: ColumnIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.starts()[-1] if self._index.chunks else 0

    @overload
    def __getitem__(self, at: int) -> int: ...

    @overload
    def __getitem__(self, at: slice) -> list[int]: ...

    def __getitem__(self, at: int | slice) -> int | list[int]:
        if isinstance(at, slice):
            start, stop, step = at.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._run(start, stop)
        size = len(self)
        if at < 0:
            at += size
        if not 0 <= at < size:
            raise IndexError("row out of range")
        starts = self._index.starts()
        chunk = bisect_right(starts, at) - 1
        return self._index.chunks[chunk][at - starts[chunk]]

    def __iter__(self) -> Iterator[int]:
        return chain.from_iterable(self._index.chunks)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        at = self._index.position(value)
        if at is None or at < start or (stop is not None and at >= stop):
            raise ValueError(f"{value!r} is not shown")
        return at

    def _run(self, start: int, stop: int) -> list[int]:
        if start >= stop:
            return []
        starts = self._index.starts()
        chunk = bisect_right(starts, start) - 1
        out: list[int] = []
        at = start - starts[chunk]
        ids = self._index.chunks
        while len(out) < stop - start and chunk < len(ids):
            out.extend(ids[chunk][at:at + stop - start - len(out)])
            chunk += 1
            at = 0
        return out


class ColumnIndexes:
    """A ``ColumnIndex`` per sortable column: the one shown exact at every pull, the others
    caught up a few milliseconds at a time, or sorted anew when far behind and calm."""

    def __init__(self, *, start_at: int = 0, budget_s: float = BUDGET_S,
                 clock: Clock = time.perf_counter) -> None:
        self.indexes = {column: ColumnIndex(column) for column in INDEXED}
        self.start_at = start_at
        """Below this many tasks nothing is kept (a sort then costs a few ms when asked)."""
        self.active = start_at <= 0
        """The columns are being kept in order (there are ``start_at`` tasks or more)."""
        self.budget_s = budget_s
        self.clock = clock
        """Tests replace it to say when a pull's budget is spent."""
        self._turn = 0

    def __repr__(self) -> str:
        return f"<ColumnIndexes {list(self.indexes.values())}>"

    def note(self, changed: Iterable[int], size: int) -> None:
        """The tasks ``changed`` (new, changed or forgotten) are to be taken in by every
        column, ``size`` the tasks there are now; whatever is shown, every change must come
        through here. Below ``start_at`` tasks the orders are dropped, and nothing is noted
        (it would pile up: nothing takes it in then)."""
        if size < self.start_at:
            if self.active:
                self.active = False
                for index in self.indexes.values():
                    index.forget()
            return
        self.active = True
        changed = list(changed)
        if changed:
            for index in self.indexes.values():
                index.note(changed)

    @property
    def sorting(self) -> bool:
        """A column is being sorted anew (or waits to be): the next ``s`` may find it not
        ready, so its pieces should come closer together."""
        return self.active and any(index.building or not index.built
                                   for index in self.indexes.values())

    def ready(self, column: str, tasks: Mapping[int, TaskSnapshot]) -> ColumnIndex | None:
        """``column``'s index caught up with ``tasks`` (sorted anew if far behind); None
        when the column has none, or while the orders are not kept."""
        index = self.indexes.get(column)
        if index is None or not self.active or len(tasks) < self.start_at:
            return None
        index.catch_up(tasks)
        return index

    def work(self, tasks: Mapping[int, TaskSnapshot], *, shown: str | None,
             calm: bool) -> bool:
        """One piece of background work, at most ``budget_s``: catch up the columns not
        ``shown``, the next in ``s``'s order first; a column far behind is sorted anew in
        pieces, only once the stream is ``calm`` (a stream's first batches are not: the
        order would be behind again before it is done). True when work is left."""
        if not self.active:
            return False
        until = self.clock() + self.budget_s
        order = list(self.indexes)
        first = order.index(shown) + 1 if shown in order else 0
        others = [self.indexes[c] for c in order[first:] + order[:first] if c != shown]
        size = len(tasks)
        left = False
        for index in others:
            if not (index.building or index.pending or not index.built):
                continue
            if self.clock() >= until:
                return True
            if not calm and (index.building or index.far_behind(size)):
                left = True  # sorted anew once the stream is calm
                continue
            if not index.catch_up(tasks, until=until, clock=self.clock):
                return True
        return left
