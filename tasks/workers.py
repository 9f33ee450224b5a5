"""Functions that run inside executor workers, threads or processes.

This module imports only the standard library so a process-pool worker starts quickly.
Each job stamps the moment a worker picks it up: that, not submission, is when it starts
"running"; until then it is "pending", waiting for a free worker.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

CHUNK = 1 << 16

_announcements: Any = None
"""In a process worker: the pipe's writing end (a ``Connection``) on which it announces
(job id, start time); see process_jobs.py for why a pipe."""


class JobStopped(Exception):
    """A thread job noticed its stop event: the task was cancelled or the manager closed."""


def init_process_worker(announcements: Any) -> None:
    """ProcessPoolExecutor initializer: remember where to announce job starts."""
    global _announcements
    _announcements = announcements


def blocking_wait(
    seconds: float, on_start: Callable[[float], None], stop: threading.Event
) -> float:
    """Block this worker thread for ``seconds``, like time.sleep (the GIL is released).

    It waits on ``stop`` rather than calling time.sleep so that cancelling the task frees the
    worker at once instead of leaving a sleeping thread behind.
    """
    started = time.perf_counter()
    on_start(started)
    if stop.wait(seconds):
        raise JobStopped("stopped before the end")
    return time.perf_counter() - started


def sum_of_squares(n: int, stop: threading.Event | None = None) -> int:
    """Pure-Python CPU work that holds the GIL: 0² + 1² + ... + (n-1)².

    With a ``stop`` event (a thread job, which cannot be killed) the sum runs in chunks of
    ``CHUNK`` and checks the event between them, so cancelling frees the worker. Without one
    (a process-pool job, a race lane: no thread event reaches another process; a race lane is
    stopped by ending its process group) it is the one loop a plain script writes, so the race
    times exactly what bench/race_plain.py times.

    Why that matters, measured with callgrind on 3,000,000 terms: CPython's small-object
    allocator keeps, per size class, a list of pools with free blocks; a pool that fills is
    unlinked, and linked back at the head when a block is freed. With the chunks, every one of
    the loop's 9 million int allocations filled a pool and every free linked it back (8.9
    million flips per sum, in all nine starting states tried; the same code in one chunk
    flipped 3.0 million times: it is the chunks' starts, each making a range, its iterator
    and two ints, that leave a nearly full pool at the head). The one loop flipped 0.01
    million times in the race's lane process (3-6 million from other starting states), the
    plain script's 3.0 million. The race's sequential lane took 1.11x the plain script's time
    with the chunks, 1.00x with the one loop (median of 15 paired rounds).
    """
    total = 0
    if stop is None:
        for i in range(n):
            total += i * i
        return total
    for low in range(0, n, CHUNK):
        if stop.is_set():
            raise JobStopped("stopped before the end")
        for i in range(low, min(n, low + CHUNK)):
            total += i * i
    return total


def cpu_in_thread(n: int, on_start: Callable[[float], None], stop: threading.Event) -> int:
    on_start(time.perf_counter())
    return sum_of_squares(n, stop)


def cpu_in_process(n: int, job_id: int) -> int:
    if _announcements is not None:
        _announcements.send((job_id, time.perf_counter()))
    return sum_of_squares(n)


def http_get(url: str) -> int:
    """A blocking HTTP GET with the standard library: I/O work for threads and processes."""
    with urllib.request.urlopen(url, timeout=60) as response:
        return len(response.read())


def announced(job_id: int, function: Callable[..., Any], *args: Any) -> Any:
    """In a process worker: announce that job ``job_id`` started, then run it."""
    if _announcements is not None:
        _announcements.send((job_id, time.perf_counter()))
    return function(*args)


def warm_up() -> int:
    """A no-op job that makes the pool spawn its workers before anything is timed."""
    return 0
