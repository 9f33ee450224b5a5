"""Every scenario run headless to completion, with its results checked.

Options shrink the slow ones (the sensors' 5 s interval, the race's workloads) without
changing what they do.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskState
from loopscope.tasks.scenarios import SCENARIOS, LogEntry, LogKind, ScenarioRun, start
from loopscope.tasks.units import human_seconds

FAST: dict[str, dict[str, Any]] = {
    "sensors": {"interval": 0.05},
    "futures": {"pause": 0.1},
    "limits": {"count": 20},
    "blocking": {"seconds": 0.4},
    "files": {"count": 10, "size": 8192},
    "race": {"io_count": 6, "io_ms": 100, "cpu_count": 4, "cpu_n": 1_500_000},
}


async def run(name: str, **options: Any) -> ScenarioRun:
    manager = TaskManager(EngineOptions(thread_workers=16, process_workers=2, demo_seed=5))
    await manager.start()
    try:
        scenario_run = start(manager, name, headless=True, **{**FAST.get(name, {}), **options})
        await asyncio.wait_for(scenario_run.wait(), 90)
        assert scenario_run.error is None, scenario_run.context.lines()
        for batch in scenario_run.context.batches:
            assert batch.done
        return scenario_run
    finally:
        await manager.aclose()


def test_the_issue_lists_them_all_in_order() -> None:
    assert list(SCENARIOS) == [
        "sensors", "downloads", "files", "chain", "futures", "gather", "limits", "timeouts",
        "blocking", "race",
    ]
    for scenario in SCENARIOS.values():
        assert len(scenario.explanation) > 150  # a paragraph, not a label


async def test_sensors_three_rounds_in_celsius_and_a_sequential_round() -> None:
    result = await run("sensors")
    data = result.context.data
    assert len(data["rounds"]) == 3
    assert 10 < data["average_c"] < 35  # ~68 °F from the server, converted
    assert data["sequential_round_s"] > data["concurrent_round_s"]
    records = [r for b in result.context.batches for r in b.records]
    assert len(records) == 20
    assert all(r.result.endswith("°C") for r in records)


async def test_downloads_save_four_and_time_one_out() -> None:
    data = (await run("downloads")).context.data
    assert data == {"saved": 4, "timed_out": 1}


async def test_files_measures_every_way_and_names_the_fastest() -> None:
    data = (await run("files")).context.data
    assert set(data["walls_s"]) == {
        "plain open(), sequential", "aiofiles whole, concurrent", "aiofiles whole, sequential",
        "aiofiles chunks, concurrent", "aiofiles lines, concurrent",
    }
    assert data["fastest"] == min(data["walls_s"], key=data["walls_s"].__getitem__)


async def test_chain_combines_each_user_with_their_orders() -> None:
    log = (await run("chain")).context.lines()
    combined = [line for line in log if line.startswith("user-")]
    assert len(combined) == 3
    assert all(re.search(r": \d+ orders?, ", line) for line in combined)
    assert not any(re.search(r"\b1 orders\b", line) for line in log)


async def test_futures_show_result_and_exception() -> None:
    result = await run("futures")
    assert result.context.data == {"result": 42, "exception": "ValueError('sensor offline')"}
    (batch,) = result.context.batches
    assert [r.state for r in batch.records] == [TaskState.DONE, TaskState.EXCEPTION]
    assert any("done-callback: future 1" in line for line in result.context.lines())


async def test_stopping_futures_while_its_waiters_hold_them_logs_no_callback_error(
    manager: TaskManager,
) -> None:
    """Stopping cancels the futures the waiters hold; the done-callbacks say so instead of
    raising CancelledError from ``f.result()`` into the loop's exception handler."""
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    scenario_run = start(manager, "futures", headless=True, pause=3600)
    while not scenario_run.context.batches or len(scenario_run.context.batches[0].records) < 2:
        await asyncio.sleep(0)  # until both waiters are tracked
    for _ in range(3):
        await asyncio.sleep(0)  # until both waiters await their futures
    manager.cancel_all()  # what `C` does: the scenario and its waiters
    await scenario_run.wait()
    for batch in scenario_run.context.batches:
        await batch.wait()
    for _ in range(3):
        await asyncio.sleep(0)  # the futures' done-callbacks
    assert errors == []
    lines = scenario_run.context.lines()
    assert "done-callback: future 1 was cancelled" in lines
    assert "done-callback: future 2 was cancelled" in lines


