"""An executor job is named by the function it runs, through the wrappers asyncio adds."""

from __future__ import annotations

import asyncio
import functools
import time

from loopscope.tasks.agent.executor_jobs import job_name
from loopscope.tasks.agent.recorder import Recorder


def test_a_partial_is_named_by_its_function() -> None:
    assert job_name(functools.partial(time.sleep, 0)) == "sleep"
    assert job_name(functools.partial(functools.partial(time.sleep), 0)) == "sleep"
    assert job_name(time.sleep) == "sleep"


def test_to_thread_names_the_function_not_partial() -> None:
    """Trial: ``await asyncio.to_thread(time.sleep, 3)`` showed as ``#1 partial``."""
    recorder = Recorder()
    recorder.install()
    try:
        async def main() -> None:
            await asyncio.to_thread(time.sleep, 0)

        asyncio.run(main())
    finally:
        recorder.uninstall()
    names = [job[1] for job in recorder.jobs.values()]
    assert "sleep" in names
    assert "partial" not in names
