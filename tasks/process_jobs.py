"""The manager's process pool, and how its workers announce that a job started.

"spawn", not "fork": forking a process that runs an event loop and threads is unsafe (and
deprecated on 3.12+). A worker writes (job id, start time) on a pipe as it picks a job up; a
reader thread hands that to the loop, so a CPU job is "pending" until a worker is free.

A pipe with no lock, not a ``multiprocessing`` queue: a queue's writers share a lock, and a
worker killed while it held it (a user's ``kill``, the out-of-memory killer) left every later
writer, and ``stop`` itself, waiting for it forever: quitting hung (seen once in the suite,
with a test that kills a worker). Each announcement is one write of a few dozen bytes, which
a pipe takes whole or not at all (under ``PIPE_BUF``), so writers need no lock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
    """A ProcessPoolExecutor created on first use, with start announcements.

    It knows which jobs a worker has picked up and not finished (``busy``), so a cancelled
    job that cannot be interrupted can be shown as cancelling until its worker is free. When
    a worker dies (killed, out of memory) the pool is broken for good: the next submit
    starts a fresh one and ``on_broken`` is told once per break.
    """

    def __init__(
        self,
        workers: int,
        on_start: Callable[[int, float], None],
        *,
        on_broken: Callable[[], None] | None = None,
        on_pool_started: Callable[[float, float], None] | None = None,
    ):
        self.workers = workers
        self._on_start = on_start
        self._on_broken = on_broken
        self._on_pool_started = on_pool_started
        self._pool: ProcessPoolExecutor | None = None
        self._retired: list[ProcessPoolExecutor] = []
        """Pools replaced (resized or broken): their workers are ended on ``stop``."""
        self._announcements: Any = None
        """(reading end, writing end) of the workers' announcement pipe."""
        self._reader: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._jobs: dict[int, concurrent.futures.Future[Any]] = {}
        """Submitted jobs by job id, until they end."""
        self._started_jobs: set[int] = set()

    @property
    def started(self) -> bool:
        return self._pool is not None or bool(self._retired)

    @property
    def busy(self) -> int:
        """Workers running a job now (cancelled jobs included: a worker cannot be stopped)."""
        return len(self._started_jobs)

    def running(self, job_id: int) -> concurrent.futures.Future[Any] | None:
        """The job's future if a worker is running it now, else None."""
        future = self._jobs.get(job_id)
        if future is None or job_id not in self._started_jobs or future.done():
            return None
        return future

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._loop = asyncio.get_running_loop()
            context = multiprocessing.get_context("spawn")
            if self._announcements is None:
                self._announcements = context.Pipe(duplex=False)
                self._reader = threading.Thread(
                    target=self._read_starts, name="loopscope-starts", daemon=True
                )
                self._reader.start()
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=context,
                initializer=init_process_worker,
                initargs=(self._announcements[1],),
            )
        return self._pool

    def submit(
        self, function: Callable[..., Any], *args: Any, job_id: int | None = None
    ) -> asyncio.Future[Any]:
        """Run ``function(*args)`` in a worker; a new worker may be spawned here.

        ``job_id`` is the id the job announces when a worker picks it up.
        """
        loop = asyncio.get_running_loop()
        with real_stderr():
            try:
                future = self._submit(function, args)
            except BrokenProcessPool:
                self._replace_broken_pool()
                future = self._submit(function, args)
        if job_id is not None:
            self._jobs[job_id] = future
            future.add_done_callback(
                lambda _: call_soon(loop, self._job_ended, job_id, future)
            )
        return asyncio.wrap_future(future, loop=loop)

    def _submit(
        self, function: Callable[..., Any], args: tuple[Any, ...]
    ) -> concurrent.futures.Future[Any]:
        fresh = self._pool is None
        started = time.perf_counter()
        future = self.pool().submit(function, *args)
        if fresh and self._on_pool_started is not None:
            # creating the pool and spawning its first worker ran on the loop
            self._on_pool_started(started, time.perf_counter())
        return future

    def _replace_broken_pool(self) -> None:
        broken, self._pool = self._pool, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)
            self._retired.append(broken)
        if self._on_broken is not None:
            self._on_broken()

    def note_broken(self) -> None:
        """A job failed with BrokenProcessPool: start a fresh pool at the next submit."""
        if self._pool is not None and _is_broken(self._pool):
            self._replace_broken_pool()

    def _job_ended(self, job_id: int, future: concurrent.futures.Future[Any]) -> None:
        if self._jobs.get(job_id) is future:
            del self._jobs[job_id]
            self._started_jobs.discard(job_id)

    def _announced(self, job_id: int, at: float) -> None:
        future = self._jobs.get(job_id)
        if future is not None and not future.done():
            self._started_jobs.add(job_id)
        self._on_start(job_id, at)

    def resize(self, workers: int) -> None:
        """Use ``workers`` workers from now on. A running pool is replaced: the jobs it is
        running finish in their workers, new jobs go to the new pool."""
        if workers == self.workers:
            return
        self.workers = workers
        old, self._pool = self._pool, None
        if old is not None:
            old.shutdown(wait=False, cancel_futures=False)
            self._retired.append(old)

    def _read_starts(self) -> None:
        reading, loop = self._announcements[0], self._loop
        while True:
            try:
                item = reading.recv()
            except (EOFError, OSError):
                return
            if item is None or loop is None or loop.is_closed():
                return
            if not call_soon(loop, self._announced, *item):
                return

    def stop(self) -> None:
        """Cancel queued jobs, end the workers (a CPU job cannot be interrupted), join all."""
        pools = [*self._retired, *([self._pool] if self._pool is not None else [])]
        self._pool = None
        self._retired = []
        processes = [p for pool in pools for p in _processes(pool)]
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
        announcements, self._announcements = self._announcements, None
        if announcements is not None:
            with contextlib.suppress(OSError):
                announcements[1].send(None)  # no lock to wait for, even if a worker died
            if self._reader is not None:
                self._reader.join(timeout=2)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=1)
        for pool in pools:
            pool.shutdown(wait=True)
        if announcements is not None:
            for end in announcements:
                end.close()


def _processes(pool: ProcessPoolExecutor) -> list[Any]:
    # the pool's worker processes: the executor has no public way to list them
    return list((getattr(pool, "_processes", None) or {}).values())


def _is_broken(pool: ProcessPoolExecutor) -> bool:
    return bool(getattr(pool, "_broken", False))


def call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> bool:
    """Hand ``callback`` to the loop from any thread; False if the loop is closed."""
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:
        return False
    return True
