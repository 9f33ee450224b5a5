"""Every kind through every state it can reach, on a real manager and the demo server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskRecord, TaskState


async def run_one(manager: TaskManager, text: str) -> TaskRecord:
    batch = manager.launch(text)
    await asyncio.wait_for(batch.wait(), 30)
    assert len(batch.records) == 1
    return batch.records[0]


async def wait_for_state(record: TaskRecord, state: TaskState, timeout: float = 10) -> None:
    async def poll() -> None:
        while record.state is not state:
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("fetch /delay/10", "200 OK"),
        ("fetch /bytes/200000", "195.3 KiB"),
        ("fetch /delay/0 method=POST", "200 OK"),
        ("sleep 0.01", "slept 0.01 s"),
        ("thread 0.01", "a worker blocked"),
        ("cpu 1000 in=thread", "sum = 332833500"),
        ("cpu 1000", "sum = 332833500"),
        ("read", "read 4.0 KiB at once"),
        ("read mode=chunks", "read 4.0 KiB in 1 chunk"),
        ("read mode=lines", "lines"),
        ("write 100K", "wrote 100.0 KiB"),
        ("block 0.01", "blocked the loop"),
    ],
)
async def test_each_kind_runs_to_done(manager: TaskManager, text: str, result: str) -> None:
    record = await run_one(manager, text)
    assert record.state is TaskState.DONE, record.error
    assert result in record.result
    assert record.started is not None
    assert record.finished is not None
    assert record.created <= record.started <= record.finished


async def test_fetch_counts_streamed_bytes(manager: TaskManager) -> None:
    record = await run_one(manager, "fetch /bytes/300000?delay_ms=1")
    assert record.bytes_done == record.bytes_total == 300000


async def test_read_counts_bytes_and_lines(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "three.txt"
    path.write_text("a\nbb\nccc\n")
    record = await run_one(manager, f"read {path} mode=lines")
    assert record.result == "read 3 lines, 9 B"
    assert record.bytes_done == record.bytes_total == 9
    assert record.preview == "a\n"


async def test_write_puts_the_bytes_on_disk(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    record = await run_one(manager, f"write {path} 200K")
    assert record.state is TaskState.DONE
    assert path.stat().st_size == 200 * 1024


async def test_fail_ends_in_exception_with_a_traceback(manager: TaskManager) -> None:
    record = await run_one(manager, "fail disk on fire")
    assert record.state is TaskState.EXCEPTION
    assert record.error == "InjectedFailure: disk on fire"
    assert record.traceback
    assert "InjectedFailure" in record.traceback


@pytest.mark.parametrize("text", ["sleep 30", "thread 30", "cpu 3000000000 in=thread"])
async def test_cancel_while_running(manager: TaskManager, text: str) -> None:
    record = manager.launch(text).records
    await asyncio.sleep(0)
    (task,) = record
    await wait_for_state(task, TaskState.RUNNING)
    assert manager.cancel(task.id)
    await wait_for_state(task, TaskState.CANCELLED)
    assert task.run_s(manager.clock()) < 30


async def test_cancel_a_running_process_job() -> None:
    """A job running in a process cannot be interrupted: it shows as cancelling, with the
    reason, and keeps its worker busy until the worker is free (here: until close)."""
    manager = TaskManager(EngineOptions(process_workers=1, demo_server=False))
    await manager.start()
    batch = manager.launch("cpu 3000000000")
    await asyncio.sleep(0)
    (record,) = batch.records
    await wait_for_state(record, TaskState.RUNNING, timeout=20)
    assert manager.process_workers_busy == 1
    assert manager.cancel(record.id)
    while record.cancelling is None:
        await asyncio.sleep(0.01)
    assert record.status == "cancelling"
    assert "cannot be interrupted" in record.cancelling
    assert not batch.done
    assert manager.process_workers_busy == 1
    await asyncio.wait_for(manager.aclose(), 10)
    assert record.state is TaskState.CANCELLED
    assert batch.done


async def test_executor_jobs_wait_pending_for_a_worker() -> None:
    async with TaskManager(EngineOptions(thread_workers=1, demo_server=False)) as manager:
        batch = manager.launch("thread 30 x2")
        await asyncio.sleep(0)
        first, second = batch.records
        await wait_for_state(first, TaskState.RUNNING)
        await asyncio.sleep(0.05)
        assert second.state is TaskState.PENDING  # the only worker is busy
        assert manager.cancel(second.id)  # cancel while pending
        await wait_for_state(second, TaskState.CANCELLED)
        assert second.started is None
        manager.cancel(first.id)
        await batch.wait()


@pytest.mark.parametrize(
    "options",
    [
        {"connector_limit": 1},
        {"connector_limit": 1, "trace_connections": True},
        {"connector_limit": 10, "limit_per_host": 1},
    ],
    ids=["slots", "aiohttp-trace", "per-host"],
)
async def test_fetches_wait_pending_for_a_connection(options: dict[str, object]) -> None:
    async with TaskManager(EngineOptions(**options)) as manager:  # type: ignore[arg-type]
        batch = manager.launch("fetch /delay/3000 x2")
        await asyncio.sleep(0)
        first, second = batch.records
        await wait_for_state(first, TaskState.RUNNING)
        await asyncio.sleep(0.05)
        assert second.state is TaskState.PENDING
        assert manager.cancel(second.id)
        await wait_for_state(second, TaskState.CANCELLED)
        assert second.started is None
        manager.cancel(first.id)
        await batch.wait()
        assert first.state is TaskState.CANCELLED


async def test_a_connector_limit_makes_waves(manager: TaskManager) -> None:
    async with TaskManager(EngineOptions(connector_limit=2)) as limited:
        batch = limited.launch("fetch /delay/100 x4")
        await batch.wait()
        waits = sorted(r.wait_s(limited.clock()) for r in batch.records)
        # the second pair waited for the first pair's connections
        assert waits[2] > waits[1] + 0.05


async def test_failures_do_not_touch_siblings(manager: TaskManager) -> None:
    batch = manager.launch("fail x3; sleep 0.05 x3")
    await batch.wait()
    assert batch.counts[TaskState.EXCEPTION] == 3
    assert batch.counts[TaskState.DONE] == 3


# --- one Kind object per kind ---------------------------------------------------------------


def test_every_builtin_kind_is_one_object_in_its_own_module() -> None:
    from loopscope.tasks.kinds import registry

    kinds = registry.all_kinds()
    assert [kind.name for kind in kinds] == list(registry.BUILTIN_MODULES)
    for kind in kinds:
        module = __import__(f"loopscope.tasks.kinds.{kind.name}", fromlist=["KIND"])
        assert module.KIND is kind
        assert kind.help
        assert kind.usage.startswith(kind.name)
        assert kind.example.split()[0] == kind.name


def test_the_readme_table_is_made_from_the_kinds() -> None:
    from loopscope.tasks.kinds.table import markdown_table
    from tests.staging import REPO

    readme = (REPO / "README.md").read_text()
    assert markdown_table() in readme, (
        "README's kinds table is stale: paste `python -m loopscope.tasks.kinds.table`"
    )


async def test_a_spec_is_parsed_once_per_launch_not_per_task(manager: TaskManager) -> None:
    from loopscope.tasks.kinds import Kind, Param, registry
    from loopscope.tasks.kinds.values import parse_seconds
    from loopscope.tasks.spec import TaskSpec

    parsed: list[str] = []
    seen: list[object] = []

    def counted(word: str) -> float:
        parsed.append(word)
        return parse_seconds(word)

    async def run(ctx: object, record: TaskRecord, seconds: float) -> str:
        seen.append(seconds)
        ctx.mark_running(record)  # type: ignore[attr-defined]
        return "ok"

    counting = Kind("counting", help="counts its parses", runner=run,
                    build=lambda seconds: seconds, args=(Param("seconds", counted),),
                    describe=lambda seconds: f"{seconds:g} s", source="test")
    with registry.restoring():
        registry.register(counting)
        batch = manager.launch("counting 0.5 x1000")
        await asyncio.wait_for(batch.wait(), 30)
        assert parsed == ["0.5"]
        by_hand = manager.launch(TaskSpec("counting", ("2",), 300))
        await asyncio.wait_for(by_hand.wait(), 30)
        assert parsed == ["0.5", "2"]
    assert seen == [0.5] * 1000 + [2.0] * 300  # typed values, not words
    assert {record.target for record in by_hand.records} == {"2 s"}


@pytest.mark.parametrize(
    "spec",
    [
        ("sleep", ("nan",)),
        ("sleep", ()),
        ("sleep", ("1",), 0),
        ("sleep", ("1",), 200_000),
        ("nosuchkind", ()),
        ("fetch", ("/x",), 1, (("timeout", "0"),)),
    ],
)
async def test_hand_built_specs_are_checked_at_the_engine_door(
    manager: TaskManager, spec: tuple[object, ...]
) -> None:
    from loopscope.tasks.errors import SpecError
    from loopscope.tasks.spec import TaskSpec

    with pytest.raises(SpecError):
        manager.launch(TaskSpec(*spec))  # type: ignore[arg-type]
    assert manager.last_batch is None
    assert not manager.records


async def test_a_launch_of_many_specs_is_capped_as_a_whole(manager: TaskManager) -> None:
    from loopscope.tasks.errors import SpecError
    from loopscope.tasks.spec import TaskSpec

    with pytest.raises(SpecError, match="at most 100,000 tasks"):
        manager.launch([TaskSpec("sleep", ("0",), 100_000)] * 40)
    assert manager.last_batch is None
