"""Launching a batch: its tasks created in chunks (concurrent) or one after another (a replay).

Each batch gets a launcher task of its own. A concurrent launch creates ``launch_chunk`` tasks
per loop iteration and yields between chunks, so 100,000 tasks never stall the loop at once;
a chunk that still took long is noted as loopscope's own work (a lag spike then is blamed on
the launch, not on "cause unknown"). ``stop_all`` ends every launch in progress.

Each task is started by ``start_task(batch, spec, runner, target)``, given by the manager: it
creates the record first, then the task (with an eager task factory, Python 3.12+ under
Textual, the coroutine runs up to its first await inside ``create_task``). Tests hold tasks at
their start by wrapping that callable (tests/staging.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from loopscope.tasks.batch import Batch
from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.spec import TaskSpec, bind, parse_specs, prepare_specs

SLOW_LAUNCH_S = 0.02
"""A chunk of task creations longer than this is noted as loopscope's own work."""

Runner = Callable[[TaskContext, TaskRecord], Awaitable[str]]
"""One task of a checked spec: ``bind(spec).run``, its arguments parsed once per launch."""
StartTask = Callable[[Batch, TaskSpec, Runner, str], "asyncio.Task[Any]"]


def checked_specs(specs: str | TaskSpec | Sequence[TaskSpec]) -> tuple[TaskSpec, ...]:
    """Every spec checked at the door (a hand-built TaskSpec too): SpecError, not a task
    that fails later where nobody sees it."""
    if isinstance(specs, str):
        return tuple(parse_specs(specs))
    if isinstance(specs, TaskSpec):
        return prepare_specs((specs,))
    return prepare_specs(specs)


class Launcher:
    """The launches in progress, one task each."""

    def __init__(
        self,
        ledger: TaskLedger,
        *,
        clock: Callable[[], float],
        chunk: Callable[[], int],
        note_own_work: Callable[[float, float, str], None],
    ):
        self._ledger = ledger
        self._clock = clock
        self._chunk = chunk
        self._note_own_work = note_own_work
        self._launchers: dict[int, asyncio.Task[None]] = {}
        self._stop_requested: set[int] = set()

    def new_batch(
        self,
        specs: tuple[TaskSpec, ...],
        loop: asyncio.AbstractEventLoop,
        start_task: StartTask,
        *,
        label: str,
        sequential: bool,
        replay_of: int | None = None,
    ) -> Batch:
        """A batch of ``specs`` in the ledger, its tasks started by ``start_task``."""
        batch = self._ledger.new_batch(
            specs, label=label, planned=sum(spec.repeat for spec in specs),
            sequential=sequential, replay_of=replay_of,
        )
        self.launch(loop, batch, start_task)
        return batch

    def launch(
        self, loop: asyncio.AbstractEventLoop, batch: Batch, start_task: StartTask
    ) -> None:
        """Start creating ``batch``'s tasks (one after another if it is sequential)."""
        if batch.sequential:
            coro = self._launch_sequential(batch, start_task)
        else:
            coro = self._launch_concurrent(batch, start_task)
        launcher = loop.create_task(coro, name=f"loopscope-launch-{batch.id}")
        self._launchers[batch.id] = launcher
        launcher.add_done_callback(lambda _: self._launchers.pop(batch.id, None))

    def stop_all(self) -> None:
        """Every launch in progress creates no more tasks."""
        self._stop_requested.update(self._launchers)

    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._launchers.values())

    async def _launch_concurrent(self, batch: Batch, start_task: StartTask) -> None:
        try:
            created = 0
            chunk = self._chunk()
            clock = self._clock
            chunk_start = clock()
            stop_requested = self._stop_requested
            for spec in batch.specs:
                bound = bind(spec)
                runner, target = bound.run, bound.target
                for _ in range(spec.repeat):
                    if stop_requested and batch.id in stop_requested:
                        return
                    start_task(batch, spec, runner, target)
                    created += 1
                    if created % chunk == 0:
                        self._note_slow_launch(batch, chunk_start)
                        await asyncio.sleep(0)
                        chunk_start = clock()
            self._note_slow_launch(batch, chunk_start)
        finally:
            self._launch_finished(batch)

    async def _launch_sequential(self, batch: Batch, start_task: StartTask) -> None:
        try:
            for spec in batch.specs:
                bound = bind(spec)
                runner, target = bound.run, bound.target
                for _ in range(spec.repeat):
                    if batch.id in self._stop_requested:
                        return
                    task = start_task(batch, spec, runner, target)
                    await asyncio.wait([task])
        finally:
            self._launch_finished(batch)
        original = self._ledger.batches.get(batch.replay_of or -1)
        if original is not None and batch.counts[TaskState.CANCELLED] == 0:
            self._ledger.record_replay(original, batch)

    def _note_slow_launch(self, batch: Batch, start: float) -> None:
        end = self._clock()
        if end - start >= SLOW_LAUNCH_S:
            self._note_own_work(start, end, f"launching batch #{batch.id}")

    def _launch_finished(self, batch: Batch) -> None:
        self._stop_requested.discard(batch.id)
        self._ledger.launch_finished(batch)
