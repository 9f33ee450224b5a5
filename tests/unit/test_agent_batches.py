"""The sender's batches: a batch built while the program works stops at its CPU budget, and
what it left behind comes in the next ones (nothing is lost)."""

from __future__ import annotations

import asyncio

from loopscope.tasks.agent.batches import ROW_CHUNK, BatchBuilder
from loopscope.tasks.agent.recorder import Recorder

TASKS = 300


def recorded_tasks() -> Recorder:
    recorder = Recorder()
    recorder.install()
    try:
        async def one() -> None:
            await asyncio.sleep(0)

        async def main() -> None:
            await asyncio.gather(*(one() for _ in range(TASKS)))

        asyncio.run(main())
    finally:
        recorder.uninstall()
    return recorder


def sent_seqs(batch: dict[str, object]) -> set[int]:
    rows = batch["tasks"]
    assert isinstance(rows, list)
    return {row[0] for row in rows}


def test_a_spent_budget_stops_the_batch_after_one_chunk_and_the_rest_follow() -> None:
    recorder = recorded_tasks()
    batches = BatchBuilder(recorder, {}, max_rows=2000, refresh_rows=0)
    first = batches.build(final=False, budget=-1.0)  # spent before it starts
    assert len(first["tasks"]) == ROW_CHUNK
    seen = sent_seqs(first)
    while recorder.dirty:
        seen |= sent_seqs(batches.build(final=False, budget=-1.0))
    assert len(seen) == recorder.created > TASKS  # every task once (asyncio.run adds some)


def test_without_a_budget_a_batch_takes_up_to_its_limit() -> None:
    recorder = recorded_tasks()
    batches = BatchBuilder(recorder, {}, max_rows=2000, refresh_rows=0)
    assert len(batches.build(final=False, budget=None)["tasks"]) == recorder.created > TASKS
    limited = recorded_tasks()
    assert len(BatchBuilder(limited, {}, max_rows=120, refresh_rows=0)
               .build(final=False)["tasks"]) == 120
