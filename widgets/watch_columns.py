"""The columns of the watched-task list: what each shows, how it sorts, how wide it is.

Kept apart from the widget so the list, the headless report and tests agree on one definition.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, is_, itemgetter
from typing import Any

from loopscope.tasks.agent.model import TaskSnapshot, TaskState
from loopscope.tasks.units import human_seconds
from loopscope.tasks.watch.places import where

STATE_ORDER = {state: n for n, state in enumerate(TaskState)}


def seconds(value: float) -> str:
    return human_seconds(value) if value else "–"


def cut_middle(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` in the middle: a path keeps its file name and line number."""
    if len(text) <= width:
        return text
    if width < 5:
        return text[:width]
    head = (width - 1) // 3
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


def fit_location(task: TaskSnapshot, width: int) -> str:
    """The location column in ``width`` cells: what it awaits is cut before file:line is."""
    if task.state.finished:
        return fit_outcome(task, width)
    text = location(task)
    if len(text) <= width or task.where is None:
        return text
    here = where(task.where)
    if len(here) + 2 <= width:
        return text[: width - 1] + "…"
    return cut_middle(here, width)


def fit_outcome(task: TaskSnapshot, width: int) -> str:
    """A finished task's outcome in ``width`` cells. A cancelled task keeps the line it was
    cancelled at (``at crawler.py:62``: the state column says cancelled) rather than losing
    it to "cancelled at craw…"; a result or an exception is cut at its end."""
    text = location(task)
    if len(text) <= width:
        return text
    if task.state is TaskState.CANCELLED and task.where is not None:
        here = where(task.where)
        return f"at {here}" if len(here) + 3 <= width else cut_middle(here, width)
    return text[: width - 1] + "…" if width > 1 else text[:width]


def location(task: TaskSnapshot) -> str:
    """Where a live task waits (file:line and what it awaits); how a finished one ended."""
    state = task.state
    if state is TaskState.EXCEPTION:
        error = task.error
        return f"{error.type}: {error.message}" if error else "exception"
    if state is TaskState.CANCELLED:
        return f"cancelled at {where(task.where)}" if task.where else "cancelled"
    if state is TaskState.DONE:
        return f"→ {task.result}" if task.result else "done"
    here = where(task.where)
    if here:
        return f"{here} {task.awaiting}" if task.awaiting else here
    return task.awaiting or ""


_LOCATIONS: dict[int, tuple[TaskSnapshot, str]] = {}
"""``location`` of the latest snapshot of each task, for sorting and filtering: building the
text is most of the cost of sorting 100,000 rows by this column, so the list builds it as rows
arrive (``remember_locations``), not while a key waits. Keyed by task id, checked by identity
(a snapshot is replaced when its task changes)."""
_UNKNOWN: tuple[TaskSnapshot | None, str] = (None, "")
_SNAPSHOT = itemgetter(0)
_TEXT = itemgetter(1)


def location_key(task: TaskSnapshot) -> str:
    """``location(task)``, remembered per snapshot (the sort key of the last column)."""
    known = _LOCATIONS.get(task.id)
    if known is not None and known[0] is task:
        return known[1]
    if known is None and len(_LOCATIONS) > 250_000:
        _LOCATIONS.clear()
    entry = _LOCATIONS[task.id] = (task, location(task))
    return entry[1]


def location_keys(tasks: Mapping[int, TaskSnapshot]) -> Iterator[str]:
    """``location_key`` of each of ``tasks`` (by id), in order. C-level maps look the texts
    up by task id and check each is its task's current snapshot, without reading the
    snapshots (100,000 of them, scattered in memory); the few not remembered yet (changed
    since the list last took changes in) are built."""
    entries: list[Any] = list(map(_LOCATIONS.get, tasks, repeat(_UNKNOWN)))
    snapshots = list(tasks.values())
    current = list(map(is_, map(_SNAPSHOT, entries), snapshots))
    at = 0
    with contextlib.suppress(ValueError):  # none left to build
        while True:
            at = current.index(False, at)
            task = snapshots[at]
            entries[at] = (task, location_key(task))
            at += 1
    return map(_TEXT, entries)


def remember_locations(tasks: Mapping[int, TaskSnapshot], ids: Iterable[int]) -> None:
    """Build the location text of the tasks ``ids`` that changed (and forget the ones gone),
    a few at each screen pull, so a sort or filter by location finds them ready."""
    for task_id in ids:
        task = tasks.get(task_id)
        if task is None:
            _LOCATIONS.pop(task_id, None)
        else:
            location_key(task)


