"""The manager's thread pool: a small executor whose size can change while it runs.

``ThreadPoolExecutor`` can neither shrink nor grow once made, so the manager has its own:
one queue, up to ``workers`` threads. Growing starts threads for the jobs already queued;
shrinking lets the extra threads leave as they finish their job (none is interrupted).

Its threads are daemons: a worker stuck in a call that cannot be interrupted (a 2 GB read)
never keeps loopscope from quitting. A submit that finds every worker busy tells the engine,
so a task whose job waits for a free worker says so ("pending: waiting for a thread worker").
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_Job = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class ThreadWorkers(Executor):
    """Up to ``workers`` threads running submitted jobs in order; resizable."""

    def __init__(
        self,
        workers: int,
        *,
        on_submit: Callable[[], None] | None = None,
        name: str = "loopscope",
    ):
        self._target = workers
        self._on_submit = on_submit
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._queued = 0
        """Jobs submitted and not yet picked up by a thread."""
        self._idle = 0
        self._busy = 0
        self._shutdown = False
        self._numbers = itertools.count()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue ``fn(*args, **kwargs)``; ``on_submit`` is told when it must wait for a worker."""
        future: Future[T] = Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._queued += 1
            self._jobs.put((future, fn, args, kwargs))
            self._spawn_for_queue()
            must_wait = self._queued > self._idle  # every worker is busy
        if must_wait and self._on_submit is not None:
            self._on_submit()
        return future

    def resize(self, workers: int) -> None:
        """At most ``workers`` threads from now on."""
        with self._lock:
            self._target = workers
            self._spawn_for_queue()
            for _ in range(max(0, len(self._threads) - workers)):
                self._jobs.put(None)  # wakes an idle thread so it can leave

    def _spawn_for_queue(self) -> None:
        # called with the lock held: a thread for each queued job no idle thread will take
        while (
            not self._shutdown
            and len(self._threads) < self._target
            and self._queued > self._idle
        ):
            thread = threading.Thread(
                target=self._work, name=f"{self._name}_{next(self._numbers)}", daemon=True
            )
            self._threads.add(thread)
            self._idle += 1  # counted idle until it takes its first job
            thread.start()

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            job = self._jobs.get()
            with self._lock:
                if job is None:
                    if self._shutdown or len(self._threads) > self._target:
                        self._idle -= 1
                        self._threads.discard(me)
                        return
                    continue
                self._queued -= 1
                self._idle -= 1
                self._busy += 1
            future, fn, args, kwargs = job
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as error:
                    future.set_exception(error)
                else:
                    future.set_result(result)
            del job, future, fn, args, kwargs
            with self._lock:
                self._busy -= 1
                if len(self._threads) > self._target:  # the pool shrank: leave
                    self._threads.discard(me)
                    return
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        self._queued -= 1
                        job[0].cancel()
            threads = list(self._threads)
            for _ in threads:
                self._jobs.put(None)
        if wait:
            for thread in threads:
                thread.join()

    async def close(self, grace: float) -> None:
        """Cancel the queued jobs and wait up to ``grace`` seconds for the threads to end.

        By polling from the loop, not in an executor: a worker stuck in a call that cannot be
        interrupted (a 2 GB read) must not hold up the close, nor the exit (the threads are
        daemons; an executor thread joining them would not be)."""
        self.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        while self.threads_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def threads_alive(self) -> int:
        """Worker threads still alive (a stuck one stays until its call returns)."""
        with self._lock:
            return sum(thread.is_alive() for thread in self._threads)

    def __repr__(self) -> str:
        return f"<ThreadWorkers {self._busy}/{self._target} busy, {self._queued} queued>"
