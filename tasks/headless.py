"""Run specs to completion with no screen: what ``loopscope run`` does."""

from __future__ import annotations

from typing import Any

from loopscope.tasks.gc_tuning import tune_garbage_collector
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.report import build_report, build_scenario_report
from loopscope.tasks.spec import TaskSpec


async def run_specs(
    specs: list[TaskSpec], options: EngineOptions, *, sequential: bool = False
) -> dict[str, Any]:
    """Run ``specs`` as one concurrent batch (then, if ``sequential``, replay it one by one)."""
    tune_garbage_collector()  # `loopscope run` owns its process
    async with TaskManager(options) as manager:
        batch = manager.launch(specs)
        started = manager.clock()
        await batch.wait()
        lag = manager.lag.stats(since=started)
        replay = None
        if sequential:
            replay = manager.replay_sequential(batch)
            await replay.wait()
        report = build_report(batch, manager.clock(), lag, replay)
        report["executors"] = {
            "thread_workers": manager.thread_workers,
            "process_workers": manager.process_workers,
            "connector_limit": manager.connector_limit,
            "limit_per_host": manager.limit_per_host,
        }
        if manager.notices:
            report["notices"] = list(manager.notices)
        return report


async def run_scenario(name: str, options: EngineOptions) -> dict[str, Any]:
    """Run scenario ``name`` to completion (its headless options: three sensor rounds...)."""
    from loopscope.tasks.scenarios import start

    tune_garbage_collector()
    async with TaskManager(options) as manager:
        started = manager.clock()
        run = start(manager, name, headless=True)
        await run.wait()
        context = run.context
        report = build_scenario_report(
            name, context.batches, manager.clock(), manager.lag.stats(since=started),
            context.lines(), context.data,
        )
        report["error"] = None if run.error is None else f"{type(run.error).__name__}: {run.error}"
        return report
