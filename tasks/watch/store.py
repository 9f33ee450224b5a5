"""Everything the watch screen knows about a program, indexed for a screen that redraws only
what changed.

The agent's ``WatchState`` (``loopscope.tasks.agent.store``) decodes and keeps the batches;
this store wraps it and adds what a 10 Hz screen over 100,000 tasks needs: the ids changed
since a version in O(changes) (``changes_since``), the children of each task, and the count
of tasks in each state, all kept up to date batch by batch. Nothing here posts a message per
task: a batch of 100,000 changes is one ``apply_message``.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator
from typing import Any

from loopscope.tasks.agent.model import AgentWarning, LagSpike, TaskSnapshot, TaskState
from loopscope.tasks.agent.store import WatchState

MAX_FORGOTTEN = 100_000
"""Forgotten ids remembered for a reader that has not pulled yet (one further behind
rebuilds from ``structure_version``)."""

CancelRequest = Callable[[int], None]
"""Sends 'cancel task N' to the agent; raises ``CancelUnavailable`` when it cannot."""


class CancelUnavailable(Exception):
    """The connection to the agent cannot cancel tasks (not connected, or not supported)."""


class WatchStore:
    """The agent's state, plus a change log, a parent → children index and state counts."""

    def __init__(self, *, cancel: CancelRequest | None = None) -> None:
        self.state = WatchState()
        self.children: dict[int | None, dict[int, None]] = {}
        """Task ids by parent id (None: created outside any task), in the order they came: an
        ordered set (a dict's keys), so that forgetting one of 100,000 children of a parent
        is one step, not a search (the retention's "gone" lists stalled the screen 0.3-0.5 s
        when a program with many tasks exited)."""
        self.counts: Counter[TaskState] = Counter()
        self.version = 0
        self.structure_version = 0
        """The version in which a task last appeared or was forgotten (the tree is rebuilt)."""
        self.events_version = 0
        """The version in which a lag spike or warning last arrived."""
        self.link = "waiting for the agent"
        """The connection to the agent, in words: waiting, connected, closed, failed…"""
        self.link_version = 0
        self.origin: float | None = None
        """The agent's clock at the first batch: event times are shown relative to it."""
        self.cancel_request = cancel
        self._changed: dict[int, int] = {}  # id → version, oldest change first
        self._forgotten: deque[tuple[int, int]] = deque(maxlen=MAX_FORGOTTEN)

    # --- written by the reader ----------------------------------------------------------------

    def apply_message(self, message: dict[str, Any]) -> None:
        """Apply one decoded message from the agent (see ``loopscope.tasks.agent.wire``)."""
        if message.get("kind") != "batch":
            self.state.apply(message)
            return
        tasks = self.state.tasks
        full = bool(message.get("full"))
        if full:
            self._forget(list(tasks))
        rows = message.get("tasks", ())
        gone = message.get("gone", ())
        before = {row[0]: None if full else tasks.get(row[0]) for row in rows}
        gone_before = [tasks[i] for i in gone if i in tasks]
        self.state.apply(message)
        self.version = version = self.state.version
        if self.origin is None:
            self.origin = message.get("t")
        changed = self._changed
        counts = self.counts
        for task_id, old in before.items():
            task = tasks.get(task_id)
            if task is None:  # created and let go of within one batch ("gone" as well)
                continue
            if old is None:
                self.children.setdefault(task.parent, {})[task_id] = None
                self.structure_version = version
            else:
                counts[old.state] -= 1
            counts[task.state] += 1
            changed.pop(task_id, None)
            changed[task_id] = version
        self._drop(gone_before, version)
        if message.get("spikes") or message.get("warnings"):
            self.events_version = version

    def _forget(self, ids: list[int]) -> None:
        """A full batch replaces everything: forget what we had."""
        olds = [self.state.tasks[i] for i in ids]
        self._drop(olds, self.state.version + 1)

    def _drop(self, olds: list[TaskSnapshot], version: int) -> None:
        for old in olds:
            self.counts[old.state] -= 1
            siblings = self.children.get(old.parent)
            if siblings is not None:
                siblings.pop(old.id, None)
            self._changed.pop(old.id, None)
            self._forgotten.append((version, old.id))
            self.structure_version = version

    def set_link(self, status: str) -> None:
        self.link = status
        self.link_version += 1

    # --- read by the screen -------------------------------------------------------------------

    @property
    def tasks(self) -> dict[int, TaskSnapshot]:
        return self.state.tasks

    @property
    def spikes(self) -> deque[LagSpike]:
        return self.state.spikes

    @property
    def warnings(self) -> deque[AgentWarning]:
        return self.state.warnings

    @property
    def dropped(self) -> int:
        """Samples and batches the agent dropped to stay bounded (not finished tasks it let
        go of by retention, which is expected)."""
        return sum(n for kind, n in self.state.counts.dropped.items() if kind != "finished_tasks")

    def get(self, task_id: int) -> TaskSnapshot | None:
        return self.state.tasks.get(task_id)

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

    def relative(self, at: float) -> float:
        """An agent timestamp as seconds since the first batch."""
        return at - (self.origin or 0.0)

    def ancestors(self, task_id: int) -> Iterator[TaskSnapshot]:
        """The parent, its parent... (stops at a task the store no longer holds)."""
        seen = {task_id}
        task = self.get(task_id)
        while task is not None and task.parent is not None and task.parent not in seen:
            seen.add(task.parent)
            task = self.get(task.parent)
            if task is not None:
                yield task

    def cancel(self, task_id: int) -> None:
        """Ask the agent to cancel a task. Raises CancelUnavailable when it cannot."""
        if self.cancel_request is None:
            raise CancelUnavailable(f"cannot cancel: the agent is {self.link}")
        self.cancel_request(task_id)
