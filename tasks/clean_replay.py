"""``R`` on the dashboard: the measured gain, taken in a clean process, shown live.

The replay and the concurrent wall it is divided by must be measured under the same
conditions, and not beside the screen: a sequential replay of CPU-bound thread jobs in the
dashboard's process measured 2.3x where the same replay headless measured 0.9x. So a clean
process (tasks/isolated.py) does exactly what ``loopscope run SPECS --sequential`` does, the
batch concurrently and then one task after another, with the same engine settings; the
replay's tasks are mirrored into a batch of this manager as they move, and when it ends the
batch gets both figures (``record_measurement``). How long the batch took on the screen is
kept beside them, so the screen's own cost can be read: ``screen_share``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any

from loopscope.tasks.batch import Batch
from loopscope.tasks.isolated import CleanProcessError, Mirror, run_clean
from loopscope.tasks.kinds import registry
from loopscope.tasks.manager import TaskManager


@dataclass(slots=True)
class CleanReplay:
    """A replay running in a clean process, and what it found."""

    original: Batch
    replay: Batch
    """The mirrored batch: the replay's tasks as the clean process runs them."""
    screen_wall_s: float
    """The original batch's wall on the dashboard (beside the screen)."""
    task: asyncio.Task[None] | None = None
    clean_wall_s: float | None = None
    sequential_s: float | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.done()

    @property
    def speedup(self) -> float | None:
        if self.clean_wall_s and self.sequential_s is not None:
            return self.sequential_s / self.clean_wall_s
        return None

    @property
    def screen_share(self) -> float | None:
        """How much longer the batch took beside the screen than in the clean process."""
        if self.clean_wall_s:
            return self.screen_wall_s / self.clean_wall_s - 1.0
        return None


def engine_settings(manager: TaskManager) -> dict[str, Any]:
    """The manager's settings (EngineOptions' fields), for a TaskManager in another process.

    The demo server: one of its own in the clean process, as ``loopscope run`` has, when this
    manager embeds one; the same address when it was given one.
    """
    settings = dataclasses.asdict(manager.options)
    if manager.embedded_demo:
        settings.update(demo_server=True, demo_url=None)
    else:
        settings.update(demo_server=False, demo_url=manager.demo_url)
    return settings


def kinds_files(batch: Batch) -> list[str]:
    """The users' kinds files the batch's specs need (the clean process loads them too)."""
    files = []
    for spec in batch.specs:
        kind = registry.get(spec.kind)
        if kind is not None and not kind.builtin and kind.source not in files:
            files.append(kind.source)
    return files


def replay_in_clean_process(manager: TaskManager, batch: Batch) -> CleanReplay:
    """Start measuring ``batch`` in a clean process; returns at once (``C`` stops it)."""
    replay = manager.open_batch(
        f"sequential replay of batch #{batch.id}, in a clean process",
        sequential=True,
        replay_of=batch.id,
    )
    run = CleanReplay(batch, replay, batch.timing(manager.clock()).wall_s)
    run.task = asyncio.get_running_loop().create_task(
        _measure(manager, run), name=f"loopscope-clean-replay-{batch.id}"
    )
    manager.watch(run.task)
    return run


async def _measure(manager: TaskManager, run: CleanReplay) -> None:
    mirror = Mirror(manager, run.replay)
    job = {
        "job": "replay",
        "specs": "; ".join(spec.text(mask_secrets=False) for spec in run.original.specs),
        "engine": engine_settings(manager),
        "kinds": kinds_files(run.original),
    }
    try:
        result = await run_clean(job, mirror.apply)
    except CleanProcessError as error:
        run.error = str(error)
    except asyncio.CancelledError:
        run.error = "stopped"
        raise
    else:
        run.clean_wall_s = float(result["wall_s"])
        run.sequential_s = float(result["sequential_s"])
        if result["counts"].get("cancelled", 0) == 0:
            manager.record_measurement(run.original, run.clean_wall_s, run.sequential_s)
    finally:
        mirror.cancel_rest()
        manager.close_batch(run.replay)
