"""The race's CPU jobs run the plain script's own loop, and thread jobs still stop.

bench/race_plain.py is the race's yardstick: a lane must do its work the way that script does.
The sum once ran in chunks (the stop event's checks) inside the race too, and those chunks
made CPython's small-object allocator flip a pool on every allocation of the hot loop: the
sequential lane read 1.11x the plain script (tasks/workers.py says how that was measured).
These tests read which lines run, never a clock.
"""

from __future__ import annotations

import linecache
import sys
import threading
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from bench.race_plain import squares
from loopscope.tasks import workers
from loopscope.tasks.race_lanes import work_for
from loopscope.tasks.workers import JobStopped, sum_of_squares

N = 10


def loop_lines(call: Callable[[], Any]) -> set[str]:
    """The source lines ``call`` ran more than twice (its loops), as text."""
    runs: Counter[tuple[str, int]] = Counter()

    def trace(frame: FrameType, event: str, _arg: Any) -> Any:
        if event == "line":
            runs[frame.f_code.co_filename, frame.f_lineno] += 1
        return trace

    sys.settrace(trace)
    try:
        call()
    finally:
        sys.settrace(None)
    return {linecache.getline(file, line).strip() for (file, line), n in runs.items() if n > 2}


def test_a_race_cpu_job_loops_exactly_as_the_plain_script_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "CHUNK", 4)  # several chunks in N terms, were there chunks
    lane = loop_lines(work_for("cpu", N))
    assert lane == loop_lines(lambda: squares(N)) == {"for i in range(n):", "total += i * i"}
    assert work_for("cpu", N)() == squares(N) == sum(i * i for i in range(N))


def test_a_thread_job_checks_its_stop_event_between_chunks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "CHUNK", 4)
    stop = threading.Event()
    assert sum_of_squares(N, stop) == sum(i * i for i in range(N))
    stop.set()
    with pytest.raises(JobStopped):
        sum_of_squares(N, stop)
