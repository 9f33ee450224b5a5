"""The agent's uvloop hooks in this process: a loop made before or after ``install``, every
task recorded with its parent and timed steps, and uvloop put back as it was by ``uninstall``.
(The end-to-end tests, a real program under ``loopscope watch``, are in test_watch_headless.py
and tests/tui/test_watch_reliability.py.)"""

from __future__ import annotations

import asyncio
import time

import pytest

from loopscope.tasks.agent import uvloop_hooks
from loopscope.tasks.agent.recorder import Recorder
from loopscope.tasks.agent.rows import RowBuilder
from tests.unit.agent_paths import PATHS

uvloop = pytest.importorskip("uvloop")


@pytest.mark.parametrize("accelerated", PATHS)
def test_uvloop_tasks_are_recorded_with_parents_steps_and_ends(accelerated: bool) -> None:
    original = uvloop.Loop.create_task, uvloop.Loop.call_soon
    recorder = Recorder(accelerated=accelerated)
    recorder.install()  # uvloop is imported already: hooked at once
    try:
        assert uvloop_hooks.hooked()

        async def child(n: int) -> int:
            await asyncio.sleep(0)
            if n == 1:
                raise ValueError("one")
            return n

        async def blocks() -> None:
            time.sleep(0.02)  # noqa: ASYNC251 - a step that holds the loop 20 ms, on purpose

        async def main() -> None:
            kids = [asyncio.create_task(child(n), name=f"child-{n}") for n in range(2)]
            await asyncio.gather(*kids, return_exceptions=True)
            await asyncio.create_task(blocks(), name="blocks")

        uvloop.run(main())
        records = {r.name: r for r in recorder.take_dirty(1000) if r.name}
        parent = records["child-0"].parent
        assert parent is not None
        assert records["child-1"].parent == parent
        assert records["child-0"].end == "done"
        assert records["child-0"].result == "0"
        assert records["child-1"].end == "exception"
        assert records["child-0"].steps == 2  # up to the sleep(0), then to the end
        assert records["blocks"].busy >= 0.02
        assert records["blocks"].longest >= 0.02
        row = RowBuilder(recorder).task_row(records["child-1"], recorder.clock())
        assert row[-1][:2] == ["ValueError", "one"]  # type, message (then the traceback)
    finally:
        recorder.uninstall()
    assert not uvloop_hooks.hooked()
    assert (uvloop.Loop.create_task, uvloop.Loop.call_soon) == original


def test_after_uninstall_a_uvloop_program_runs_untouched() -> None:
    recorder = Recorder(accelerated=False)
    recorder.install()
    recorder.uninstall()

    async def main() -> str:
        return await asyncio.create_task(asyncio.sleep(0, result="ran"))

    assert uvloop.run(main()) == "ran"
    assert not recorder.live
    assert not recorder.dirty