async def test_gather_semantics() -> None:
    result = await run("gather")
    plain, _in_order, _completed, group = result.context.batches
    # gather: the failure propagated, but nothing was cancelled
    assert plain.counts[TaskState.EXCEPTION] == 1
    assert plain.counts[TaskState.CANCELLED] == 0
    assert plain.counts[TaskState.DONE] == 9
    # return_exceptions: results in the order given
    assert result.context.data["in_order"][:4] == ["600", "200", "900", "HTTPStatusError"]
    # as_completed: in the order they finished
    assert result.context.data["as_completed"][:3] == ["100", "200", "300"]
    # TaskGroup: the siblings still running were cancelled
    assert group.counts[TaskState.EXCEPTION] == 1
    assert group.counts[TaskState.CANCELLED] == 6


async def test_limits_make_waves() -> None:
    result = await run("limits")
    connector, per_host, semaphore = result.context.batches
    now = 0.0
    for batch in (connector, semaphore):
        waits = sorted(r.wait_s(now) for r in batch.records)
        assert waits[4] < 0.1 < waits[5]  # five at once, the rest waited for a slot
        assert batch.timing(now).wall_s >= 0.75  # four waves of 200 ms
    assert per_host.timing(now).wall_s < connector.timing(now).wall_s
    # the bytes column is filled for every fetch, as its result says
    for batch in (connector, per_host, semaphore):
        assert all(r.bytes_done > 0 and r.result == f"{r.bytes_done} B" for r in batch.records)
    # the log states what was measured beside the floor the waves set, not a guess
    figures = result.context.data["limits"]
    assert [f["waves"] for f in figures.values()] == [4, 2, 4]  # 20 fetches, 5/10/5 at once
    for (label, figure), batch in zip(figures.items(), (connector, per_host, semaphore),
                                      strict=True):
        wall = batch.timing(now).wall_s
        assert wall >= figure["floor_s"]
        line = next(line for line in result.context.lines() if line.startswith(label))
        assert f"measured {human_seconds(wall)}" in line
        assert "about" not in line


async def test_timeouts_and_cancellation() -> None:
    result = await run("timeouts")
    (batch,) = result.context.batches
    by_target = {r.target: r for r in batch.records}
    assert by_target["/delay/2000 under asyncio.timeout(0.5)"].error_type == "TimeoutError"
    assert by_target["/delay/200 under asyncio.timeout(1)"].state is TaskState.DONE
    assert by_target["/delay/2000 (inside wait_for)"].state is TaskState.CANCELLED
    assert by_target["/delay/3000 (awaited by the outer task)"].state is TaskState.CANCELLED
    assert by_target["outer task awaiting a 3 s fetch"].state is TaskState.CANCELLED


async def test_blocking_spikes_only_when_the_loop_blocks() -> None:
    data = (await run("blocking")).context.data
    assert data["lag_max_blocked_ms"] > 300
    assert data["lag_max_offloaded_ms"] < 100


async def test_stopping_a_scenario_cancels_its_tasks() -> None:
    async with TaskManager() as manager:
        scenario_run = start(manager, "sensors", interval=60)
        await asyncio.sleep(0.2)
        manager.cancel_all()
        await asyncio.wait_for(scenario_run.wait(), 5)
        assert scenario_run.context.log[-1] == LogEntry(LogKind.STOPPED, "stopped")
        assert all(b.done for b in scenario_run.context.batches)
        assert manager.live_count == 0


@pytest.mark.parametrize("name", ["chain", "futures"])
def test_cli_runs_a_scenario_headless(name: str) -> None:
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", "--scenario", name, "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["scenario"] == name
    assert report["error"] is None
    assert {"wall_s", "sequential_estimate_s", "speedup", "counts", "tasks", "lag"} <= set(report)
    assert report["log"][-1] == "■ done"
