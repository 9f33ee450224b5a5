"""What keeps the viewer's garbage collector short with 100,000 watched tasks: decoded frames
shared between snapshots, and the snapshots frozen out of the collector as the store grows."""

from __future__ import annotations

import gc
import weakref

import pytest

from loopscope.tasks.agent import wire
from loopscope.tasks.agent.model import Frame, TaskSnapshot, TaskState
from loopscope.tasks.gc_tuning import FreezeAsItGrows


def parked(task_id: int) -> TaskSnapshot:
    return TaskSnapshot(
        id=task_id, name=f"parked-{task_id}", coro="parked", loop=1, parent=1,
        created_at=Frame("main", "many.py", 20), state=TaskState.SUSPENDED, created_t=1.0,
        ended_t=None, busy_s=0.0, scheduled_s=0.0, idle_s=2.0, steps=1, longest_step_s=0.0,
        longest_step_line=Frame("parked", "many.py", 8), blocked_at=None,
        await_chain=(Frame("parked", "many.py", 8), Frame("Event.wait", "locks.py", 213, True)),
        awaiting="Future pending", awaiting_task=None, suspended_t=1.5, result=None, error=None,
    )


def test_snapshots_decoded_from_rows_share_their_frames_and_chains() -> None:
    one, two = (wire.decode_task(wire.task_row(parked(n))) for n in (2, 3))
    assert one == parked(2)
    assert two == parked(3)
    assert one.created_at is two.created_at
    assert one.await_chain is two.await_chain
    assert one.await_chain[1].library


def test_a_frame_row_the_agent_never_writes_still_decodes() -> None:
    assert wire.decode_frame(["f", "x.py", 3, [1]]) == Frame("f", "x.py", 3, True)


def test_the_shared_frames_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "FRAMES_KEPT", 10)
    for line in range(100):
        wire.decode_frame(["f", "x.py", line])
    assert len(wire._FRAMES) <= 10  # noqa: SLF001


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_freeze_comes_with_each_step_of_growth_and_freezes_no_garbage() -> None:
    freezer = FreezeAsItGrows(step=100)
    frozen = gc.get_freeze_count()
    try:
        assert not freezer.grown_to(99)
        assert gc.get_freeze_count() == frozen
        garbage = Cycle()
        gone = weakref.ref(garbage)
        del garbage
        assert freezer.grown_to(100)
        assert gone() is None  # collected first, not frozen for ever
        assert gc.get_freeze_count() > frozen
        assert not freezer.grown_to(150)  # 50 more: not a step yet
        assert not freezer.grown_to(60)  # smaller again: never a freeze
        assert freezer.grown_to(200)
        assert freezer.frozen_at == 200
    finally:
        gc.unfreeze()  # the test process's objects back under the collector

