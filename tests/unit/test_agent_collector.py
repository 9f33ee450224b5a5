"""The agent's thread sets off no garbage collection in the program while it builds a batch
(young collections there promoted the program's objects early and made its full
collections land where its heap was largest), and leaves the collector as it found it."""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from loopscope.tasks.agent import collector
from loopscope.tasks.agent.sender import Sender
from tests.unit.test_agent_batches import recorded_tasks


@pytest.fixture
def eager_collector() -> Iterator[list[int]]:
    """A collector that starts a young collection every 200 allocations (a batch of 300
    rows makes more than that); the generations of those that started, in order."""
    started: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(info["generation"])

    thresholds = gc.get_threshold()
    was_on = gc.isenabled()
    gc.enable()
    gc.set_threshold(200, 10, 10)
    gc.callbacks.append(note)
    try:
        yield started
    finally:
        gc.callbacks.remove(note)
        gc.set_threshold(*thresholds)
        if not was_on:
            gc.disable()


def test_a_batch_sets_off_no_collection(eager_collector: list[int]) -> None:
    recorder = recorded_tasks()  # 300 finished tasks: a batch of more rows than 200
    sender = Sender(recorder, status={}, duty=1.0)
    ours, viewer = socket.socketpair()
    try:
        sender._attach(ours)  # noqa: SLF001
        gc.collect()  # from a count of 0
        eager_collector.clear()
        sender._tick()  # noqa: SLF001
        assert viewer.recv(1 << 20), "the batch was built and sent"
        assert eager_collector == []
        assert gc.isenabled(), "the collector is back on after the batch"
        unpaused = [[n] for n in range(1000)]
        assert eager_collector, "the same allocations outside a batch do set one off"
        del unpaused
    finally:
        ours.close()
        viewer.close()


def test_a_collector_the_program_turned_off_stays_off() -> None:
    was_on = gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        if was_on:
            gc.enable()
