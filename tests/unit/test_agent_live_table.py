"""The C hot path's table of live tasks (``live_table.h``): the same answers as the dict it
replaced, under any mix of inserts and deletes (its deletion moves entries back instead of
leaving tombstones, the part easiest to get wrong), values released when they leave, and its
memory back down after a burst."""

from __future__ import annotations

import asyncio
import gc
import random
import sys
import weakref
from typing import Any

import pytest

from loopscope.tasks.agent import recorder as recorder_module
from loopscope.tasks.agent.recorder import Recorder
from tests.unit.agent_paths import C_BUILT

pytestmark = pytest.mark.skipif(not C_BUILT, reason="the C hot path is not built")


def new_table() -> Any:
    return recorder_module._hotpath.LiveTable()  # noqa: SLF001 - the table under test


class Value:
    """A value that can be watched for release."""


def test_it_answers_as_a_dict_does_under_any_mix_of_operations() -> None:
    table, reference = new_table(), {}
    # Real object addresses, as the recorder's keys are: pymalloc's alignment and all.
    objects = [Value() for _ in range(20_000)]
    keys = [id(each) for each in objects]
    chooser = random.Random(9)
    for step in range(200_000):
        key = chooser.choice(keys)
        action = chooser.random()
        if action < 0.45:
            table[key] = reference[key] = step
        elif action < 0.75:
            assert table.pop(key, None) == reference.pop(key, None)
        elif action < 0.85 and key in reference:
            del table[key]
            del reference[key]
        else:
            assert table.get(key) == reference.get(key)
            assert (key in table) == (key in reference)
        if step % 25_000 == 0:
            assert len(table) == len(reference)
            assert sorted(table) == sorted(reference)
    assert sorted(table.keys()) == sorted(reference)
    assert sorted(table.values()) == sorted(reference.values())
    assert sorted(table.items()) == sorted(reference.items())
    for key in list(reference):
        assert table[key] == reference[key]


def test_missing_and_foreign_keys_read_as_a_dict_reads_them() -> None:
    table = new_table()
    value = Value()
    table[id(value)] = value
    assert table.get(id(value) + 16) is None
    assert table.get("not an id", "fallback") == "fallback"
    assert "not an id" not in table
    assert -1 not in table
    assert table.pop(12345, "absent") == "absent"
    with pytest.raises(KeyError):
        table[id(value) + 16]
    with pytest.raises(KeyError):
        del table[id(value) + 16]
    with pytest.raises(KeyError):
        table.pop(id(value) + 16)
    with pytest.raises(TypeError):
        table["not an id"] = value


def test_a_value_is_released_when_it_leaves_the_table() -> None:
    table = new_table()
    values = [Value() for _ in range(5)]
    refs = [weakref.ref(each) for each in values]
    keys = [id(each) for each in values]
    for key, value in zip(keys, values, strict=True):
        table[key] = value
    del value
    table[keys[0]] = "replaced"
    del table[keys[1]]
    table.pop(keys[2])
    values.clear()
    assert [ref() is None for ref in refs] == [True, True, True, False, False]
    table.clear()
    assert len(table) == 0
    assert all(ref() is None for ref in refs)
    survivor = Value()
    table[id(survivor)] = survivor
    ref = weakref.ref(survivor)
    del survivor, table
    assert ref() is None


def test_its_memory_falls_back_after_a_burst() -> None:
    table = new_table()
    empty = sys.getsizeof(table)
    objects = [Value() for _ in range(100_000)]
    for each in objects:
        table[id(each)] = each
    assert sys.getsizeof(table) > empty + 16 * 100_000
    for each in objects:
        del table[id(each)]
    assert len(table) == 0
    assert sys.getsizeof(table) <= empty + 16 * 64  # back to its smallest


def test_the_recorder_keeps_its_live_tasks_in_it_and_empties_it() -> None:
    recorder = Recorder(accelerated=True)
    seen: list[int] = []

    async def one() -> None:
        await asyncio.sleep(0)

    async def main() -> None:
        tasks = [asyncio.create_task(one()) for _ in range(300)]
        await asyncio.sleep(0)
        seen.append(len(recorder.live))
        assert all(recorder.live[id(task)].task_id == id(task) for task in tasks)
        await asyncio.gather(*tasks)

    recorder.install()
    try:
        asyncio.run(main())
    finally:
        recorder.uninstall()
    gc.collect()
    assert type(recorder.live).__name__ == "LiveTable"
    assert seen[0] >= 300  # main's own task is live too
    assert len(recorder.live) == 0
    assert all(record.ended_t is not None for record in recorder.finished
               if not isinstance(record, tuple))
