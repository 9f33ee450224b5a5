"""asyncio's registry of tasks, read from the sender's thread: the live task of a record.

The agent holds no reference to a task (not even a weak one); a record holds ``id(task)``.
To read a live task's state, name and await chain, the sender's thread finds the task again
in asyncio's own registry (``asyncio.tasks._all_tasks``, a ``WeakSet``).

Copying that registry in Python (the way ``asyncio.all_tasks`` does) cost 5 ms for 20,000
live tasks, for every batch, under the GIL the program needs, and its walk over every weak
reference pushed the program's own objects out of the processor's caches. Where the C
module was built (``_registry.c``), the tasks of the ids a batch needs are found by reading
the registry's hash table in place instead; the Python copy is the fallback.
"""

from __future__ import annotations

import asyncio
import sys
import weakref
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopscope.tasks.agent.records import LoopState

_registry: Any
try:
    from loopscope.tasks.agent import _registry
except ImportError:  # built without a compiler: the Python copy
    _registry = None


def registries() -> list[Any]:
    """The sets in which this Python keeps its tasks (3.11-3.13)."""
    module: Any = asyncio.tasks
    return [
        registry for registry in (
            getattr(module, "_scheduled_tasks", None), getattr(module, "_all_tasks", None),
            getattr(module, "_eager_tasks", None),
        ) if registry is not None
    ]


def finds_in_place() -> bool:
    """Whether ``tasks_by_id`` given ids reads only those (else it copies every task)."""
    return _registry is not None and sys.version_info < (3, 14)


def tasks_by_id(loops: list[LoopState],
                ids: Collection[int] | None = None) -> dict[int, Any] | None:
    """Tasks asyncio still knows of (pending, or done and not yet collected), by id: those
    of ``ids``, or every one (``ids`` None); None if the registry could not be read. The
    result holds the tasks strongly: the caller drops it after use."""
    sets = registries()
    if ids is not None and sets and finds_in_place():
        found = _found_in_place(sets, ids)
        if found is not None:
            return found
    return _copied(loops, sets)


def _found_in_place(sets: list[Any], ids: Collection[int]) -> dict[int, Any] | None:
    found: dict[int, Any] = {}
    wanted = list(dict.fromkeys(ids))  # each once: a duplicate would never be "found"
    for registry in sets:
        data = registry
        if isinstance(registry, weakref.WeakSet):  # its weak references, with tasks' hashes
            data = getattr(registry, "data", None)
        if not isinstance(data, set):
            return None
        found.update(_registry.find(data, wanted))
    return found


def _copied(loops: list[LoopState], sets: list[Any]) -> dict[int, Any] | None:
    """Every task, copied the way ``asyncio.all_tasks`` reads the registry from another
    thread: copy, and try again if the loop's thread changed it meanwhile."""
    found: dict[int, Any] = {}
    if not sets or sys.version_info >= (3, 14):
        # 3.14 keeps native tasks in per-thread lists: ask per loop (pending tasks only).
        for state in loops:
            loop = state.ref()
            if loop is None or loop.is_closed():
                continue
            try:
                found.update((id(task), task) for task in asyncio.all_tasks(loop))
            except RuntimeError:
                return None
    for registry in sets:
        for _ in range(100):
            try:
                tasks = list(registry)
            except RuntimeError:  # "set changed size during iteration"
                continue
            found.update((id(task), task) for task in tasks)
            break
        else:
            return None
    return found
