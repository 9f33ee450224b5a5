"""Everything known about a watched program, as the screen pulls it.

The reader of the agent's stream (or a fake, or a recording) calls ``apply`` once per batch it
receives; the screen calls ``changes_since`` on its 10 Hz timer and redraws only the rows that
changed. Nothing here posts a message per task: 100,000 tasks cost a batch, not 100,000 events.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from loopscope.tasks.watch.feed import LagSpike, TaskSnapshot, WatchWarning

MAX_EVENTS = 500
"""Lag spikes and warnings kept (the newest)."""

MAX_FORGOTTEN = 100_000
"""Forgotten ids remembered for readers that have not pulled yet (a reader further behind
rebuilds from ``structure_version``)."""

CancelRequest = Callable[[int], None]
"""Sends 'cancel task N' to the agent; raises ``CancelUnavailable`` when it cannot."""


class CancelUnavailable(Exception):
    """The connection to the agent cannot cancel tasks (not connected, or not supported)."""


@dataclass(slots=True)
class AgentLink:
    """How the dashboard's connection to the agent is doing."""

    status: str = "waiting for the agent"
    dropped: int = 0
    """Samples the agent dropped or merged because the dashboard was slow."""
    error: str | None = None


class WatchStore:
    """The latest snapshot of every task, plus lag spikes and warnings, with change counters."""

    def __init__(self, *, cancel: CancelRequest | None = None) -> None:
        self.tasks: dict[int, TaskSnapshot] = {}
        self.children: dict[int | None, list[int]] = {}
        """Task ids by parent id (None: root tasks), in the order they appeared."""
        self.counts: Counter[str] = Counter()
        self.version = 0
        self.structure_version = 0
        """Bumped when a task appears or is forgotten (the tree must be rebuilt)."""
        self.spikes: deque[LagSpike] = deque(maxlen=MAX_EVENTS)
        self.warnings: deque[WatchWarning] = deque(maxlen=MAX_EVENTS)
        self.events_version = 0
        self.link = AgentLink()
        self.link_version = 0
        self.cancel_request = cancel
        self._changed: dict[int, int] = {}  # id → version, oldest change first
        self._forgotten: deque[tuple[int, int]] = deque(maxlen=MAX_FORGOTTEN)

    # --- written by the reader ----------------------------------------------------------------

    def apply(
        self,
        tasks: Iterable[TaskSnapshot] = (),
        *,
        forgotten: Iterable[int] = (),
        spikes: Iterable[LagSpike] = (),
        warnings: Iterable[WatchWarning] = (),
    ) -> None:
        """One batch from the agent: new and changed tasks, finished tasks it let go of,
        new lag spikes and warnings."""
        self.version += 1
        version = self.version
        store = self.tasks
        changed = self._changed
        counts = self.counts
        for task in tasks:
            old = store.get(task.id)
            if old is None:
                self.children.setdefault(task.parent, []).append(task.id)
                self.structure_version = version
            else:
                counts[old.state] -= 1
            counts[task.state] += 1
            store[task.id] = task
            changed.pop(task.id, None)
            changed[task.id] = version
        for task_id in forgotten:
            old = store.pop(task_id, None)
            if old is None:
                continue
            counts[old.state] -= 1
            siblings = self.children.get(old.parent)
            if siblings is not None and task_id in siblings:
                siblings.remove(task_id)
            changed.pop(task_id, None)
            self._forgotten.append((version, task_id))
            self.structure_version = version
        new_spikes = list(spikes)
        new_warnings = list(warnings)
        if new_spikes or new_warnings:
            self.spikes.extend(new_spikes)
            self.warnings.extend(new_warnings)
            self.events_version = version

    def set_link(self, status: str, *, dropped: int | None = None, error: str | None = None) -> None:
        self.link.status = status
        if dropped is not None:
            self.link.dropped = dropped
        self.link.error = error
        self.link_version += 1

    # --- read by the screen -------------------------------------------------------------------

    def get(self, task_id: int) -> TaskSnapshot | None:
        return self.tasks.get(task_id)

    def changes_since(self, version: int) -> tuple[int, list[int]]:
        """The current version and the ids changed (or forgotten) after ``version``."""
        ids: list[int] = []
        for task_id, changed_at in reversed(self._changed.items()):
            if changed_at <= version:
                break
            ids.append(task_id)
        for changed_at, task_id in reversed(self._forgotten):
            if changed_at <= version:
                break
            ids.append(task_id)
        return self.version, ids

    def ancestors(self, task_id: int) -> Iterator[TaskSnapshot]:
        """The parent, its parent... (stops at a task the store no longer holds)."""
        seen = {task_id}
        task = self.tasks.get(task_id)
        while task is not None and task.parent is not None and task.parent not in seen:
            seen.add(task.parent)
            task = self.tasks.get(task.parent)
            if task is not None:
                yield task

    def cancel(self, task_id: int) -> None:
        """Ask the agent to cancel a task. Raises CancelUnavailable when it cannot."""
        if self.cancel_request is None:
            raise CancelUnavailable("cancelling is not available: the agent cannot take orders yet")
        self.cancel_request(task_id)
