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


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_task_swept_before_the_loop_reports_it_destroyed_keeps_its_name(
    accelerated: bool,
) -> None:
    """The collector drops a task from asyncio's registry before its ``__del__`` reports
    "destroyed but it is pending"; the sender's sweep can run in between (seen on a busy
    machine: the headless report had the warning but no row named ``forgotten``). The
    report must still find the record and name it."""
    recorder = Recorder(accelerated=accelerated)
    recorder.install()
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, _context: None)
    try:
        async def forever() -> None:
            await asyncio.Event().wait()

        async def main() -> asyncio.Task[None]:
            task = asyncio.get_running_loop().create_task(forever(), name="forgotten")
            await asyncio.sleep(0)
            return task

        task = loop.run_until_complete(main())
        record = recorder.live[id(task)]
        asyncio.tasks._all_tasks.discard(task)  # type: ignore[attr-defined]  # noqa: SLF001 - as the collector does first
        recorder.sweep()
        assert record.end == "cancelled"
        assert record.name is None  # the sweep cannot read it: the task is "gone"
        loop.call_exception_handler({"message": "Task was destroyed but it is pending!",
                                     "task": task})
        warning = recorder.warnings[-1]
        assert warning[0] == "destroyed-pending"
        assert warning[2] == record.seq
        assert record.name == "forgotten"
        resent = recorder.dirty[record.seq]  # queued again, with its name
        if isinstance(resent, tuple):  # frozen again (the Python path)
            assert "forgotten" in resent
        else:  # the C path's record, kept as it is
            assert resent is record
        task.cancel()
        loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    finally:
        recorder.uninstall()
        loop.close()


def _attributes_in_a_dict(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether the loop's instance attributes were turned into a dict (``loop.__dict__`` was
    read): the collector then sees that dict among the loop's referents, not the values."""
    return any(isinstance(ref, dict) and "_ready" in ref for ref in gc.get_referents(loop))


@pytest.mark.parametrize("accelerated", PATHS)
def test_watching_a_loop_leaves_its_attribute_reads_on_the_fast_path(accelerated: bool) -> None:
    """The agent finds a loop's state without reading ``loop.__dict__``: reading it made every
    ``self.…`` in the loop's own methods about twice as slow for the rest of the program."""
    recorder = Recorder(accelerated=accelerated)
    recorder.install()
    try:
        with asyncio.Runner() as runner:
            loop = runner.get_loop()
            assert not _attributes_in_a_dict(loop)

            async def one() -> None:
                await asyncio.sleep(0)

            async def main() -> None:
                await asyncio.gather(*(one() for _ in range(10)))

            runner.run(main())
            assert len(recorder.finished) >= 10, "the tasks were recorded"
            assert not _attributes_in_a_dict(loop)
    finally:
        recorder.uninstall()