def sort_keys(key: str, tasks: Mapping[int, TaskSnapshot]) -> Iterator[Any]:
    """The sort key of column ``key`` for each of ``tasks``, in order: what
    ``COLUMNS[key].sort`` gives, built by C-level maps where a column allows (100,000 keys
    while a key press waits)."""
    column = COLUMNS[key]
    if column.sort is _NAME_KEY:
        return map(str.lower, map(_NAME, tasks.values()))
    if column.sort is _STATE_KEY:
        return map(STATE_ORDER.__getitem__, map(_STATE, tasks.values()))
    if column.sort is location_key:
        return location_keys(tasks)
    return map(column.sort, tasks.values())


def _name_key(task: TaskSnapshot) -> str:
    return task.name.lower()


def _state_key(task: TaskSnapshot) -> int:
    return STATE_ORDER[task.state]


_NAME_KEY, _NAME = _name_key, attrgetter("name")
_STATE_KEY, _STATE = _state_key, attrgetter("state")


@dataclass(frozen=True)
class WatchColumn:
    key: str
    title: str
    width: int
    """Fixed width, or the minimum of a flexible column."""
    text: Callable[[TaskSnapshot], str]
    sort: Callable[[TaskSnapshot], Any]
    flexible: bool = False
    right: bool = False


COLUMNS: dict[str, WatchColumn] = {
    c.key: c
    for c in (
        WatchColumn("id", "id", 6, lambda t: str(t.id), attrgetter("id"), right=True),
        WatchColumn("name", "name", 14, lambda t: t.name, _NAME_KEY, flexible=True),
        WatchColumn("state", "state", 9, lambda t: t.state.value, _STATE_KEY),
        WatchColumn("busy", "busy", 7, lambda t: seconds(t.busy_s), attrgetter("busy_s"),
                    right=True),
        WatchColumn("scheduled", "sched", 7, lambda t: seconds(t.scheduled_s),
                    attrgetter("scheduled_s"), right=True),
        WatchColumn("idle", "idle", 7, lambda t: seconds(t.idle_s), attrgetter("idle_s"),
                    right=True),
        WatchColumn("steps", "steps", 6, lambda t: f"{t.steps:,}", attrgetter("steps"), right=True),
        WatchColumn("longest", "longest", 7, lambda t: seconds(t.longest_step_s),
                    attrgetter("longest_step_s"), right=True),
        WatchColumn("where", "waits at / outcome", 18, location, location_key,
                    flexible=True),
        WatchColumn("lane", "life", 16, lambda t: "", attrgetter("created_t"), flexible=True),
    )
}
SORT_ORDER = tuple(key for key in COLUMNS if key != "lane")
"""The order ``s`` walks through the columns."""
DESCENDING = frozenset({"busy", "scheduled", "idle", "steps", "longest", "lane"})
"""The columns sorted largest first when first chosen (times and counts; the lanes, newest
first); the others (id, name, state, where a task waits) smallest first."""
DISPLAY_ORDER = tuple(COLUMNS)
FIT_ORDER = ("id", "state", "name", "where", "busy", "steps", "longest", "scheduled", "idle")
"""Which columns get room first when the list is narrow (the last are dropped first)."""
FIT_ORDER_LANES = ("id", "state", "name", "lane", "where", "busy", "steps")
"""With lanes on: each task's lifetime drawn on the program's time axis, in place of the
scheduled, idle and longest columns."""
CAPS = {"where": 30, "name": 18}
"""How wide a flexible column grows, in this order, before the lanes (or where a task waits)
get the rest: where a task waits first (cut, it loses its line number), the name after (most
names are short)."""


@functools.cache  # a few widths a session: every row drawn asks
def layout(width: int, *, lanes: bool = False) -> tuple[tuple[WatchColumn, int], ...]:
    """The columns that fit in ``width`` with their widths, in display order."""
    chosen: list[WatchColumn] = []
    used = 0
    for key in FIT_ORDER_LANES if lanes else FIT_ORDER:
        column = COLUMNS[key]
        if used + column.width + 1 > width:
            continue
        chosen.append(column)
        used += column.width + 1
    spare = max(0, width - used)
    widths = {c.key: c.width for c in chosen}
    for key, cap in CAPS.items():
        if key in widths:
            share = max(0, min(spare, cap - widths[key]))
            widths[key] += share
            spare -= share
    for key in ("lane", "where", "name"):  # the rest: to the lanes, or where tasks wait
        if key in widths:
            widths[key] += spare
            break
    chosen.sort(key=lambda c: DISPLAY_ORDER.index(c.key))
    return tuple((c, widths[c.key]) for c in chosen)


def matches(task: TaskSnapshot, needle: str) -> bool:
    """The text filter: a case-insensitive match on name, coroutine, state or location."""
    if not needle:
        return True
    return (
        needle in task.name.lower()
        or needle in task.coro.lower()
        or needle in task.state.value
        or needle in location_key(task).lower()
        or needle == str(task.id)
    )
