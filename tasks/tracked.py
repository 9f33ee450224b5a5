"""What ``TaskManager.tracked`` returns: a coroutine whose work runs as a task of its own.

The teaching scenarios hand these to ``gather``, ``TaskGroup``, ``wait_for`` or simply await
them, exactly as they would a plain coroutine. Running the work as a task of its own lets the
manager record its end in the same done-callback as every launched task, whatever way it ends.
"""

from __future__ import annotations

import asyncio
import collections.abc
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from loopscope.tasks.records import TaskRecord, TaskState

if TYPE_CHECKING:
    from loopscope.tasks.ledger import TaskLedger

T = TypeVar("T")
Adopt = Callable[..., "asyncio.Task[Any]"]
"""``LiveTasks.adopt(record, coro, summary, name=)``: runs a coroutine as a record's task."""


def track(
    ledger: TaskLedger,
    adopt: Adopt,
    record: TaskRecord,
    work: Callable[[TaskRecord], collections.abc.Awaitable[T]],
    summary: Callable[[T], str],
    start_running: bool,
) -> TrackedWork[T]:
    """``TaskManager.tracked``'s coroutine for ``record`` (already created, pending): its work
    runs as a task of its own, marked running first unless ``start_running`` is False."""

    async def body() -> T:
        if start_running:
            ledger.mark_running(record)
        return await work(record)

    def start() -> asyncio.Task[T]:
        task: asyncio.Task[T] = adopt(
            record, body(), summary, name=f"loopscope-{record.kind}-{record.id}"
        )
        return task

    return TrackedWork(start, lambda: ledger.finish(record, TaskState.CANCELLED))


class TrackedWork(collections.abc.Coroutine[Any, Any, T]):
    """What ``tracked`` returns: a coroutine that, when first stepped, starts the work as a
    task of its own (whose done-callback records how it ended) and awaits it.

    Awaiting a task passes cancellation on to it, so a TaskGroup, ``wait_for`` or a cancelled
    caller cancels the work as it would a plain coroutine. If the caller is cancelled before
    the first step, the task is still made and cancelled at once: the record ends
    ``cancelled`` through the same done-callback, and its batch can finish.
    """

    __slots__ = ("_abandon", "_iterator", "_start", "task")

    def __init__(self, start: Callable[[], asyncio.Task[T]], abandon: Callable[[], None]):
        self._start = start
        self._abandon = abandon
        self.task: asyncio.Task[T] | None = None
        self._iterator: Generator[Any, None, T] | None = None

    def _begin(self) -> Generator[Any, None, T]:
        if self._iterator is None:
            self.task = self._start()
            self._iterator = self.task.__await__()
        return self._iterator

    def send(self, value: Any) -> Any:
        return self._begin().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if self._iterator is None:
            self._begin()
            assert self.task is not None
            self.task.cancel()  # thrown into before its first step: the work never runs
        assert self._iterator is not None
        if val is None and tb is None:
            return self._iterator.throw(typ)
        return self._iterator.throw(typ, val, tb)

    def close(self) -> None:
        if self._iterator is None:
            self._start = _never_started
            self._abandon()  # dropped without ever being awaited
        else:
            self._iterator.close()

    def __await__(self) -> Generator[Any, None, T]:
        return self._begin()


def _never_started() -> asyncio.Task[Any]:
    raise RuntimeError("this tracked coroutine was closed before it started")
