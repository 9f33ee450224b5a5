"""The C hot path's queue of changed tasks (``changed_queue.h``): the order a dict keyed by
seq kept (a task queued again keeps its place), taking marks what it takes, a dropped task
leaves at once, and the queue holds its records only while they are in it."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from loopscope.tasks.agent import recorder as recorder_module
from loopscope.tasks.agent.recorder import Recorder
from tests.unit.agent_paths import C_BUILT

pytestmark = pytest.mark.skipif(not C_BUILT, reason="the C hot path is not built")


def records(count: int) -> list[Any]:
    hotpath: Any = recorder_module._hotpath  # noqa: SLF001 - the types under test
    loop: Any = object()
    return [hotpath.TaskRecord(seq, 1000 + seq, loop, None, None, -1, 0.0)
            for seq in range(1, count + 1)]


def new_queue() -> Any:
    return recorder_module._hotpath.ChangedQueue()  # noqa: SLF001


def test_it_keeps_the_order_of_first_change_as_the_dict_did() -> None:
    queue, made = new_queue(), records(6)
    for record in made[:4]:
        queue[record.seq] = record
    queue[made[1].seq] = made[1]  # changed again: keeps its place
    queue[made[4].seq] = made[4]
    assert list(queue) == [1, 2, 3, 4, 5]
    assert queue[3] is made[2]
    taken = queue.take(2)
    assert [record.seq for record in taken] == [1, 2]
    assert all(record.sent and not record.dirty for record in taken)
    queue[made[0].seq] = made[0]  # changed after it was taken: queued at the end
    assert list(queue) == [3, 4, 5, 1]
    queue.discard(made[3])
    queue.discard(made[5])  # not queued: nothing happens
    assert list(queue) == [3, 5, 1]
    assert len(queue) == 3
    assert queue
    assert [record.seq for record in queue.take(10)] == [3, 5, 1]
    assert len(queue) == 0
    assert not queue


def test_it_refuses_what_it_cannot_hold() -> None:
    queue, made = new_queue(), records(2)
    with pytest.raises(TypeError):
        queue[1] = (1, "a frozen tuple")
    with pytest.raises(ValueError, match="its own seq"):
        queue[2] = made[0]  # a record goes under its own seq
    with pytest.raises(KeyError):
        queue[1]
    with pytest.raises(TypeError):
        del queue[1]


def test_it_holds_a_record_only_while_the_record_is_queued() -> None:
    queue, made = new_queue(), records(3)
    before = [sys.getrefcount(record) for record in made]
    for seq, record in enumerate(made, start=1):
        queue[seq] = record
    del record
    assert [sys.getrefcount(record) for record in made] == [count + 1 for count in before]
    queue.discard(made[0])
    taken = queue.take(1)
    queue.clear()
    del taken
    assert [sys.getrefcount(record) for record in made] == before


def test_the_recorder_queues_each_changed_task_once_and_drops_the_evicted() -> None:
    recorder = Recorder(accelerated=True, keep_finished=5)

    async def one() -> None:
        await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(40)))

    recorder.install()
    try:
        asyncio.run(main())
    finally:
        recorder.uninstall()
    assert type(recorder.dirty).__name__ == "ChangedQueue"
    kept = sorted(record.seq for record in recorder.finished if not isinstance(record, tuple))
    assert sorted(recorder.dirty) == kept  # the 35 evicted left the queue
    assert [record.seq for record in recorder.take_dirty(100)] == kept
