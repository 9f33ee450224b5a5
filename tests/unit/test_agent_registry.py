"""The sender finds the live task of a record in asyncio's registry: only the ids asked for,
the same with the C look (``_registry.c``) as with the Python copy, whatever the task's
class does with ``__hash__``."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import pytest

from loopscope.tasks.agent import registry
from loopscope.tasks.agent.batches import ROW_CHUNK, BatchBuilder
from loopscope.tasks.agent.recorder import Recorder
from loopscope.tasks.agent.wire import TASK_FIELDS


class _OwnHash(asyncio.Task):  # type: ignore[type-arg]
    """A task class that hashes itself otherwise than by its address."""

    def __hash__(self) -> int:
        return 7


@pytest.fixture(params=["in place", "copied"])
def look(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "in place":
        if registry._registry is None:  # noqa: SLF001
            pytest.skip("the C module was not built here")
    else:
        monkeypatch.setattr(registry, "_registry", None)
    return str(request.param)


async def test_only_the_tasks_asked_for_are_found(look: str) -> None:
    gate = asyncio.Event()
    tasks = [asyncio.create_task(gate.wait()) for _ in range(2000)]
    await asyncio.sleep(0)
    wanted = [id(task) for task in tasks[::97]]
    found = registry.tasks_by_id([], wanted)
    assert found is not None
    if look == "in place":
        assert set(found) == set(wanted), "every task asked for, and nothing else"
    else:
        assert set(wanted) <= set(found)  # the copy holds every task
    assert all(found[id(task)] is task for task in tasks[::97])
    gate.set()
    await asyncio.gather(*tasks)


async def test_a_task_hashed_otherwise_is_still_found(look: str) -> None:
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()
    odd = _OwnHash(gate.wait(), loop=loop)
    plain = [asyncio.create_task(gate.wait()) for _ in range(50)]
    await asyncio.sleep(0)
    found = registry.tasks_by_id([], [id(odd), id(plain[3]), id(odd)])
    assert found is not None
    assert found[id(odd)] is odd
    assert found[id(plain[3])] is plain[3]
    gate.set()
    await asyncio.gather(odd, *plain)


async def test_a_collected_task_is_not_found(look: str) -> None:
    gate = asyncio.Event()
    keep = [asyncio.create_task(gate.wait()) for _ in range(20)]
    done = asyncio.create_task(asyncio.sleep(0))
    await done
    await asyncio.sleep(0)
    gone_id, alive = id(done), weakref.ref(done)
    del done
    gc.collect()
    assert alive() is None
    found = registry.tasks_by_id([], [gone_id, id(keep[0])])
    assert found == {id(keep[0]): keep[0]} or look == "copied"
    assert found is not None
    assert gone_id not in found
    gate.set()
    await asyncio.gather(*keep)


async def _batch_of_parked_tasks(count: int) -> tuple[list[list[Any]], list[Any]]:
    """A batch built while ``count`` tasks wait on an event, and the ids asked of the
    registry meanwhile (None: every task)."""
    recorder = Recorder()
    recorder.install()
    asked: list[Any] = []
    look = recorder.tasks_by_id

    def counted(ids: Any = None) -> Any:
        asked.append(None if ids is None else set(ids))
        return look(ids)

    recorder.tasks_by_id = counted  # type: ignore[method-assign]
    try:
        gate = asyncio.Event()

        async def parked() -> None:
            await gate.wait()

        tasks = [asyncio.create_task(parked(), name=f"parked-{n}") for n in range(count)]
        await asyncio.sleep(0)
        batch = BatchBuilder(recorder, {}, refresh_rows=0).build(final=False)
        gate.set()
        await asyncio.gather(*tasks)
    finally:
        recorder.uninstall()
    rows = [row for row in batch["tasks"] if str(row[1]).startswith("parked-")]
    return rows, asked


async def test_a_batch_reads_its_live_tasks_in_a_look_per_chunk(look: str) -> None:
    rows, asked = await _batch_of_parked_tasks(3 * ROW_CHUNK)
    state = TASK_FIELDS.index("state")
    assert len(rows) == 3 * ROW_CHUNK
    assert {row[state] for row in rows} == {"suspended"}, "each row read its task"
    if look == "in place":
        assert 3 <= len(asked) <= 5, "a look per chunk of rows, not per row"
        assert all(ids is not None and len(ids) <= ROW_CHUNK for ids in asked)
    else:
        assert asked == [None], "one copy of every task for the whole batch"
