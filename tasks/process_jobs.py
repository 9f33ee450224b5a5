"""The manager's process pool, and how its workers announce that a job started.

"spawn", not "fork": forking a process that runs an event loop and threads is unsafe (and
deprecated on 3.12+). A worker puts (job id, start time) on a queue as it picks a job up; a
reader thread hands that to the loop, so a CPU job is "pending" until a worker is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from loopscope.tasks.workers import init_process_worker


@contextlib.contextmanager
def real_stderr() -> Iterator[None]:
    """Put the interpreter's own stderr back for a moment.

    Starting a process (multiprocessing's resource tracker, a spawned worker) passes
    ``sys.stderr.fileno()`` to the child. A TUI that captures prints (Textual does) replaces
    sys.stderr with an object whose fileno is -1, and the start fails with "bad value(s) in
    fds_to_keep".
    """
    saved = sys.stderr
    if sys.__stderr__ is not None:
        sys.stderr = sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = saved


class ProcessJobs:
    """A ProcessPoolExecutor created on first use, with start announcements."""

    def __init__(self, workers: int, on_start: Callable[[int, float], None]):
        self.workers = workers
        self._on_start = on_start
        self._pool: ProcessPoolExecutor | None = None
        self._queue: Any = None
        self._reader: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._loop = asyncio.get_running_loop()
            context = multiprocessing.get_context("spawn")
            with real_stderr():  # the queue's lock starts multiprocessing's resource tracker
                self._queue = context.SimpleQueue()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=context,
                initializer=init_process_worker,
                initargs=(self._queue,),
            )
            self._reader = threading.Thread(
                target=self._read_starts, name="loopscope-starts", daemon=True
            )
            self._reader.start()
        return self._pool

    def submit(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run ``function(*args)`` in a worker; a new worker may be spawned here."""
        pool = self.pool()
        assert self._loop is not None
        with real_stderr():
            return self._loop.run_in_executor(pool, function, *args)

    def _read_starts(self) -> None:
        queue, loop = self._queue, self._loop
        while True:
            item = queue.get()
            if item is None or loop is None or loop.is_closed():
                return
            try:
                loop.call_soon_threadsafe(self._on_start, *item)
            except RuntimeError:
                return

    def stop(self) -> None:
        """Cancel queued jobs, end the workers (a CPU job cannot be interrupted), join all."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        if self._queue is not None:
            self._queue.put(None)
        if self._reader is not None:
            self._reader.join(timeout=2)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
        pool.shutdown(wait=True)
