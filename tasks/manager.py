"""The TaskManager: launches, tracks, cancels and times tasks on the running event loop.

It owns one aiohttp ClientSession, one ThreadPoolExecutor and (on first use) one
ProcessPoolExecutor for its whole life, plus the demo server and the monitors. It keeps a
strong reference to every task until it ends. One task's failure never touches its siblings.

Screens do not get a callback per event. The manager bumps ``version`` on every change and
remembers which task ids changed at which version; a screen calls ``changes_since(v)`` at its
own rate and gets only those ids. Counters per state are kept as they change, so reading
them is free at 100,000 tasks.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import aiohttp.abc

from loopscope.tasks.batch import Batch
from loopscope.tasks.demo_server import DemoServer
from loopscope.tasks.errors import ManagerClosed, TaskFailure
from loopscope.tasks.failures import describe, format_traceback
from loopscope.tasks.kinds import RUNNERS, Runner
from loopscope.tasks.kinds.fetch import build_trace_config
from loopscope.tasks.lag import LagMonitor
from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.process_jobs import ProcessJobs
from loopscope.tasks.process_stats import ProcessMonitor
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.scratch import ScratchSpace
from loopscope.tasks.slots import ConnectionSlots
from loopscope.tasks.spec import TaskSpec, describe_target, parse_specs

T = TypeVar("T")

DEFAULT_THREAD_WORKERS = 32
DEFAULT_CONNECTOR_LIMIT = 100
DEFAULT_HISTORY_LIMIT = 200_000
LAUNCH_CHUNK = 500
"""Tasks created per loop iteration while launching: 100,000 at once would stall the loop."""
SLOW_LAUNCH_S = 0.02


class TaskManager(TaskLedger):
    """Runs task specs concurrently on the current event loop and records everything."""

    def __init__(
        self,
        *,
        connector_limit: int = DEFAULT_CONNECTOR_LIMIT,
        limit_per_host: int = 0,
        thread_workers: int = DEFAULT_THREAD_WORKERS,
        process_workers: int | None = None,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        fetch_timeout: float = 30.0,
        demo_server: bool = True,
        demo_url: str | None = None,
        demo_seed: int | None = None,
        monitors: bool = True,
        launch_chunk: int = LAUNCH_CHUNK,
        clock: Callable[[], float] = time.perf_counter,
        resolver: aiohttp.abc.AbstractResolver | None = None,
        trace_connections: bool = False,
    ):
        self.connector_limit = connector_limit
        """Most connections open at once (0: no limit)."""
        self.limit_per_host = limit_per_host
        self.thread_workers = thread_workers
        self.process_workers = process_workers or os.cpu_count() or 2
        self.default_fetch_timeout = fetch_timeout
        self.launch_chunk = max(1, launch_chunk)
        super().__init__(clock=clock, history_limit=history_limit)
        self._resolver = resolver
        self.trace_connections = trace_connections
        """Watch aiohttp's own connection queue with a TraceConfig (slower; see kinds/fetch)."""
        self._slots = ConnectionSlots(
            0 if trace_connections else connector_limit,
            0 if trace_connections else limit_per_host,
        )
        """DNS resolver for the connector (tests pass one that never leaves the machine)."""

        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._launchers: dict[int, asyncio.Task[None]] = {}
        self._watched: set[asyncio.Task[Any]] = set()
        self._stop_requested: set[int] = set()
        self._record_ids = itertools.count(1)
        self._batch_ids = itertools.count(1)

        self._want_demo = demo_server and demo_url is None
        self.demo_url = demo_url.rstrip("/") if demo_url else None
        self._demo = DemoServer(seed=demo_seed) if self._want_demo else None
        self.lag = LagMonitor(blame=self.blame, clock=clock)
        self.process = ProcessMonitor()
        self._monitors = monitors

        self.thread_pool = ThreadPoolExecutor(thread_workers, thread_name_prefix="loopscope")
        self._processes = ProcessJobs(self.process_workers, self._process_started)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self.scratch = ScratchSpace(self.thread_pool)
        self._closed = False
        self._started = False

    # --- life -----------------------------------------------------------------------------

    async def start(self) -> TaskManager:
        """Open the session, start the demo server and the monitors. Idempotent."""
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        if self._started:
            return self
        self._loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(
            limit=self.connector_limit, limit_per_host=self.limit_per_host, resolver=self._resolver
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.default_fetch_timeout or None),
            trace_configs=[build_trace_config(self)] if self.trace_connections else None,
        )
        if self._demo is not None:
            await self._demo.start()
            self.demo_url = self._demo.url
        if self._monitors:
            self.lag.start()
            self.process.start()
        self._started = True
        return self

    async def __aenter__(self) -> TaskManager:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Cancel and await everything, close the session, stop the executors and workers."""
        if self._closed:
            return
        self._closed = True
        self.cancel_all()
        pending = [*self._watched, *self._launchers.values(), *self._tasks.values()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await self.lag.stop()
        await self.process.stop()
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # let the transports finish closing
        if self._demo is not None:
            await self._demo.stop()
        self.thread_pool.shutdown(wait=False, cancel_futures=True)
        await asyncio.to_thread(self.thread_pool.shutdown, True)
        if self._processes.started:
            await asyncio.to_thread(self._processes.stop)
        await self.scratch.remove()

    # --- launching ------------------------------------------------------------------------

    def launch(
        self, specs: str | TaskSpec | Sequence[TaskSpec], *, label: str = ""
    ) -> Batch:
        """Start a batch of tasks concurrently. Raises SpecError on a bad spec string.

        Returns at once; tasks are created in chunks of ``launch_chunk`` so a launch of
        100,000 never stalls the loop. ``await batch.wait()`` waits for all to finish.
        """
        return self._new_batch(self._as_specs(specs), label=label, sequential=False)

    def replay_sequential(self, batch: Batch) -> Batch:
        """Run ``batch``'s specs again one after another; when the replay completes, its wall
        time becomes ``batch.measured_sequential_s``: the measured truth behind the estimate."""
        return self._new_batch(
            batch.specs,
            label=f"sequential replay of batch #{batch.id}",
            sequential=True,
            replay_of=batch.id,
        )

    def _as_specs(self, specs: str | TaskSpec | Sequence[TaskSpec]) -> tuple[TaskSpec, ...]:
        if isinstance(specs, str):
            return tuple(parse_specs(specs))
        if isinstance(specs, TaskSpec):
            return (specs,)
        return tuple(specs)

    def _new_batch(
        self,
        specs: tuple[TaskSpec, ...],
        *,
        label: str,
        sequential: bool,
        replay_of: int | None = None,
    ) -> Batch:
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        if not self._started:
            raise ManagerClosed("call `await manager.start()` before launching")
        batch = Batch(
            id=next(self._batch_ids),
            specs=specs,
            created=self.clock(),
            planned=sum(spec.repeat for spec in specs),
            sequential=sequential,
            replay_of=replay_of,
            label=label,
        )
        self.batches[batch.id] = batch
        self._track_live(batch)
        self.version += 1
        assert self._loop is not None
        coro = self._launch_sequential(batch) if sequential else self._launch_concurrent(batch)
        launcher = self._loop.create_task(coro, name=f"loopscope-launch-{batch.id}")
        self._launchers[batch.id] = launcher
        launcher.add_done_callback(lambda _: self._launchers.pop(batch.id, None))
        return batch

    async def _launch_concurrent(self, batch: Batch) -> None:
        try:
            created = 0
            chunk_start = self.clock()
            for spec in batch.specs:
                runner, target = RUNNERS[spec.kind], describe_target(spec)
                for _ in range(spec.repeat):
                    if batch.id in self._stop_requested:
                        return
                    self._start_task(batch, spec, runner, target)
                    created += 1
                    if created % self.launch_chunk == 0:
                        self._note_slow_launch(batch, chunk_start)
                        await asyncio.sleep(0)
                        chunk_start = self.clock()
            self._note_slow_launch(batch, chunk_start)
        finally:
            self._launch_finished(batch)

    async def _launch_sequential(self, batch: Batch) -> None:
        try:
            for spec in batch.specs:
                runner, target = RUNNERS[spec.kind], describe_target(spec)
                for _ in range(spec.repeat):
                    if batch.id in self._stop_requested:
                        return
                    task = self._start_task(batch, spec, runner, target)
                    await asyncio.wait([task])
        finally:
            self._launch_finished(batch)
        original = self.batches.get(batch.replay_of or -1)
        if original is not None and batch.counts[TaskState.CANCELLED] == 0:
            measured = batch.timing(self.clock()).wall_s
            original.measured_sequential_s = measured
            self._replayed.append((original.timing(self.clock()).wall_s, measured))
            self.version += 1

    def _note_slow_launch(self, batch: Batch, start: float) -> None:
        end = self.clock()
        if end - start >= SLOW_LAUNCH_S:
            self.note_on_loop(start, end, f"launching batch #{batch.id}")

    def _launch_finished(self, batch: Batch) -> None:
        batch.launching = False
        batch.planned = len(batch.records)
        self._stop_requested.discard(batch.id)
        self.version += 1
        self._check_batch_done(batch)

    def _start_task(
        self, batch: Batch, spec: TaskSpec, runner: Runner, target: str
    ) -> asyncio.Task[None]:
        record = self._new_record(batch, spec.kind, target)
        # The record exists before the task: with an eager task factory (Python 3.12+ under
        # Textual) the coroutine runs up to its first await inside create_task.
        assert self._loop is not None
        task = self._loop.create_task(self._run(record, spec, runner))
        if not task.done():
            self._tasks[record.id] = task  # strong reference; _run drops it when it ends
        return task

    def _new_record(self, batch: Batch, kind: str, target: str) -> TaskRecord:
        record = TaskRecord(
            id=next(self._record_ids),
            batch_id=batch.id,
            kind=kind,
            target=target,
            created=self.clock(),
        )
        self.records[record.id] = record
        batch.records.append(record)
        batch.counts[TaskState.PENDING] += 1
        self.counts[TaskState.PENDING] += 1
        self._touch(record)
        return record

    async def _run(self, record: TaskRecord, spec: TaskSpec, runner: Runner) -> None:
        try:
            result = await runner(self, record, spec)
        except asyncio.CancelledError:
            self._tasks.pop(record.id, None)
            self._finish(record, TaskState.CANCELLED)
            raise
        except Exception as error:
            self._tasks.pop(record.id, None)
            record.error_type, record.error_message = describe(error)
            record.traceback = format_traceback(error)
            self._finish(record, TaskState.EXCEPTION)
        else:
            self._tasks.pop(record.id, None)
            record.result = result
            self._finish(record, TaskState.DONE)

    # --- tasks a caller schedules itself (the teaching scenarios) ---------------------------

    def open_batch(self, label: str, *, sequential: bool = False) -> Batch:
        """A batch whose tasks the caller adds with ``tracked``; end it with ``close_batch``."""
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        batch = Batch(
            id=next(self._batch_ids), specs=(), created=self.clock(), planned=0,
            sequential=sequential, label=label,
        )
        self.batches[batch.id] = batch
        self._track_live(batch)
        self.version += 1
        return batch

    def close_batch(self, batch: Batch) -> None:
        """No more tasks will be added: the batch is done when those it has end."""
        if batch.launching:
            self._launch_finished(batch)

    def tracked(
        self,
        batch: Batch,
        kind: str,
        target: str,
        work: Callable[[TaskRecord], Awaitable[T]],
        *,
        summary: Callable[[T], str] = str,
        start_running: bool = True,
    ) -> Coroutine[Any, Any, T]:
        """A coroutine that runs ``work(record)`` as a task of ``batch``, recorded like any
        other. Unlike launched tasks it RE-RAISES, so gather, TaskGroup and wait_for behave
        as they would without loopscope: that is what the scenarios show.

        The record is created now, pending. With ``start_running=False`` the work calls
        ``mark_running`` itself (after acquiring a semaphore, say).
        """
        record = self._new_record(batch, kind, target)
        batch.planned += 1

        async def run() -> T:
            task = asyncio.current_task()
            if task is not None:
                self._tasks[record.id] = task
            try:
                if start_running:
                    self.mark_running(record)
                value = await work(record)
            except asyncio.CancelledError:
                self._finish(record, TaskState.CANCELLED)
                raise
            except Exception as error:
                record.error_type, record.error_message = describe(error)
                record.traceback = format_traceback(error)
                self._finish(record, TaskState.EXCEPTION)
                raise
            else:
                record.result = summary(value)
                self._finish(record, TaskState.DONE)
                return value
            finally:
                self._tasks.pop(record.id, None)

        return run()

    def watch(self, task: asyncio.Task[Any]) -> None:
        """Keep a strong reference to a task of the caller's until it ends; ``cancel_all``
        and ``aclose`` cancel it (scenario runs use this)."""
        self._watched.add(task)
        task.add_done_callback(self._watched.discard)

    # --- records of work run in a clean process (tasks/isolated.py) --------------------------

    def add_record(
        self, batch: Batch, kind: str, target: str, *, created: float | None = None
    ) -> TaskRecord:
        """A pending record in ``batch`` for a job that runs elsewhere (``created``: when)."""
        record = self._new_record(batch, kind, target)
        batch.planned = max(batch.planned, len(batch.records))
        if created is not None and self._clock_is_perf_counter:
            record.created = min(created, record.created)
        return record

    def end_record(
        self,
        record: TaskRecord,
        state: TaskState,
        *,
        at: float | None = None,
        result: str = "",
        error: str | None = None,
    ) -> None:
        """End such a record as the other process reported: ``at`` is its perf_counter time."""
        record.result = result
        if error:
            kind, _, message = error.partition(": ")
            record.error_type, record.error_message = kind, message or None
        self._finish(record, state, at)

    def record_measurement(self, batch: Batch, wall_s: float, sequential_s: float) -> None:
        """A clean process measured ``batch`` again: its wall there and its sequential replay."""
        batch.measured_wall_s = wall_s
        batch.measured_sequential_s = sequential_s
        self._replayed.append((wall_s, sequential_s))
        self.version += 1

    @property
    def embedded_demo(self) -> bool:
        """True when the demo server runs inside this manager (not at a given ``demo_url``)."""
        return self._want_demo

    # --- cancelling -----------------------------------------------------------------------

    def cancel(self, task_id: int) -> bool:
        """Cancel one task. False if it has already finished or does not exist."""
        task = self._tasks.get(task_id)
        if task is None or task.done():
            return False
        self._cancel_task(task_id, task)
        return True

    def _cancel_task(self, task_id: int, task: asyncio.Task[None]) -> None:
        task.cancel()
        # A task cancelled before its first step never runs _run, so nothing would record
        # its end: this callback does, once the task is done (a no-op if _run already did).
        task.add_done_callback(lambda _: self._cancelled_before_start(task_id))

    def _cancelled_before_start(self, task_id: int) -> None:
        self._tasks.pop(task_id, None)
        record = self.records.get(task_id)
        if record is not None and not record.state.finished:
            self._finish(record, TaskState.CANCELLED)

    def cancel_all(self) -> int:
        """Stop every launch in progress and cancel every live task."""
        for batch_id in self._launchers:
            self._stop_requested.add(batch_id)
        for watched in list(self._watched):
            watched.cancel()
        cancelled = 0
        for task_id, task in list(self._tasks.items()):
            if not task.done():
                self._cancel_task(task_id, task)
                cancelled += 1
        return cancelled

    # --- resources the kinds use ----------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise ManagerClosed("call `await manager.start()` first")
        return self._session

    def resolve_url(self, url: str) -> str:
        if url.startswith("/"):
            if self.demo_url is None:
                raise TaskFailure("no demo server is running: give a full http:// URL")
            return self.demo_url + url
        return url

    def fetch_slot(self, url: str) -> AbstractAsyncContextManager[object]:
        """What a fetch holds while it runs (see tasks/slots.py); waiting is pending time."""
        return self._slots.hold(url)

    def expect_process_start(self, record: TaskRecord) -> None:
        self._awaiting_process[record.id] = record

    def run_in_process(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run ``function(*args)`` in the process pool."""
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        return self._processes.submit(function, *args)

    def _process_started(self, job_id: int, at: float) -> None:
        record = self._awaiting_process.pop(job_id, None)
        if record is not None:
            self.mark_running(record, at)

    async def sample_file(self) -> Path:
        """One of the generated sample files, in turn (made on first use, off the loop)."""
        return await self.scratch.sample_file()

    async def scratch_path(self) -> Path:
        """A fresh path in the manager's temporary folder, removed on close."""
        return await self.scratch.path()

    def __repr__(self) -> str:
        counts = " ".join(f"{state.value}={n}" for state, n in self.counts.items())
        return f"<TaskManager {counts} batches={len(self.batches)} closed={self._closed}>"
