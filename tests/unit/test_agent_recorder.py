"""The recorder in this process: it keeps no task alive, and still finds the ones collected."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from loopscope.tasks.agent.recorder import Recorder
from loopscope.tasks.agent.rows import RowBuilder
from tests.unit.agent_paths import PATHS


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_task_collected_while_pending_is_found_and_never_kept_alive(accelerated: bool) -> None:
    recorder = Recorder(accelerated=accelerated)
    recorder.install()
    assert recorder.accelerated is accelerated
    loop = asyncio.new_event_loop()
    try:
        async def forever() -> None:
            await asyncio.Event().wait()

        async def main() -> weakref.ref[asyncio.Task[None]]:
            task = asyncio.get_running_loop().create_task(forever(), name="forgotten")
            # asyncio's own switch, so the loop does not report the task it destroys
            task._log_destroy_pending = False  # type: ignore[attr-defined]  # noqa: SLF001
            await asyncio.sleep(0)  # it runs one step and parks on the event
            return weakref.ref(task)

        gone = loop.run_until_complete(main())
        record = next(r for r in recorder.live.values() if r.steps)
        rows = RowBuilder(recorder)
        assert rows.task_row(record, recorder.clock())[6] == "suspended"
        rows.forget_tasks()
        gc.collect()
        assert gone() is None, "the agent kept the task alive"
        recorder.sweep()
        assert record.end == "cancelled"
        assert record.result == "destroyed while pending"
        assert record not in recorder.live.values()
    finally:
        recorder.uninstall()
        loop.close()
