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
import contextlib
import itertools
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.abc

from tasks.batch import Batch
from tasks.demo_server import DemoServer
from tasks.errors import ManagerClosed, TaskFailure
from tasks.failures import describe, format_traceback
from tasks.kinds import RUNNERS, Runner
from tasks.kinds.fetch import build_trace_config
from tasks.lag import LagMonitor
from tasks.process_stats import ProcessMonitor
from tasks.records import TaskRecord, TaskState
from tasks.samples import write_samples
from tasks.spec import TaskSpec, describe_target, parse_specs
from tasks.timing import Timing, union_length
from tasks.workers import init_process_worker

DEFAULT_THREAD_WORKERS = 32
DEFAULT_CONNECTOR_LIMIT = 100
DEFAULT_HISTORY_LIMIT = 200_000
LAUNCH_CHUNK = 500
"""Tasks created per loop iteration while launching: 100,000 at once would stall the loop."""
SLOW_LAUNCH_S = 0.02


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


class TaskManager:
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
        self.history_limit = history_limit
        self.default_fetch_timeout = fetch_timeout
        self.launch_chunk = max(1, launch_chunk)
        self.clock = clock
        self._clock_is_perf_counter = clock is time.perf_counter
        self._resolver = resolver
        self.trace_connections = trace_connections
        """Watch aiohttp's own connection queue with a TraceConfig (slower; see kinds/fetch)."""
        self._slots = (
            asyncio.Semaphore(connector_limit) if connector_limit and not trace_connections
            else None
        )
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        """DNS resolver for the connector (tests pass one that never leaves the machine)."""

        self.version = 0
        """Bumped on every change to any record."""
        self.history_version = 0
        """Bumped when old batches are dropped to keep memory flat."""
        self.counts: dict[TaskState, int] = dict.fromkeys(TaskState, 0)
        """Tasks in each state, over the whole session (dropped history included)."""
        self.records: dict[int, TaskRecord] = {}
        self.batches: dict[int, Batch] = {}
        self._changed: dict[int, int] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._launchers: dict[int, asyncio.Task[None]] = {}
        self._stop_requested: set[int] = set()
        self._record_ids = itertools.count(1)
        self._batch_ids = itertools.count(1)
        self._finished_spans: list[tuple[float, float]] = []
        self._finished_run_sum = 0.0
        self._replayed: list[tuple[float, float]] = []
        """(concurrent wall, measured sequential) for each batch that was replayed."""
        self._on_loop: deque[tuple[float, float, str]] = deque(maxlen=200)
        self.gil_jobs_running = 0
        """CPU-bound jobs running in threads now: they starve the loop of the GIL."""

        self._want_demo = demo_server and demo_url is None
        self.demo_url = demo_url.rstrip("/") if demo_url else None
        self._demo = DemoServer(seed=demo_seed) if self._want_demo else None
        self.lag = LagMonitor(blame=self.blame, clock=clock)
        self.process = ProcessMonitor()
        self._monitors = monitors

        self.thread_pool = ThreadPoolExecutor(thread_workers, thread_name_prefix="loopscope")
        self._process_pool: ProcessPoolExecutor | None = None
        self._started_queue: Any = None
        self._queue_reader: threading.Thread | None = None
        self._awaiting_process: dict[int, TaskRecord] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._samples: list[Path] | None = None
        self._sample_lock = asyncio.Lock()
        self._sample_dir: Path | None = None
        self._sample_turn = itertools.count()
        self._scratch_turn = itertools.count(1)
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
        pending = [*self._launchers.values(), *self._tasks.values()]
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
        if self._process_pool is not None:
            await asyncio.to_thread(self._stop_process_pool)
        if self._sample_dir is not None:
            await asyncio.to_thread(shutil.rmtree, self._sample_dir, True)

    def _stop_process_pool(self) -> None:
        pool, self._process_pool = self._process_pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        if self._started_queue is not None:
            self._started_queue.put(None)
        if self._queue_reader is not None:
            self._queue_reader.join(timeout=2)
        # A CPU job cannot be interrupted; end its worker rather than wait for the sum.
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
        pool.shutdown(wait=True)

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
        record = TaskRecord(
            id=next(self._record_ids),
            batch_id=batch.id,
            kind=spec.kind,
            target=target,
            created=self.clock(),
        )
        self.records[record.id] = record
        batch.records.append(record)
        batch.counts[TaskState.PENDING] += 1
        self.counts[TaskState.PENDING] += 1
        self._touch(record)
        # The record exists before the task: with an eager task factory (Python 3.12+ under
        # Textual) the coroutine runs up to its first await inside create_task.
        assert self._loop is not None
        task = self._loop.create_task(self._run(record, spec, runner))
        if not task.done():
            self._tasks[record.id] = task  # strong reference; _run drops it when it ends
        return task

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

    def cancel_batch(self, batch_id: int) -> int:
        """Stop launching the batch and cancel its live tasks; returns how many were cancelled."""
        batch = self.batches.get(batch_id)
        if batch is None:
            return 0
        if batch.launching:
            self._stop_requested.add(batch_id)
        return sum(self.cancel(record.id) for record in batch.records if not record.state.finished)

    def cancel_all(self) -> int:
        """Stop every launch in progress and cancel every live task."""
        for batch_id in self._launchers:
            self._stop_requested.add(batch_id)
        cancelled = 0
        for task_id, task in list(self._tasks.items()):
            if not task.done():
                self._cancel_task(task_id, task)
                cancelled += 1
        return cancelled

    # --- state changes (also the TaskContext API the kinds call) ---------------------------

    def _touch(self, record: TaskRecord) -> None:
        self.version += 1
        record.version = self.version
        changed = self._changed
        changed.pop(record.id, None)
        changed[record.id] = self.version

    def _set_state(self, record: TaskRecord, state: TaskState) -> None:
        old = record.state
        batch = self.batches[record.batch_id]
        self.counts[old] -= 1
        self.counts[state] += 1
        batch.counts[old] -= 1
        batch.counts[state] += 1
        record.state = state
        self._touch(record)

    def mark_running(self, record: TaskRecord, at: float | None = None) -> None:
        """The task got its slot and is doing its work now. Ignored unless it is pending."""
        if record.state is not TaskState.PENDING:
            return
        now = self.clock()
        started = at if at is not None and self._clock_is_perf_counter else now
        started = min(max(started, record.created), now)
        record.started = started
        batch = self.batches[record.batch_id]
        if batch.first_start is None or started < batch.first_start:
            batch.first_start = started
        batch.running_start_sum += started
        self._set_state(record, TaskState.RUNNING)

    def mark_pending(self, record: TaskRecord) -> None:
        """The task must wait for a slot after all (a fetch queued for a connection)."""
        if record.state is not TaskState.RUNNING or record.started is None:
            return
        batch = self.batches[record.batch_id]
        batch.running_start_sum -= record.started
        record.started = None
        self._set_state(record, TaskState.PENDING)

    def progress(self, record: TaskRecord, done: int, total: int | None = None) -> None:
        record.bytes_done = done
        if total is not None:
            record.bytes_total = total
        self._touch(record)

    def _finish(self, record: TaskRecord, state: TaskState) -> None:
        if record.state.finished:
            return
        now = self.clock()
        batch = self.batches[record.batch_id]
        record.finished = now
        if record.state is TaskState.RUNNING and record.started is not None:
            batch.running_start_sum -= record.started
            run = now - record.started
            batch.finished_run_sum += run
            if not batch.sequential:
                self._finished_run_sum += run
            if batch.last_finish is None or now > batch.last_finish:
                batch.last_finish = now
        self._awaiting_process.pop(record.id, None)
        self._set_state(record, state)
        if batch.counts[TaskState.RUNNING] == 0:
            batch.running_start_sum = 0.0  # no float drift across long sessions
        self._check_batch_done(batch)

    def _check_batch_done(self, batch: Batch) -> None:
        if not batch.done or batch._done.is_set():
            return
        batch._done.set()
        if not batch.sequential and (span := batch.span(self.clock())) is not None:
            self._finished_spans.append(span)
        self._forget_old_history()

    def _forget_old_history(self) -> None:
        """Drop the oldest finished batches while history holds more than ``history_limit``."""
        if len(self.records) <= self.history_limit:
            return
        newest = max(self.batches)
        for batch_id in list(self.batches):
            if len(self.records) <= self.history_limit:
                break
            batch = self.batches[batch_id]
            if batch_id == newest or not batch.done or batch_id in self._launchers:
                continue
            if any(b.replay_of == batch_id and not b.done for b in self.batches.values()):
                continue
            for record in batch.records:
                self.records.pop(record.id, None)
                self._changed.pop(record.id, None)
            del self.batches[batch_id]
            self.history_version += 1
        self.version += 1

    # --- reading --------------------------------------------------------------------------

    def changes_since(self, version: int) -> tuple[int, list[int]]:
        """``(current version, ids of records changed after version)``, newest first.

        Costs O(changes), not O(tasks): the ids are kept in the order they last changed.
        """
        ids: list[int] = []
        for record_id, changed_at in reversed(self._changed.items()):
            if changed_at <= version:
                break
            ids.append(record_id)
        return self.version, ids

    def get(self, task_id: int) -> TaskRecord | None:
        return self.records.get(task_id)

    @property
    def last_batch(self) -> Batch | None:
        """The newest batch that is not a replay."""
        for batch in reversed(self.batches.values()):
            if not batch.sequential:
                return batch
        return None

    @property
    def current_batch(self) -> Batch | None:
        """The newest batch of any kind, replays included."""
        return next(reversed(self.batches.values()), None)

    @property
    def live_count(self) -> int:
        return self.counts[TaskState.PENDING] + self.counts[TaskState.RUNNING]

    def session_timing(self) -> Timing:
        """Gain over the whole session: concurrent batches only (replays are the yardstick).

        Wall is the time during which any batch was running (gaps between batches excluded).
        The measured figures cover only the batches that were replayed.
        """
        now = self.clock()
        spans = list(self._finished_spans)
        estimate = self._finished_run_sum
        for batch in self.batches.values():
            if batch.sequential or batch.done:
                continue
            if (span := batch.span(now)) is not None:
                spans.append(span)
            running = batch.counts[TaskState.RUNNING]
            if running:
                estimate += max(0.0, running * now - batch.running_start_sum)
        measured_wall = sum(wall for wall, _ in self._replayed) or None
        measured = sum(seq for _, seq in self._replayed) or None
        return Timing(union_length(spans), estimate, measured, measured_wall)

    @property
    def replayed_batches(self) -> int:
        return len(self._replayed)

    def blame(self, start: float, end: float) -> str | None:
        """What the manager knows held the loop between ``start`` and ``end``, if anything:
        a task that ran on it, or else CPU-bound thread jobs holding the GIL."""
        best, best_overlap = None, 0.0
        for begin, finish, label in self._on_loop:
            overlap = min(end, finish) - max(start, begin)
            if overlap > best_overlap:
                best, best_overlap = label, overlap
        if best is None and self.gil_jobs_running:
            jobs = self.gil_jobs_running
            best = f"the GIL: {jobs} CPU-bound thread job{'s' if jobs != 1 else ''} running"
        return best

    def note_on_loop(self, start: float, end: float, label: str) -> None:
        """Remember that ``label`` held the loop from ``start`` to ``end`` (for blame)."""
        self._on_loop.append((start, end, label))

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
        """What a fetch holds while it runs: a slot under the connection limits.

        Waiting here is the task's "pending" time. The connector has the same limits, so it
        never queues behind these slots; in trace mode the connector's own queue is watched.
        """
        if self.trace_connections or (self._slots is None and not self.limit_per_host):
            return contextlib.nullcontext()
        if not self.limit_per_host:
            assert self._slots is not None
            return self._slots
        return self._hold_slots(url)

    @contextlib.asynccontextmanager
    async def _hold_slots(self, url: str) -> AsyncIterator[None]:
        host_slot = None
        if self.limit_per_host:
            host = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
            host_slot = self._host_slots.get(host)
            if host_slot is None:
                host_slot = self._host_slots[host] = asyncio.Semaphore(self.limit_per_host)
        async with contextlib.AsyncExitStack() as stack:
            if host_slot is not None:
                await stack.enter_async_context(host_slot)
            if self._slots is not None:
                await stack.enter_async_context(self._slots)
            yield

    def process_pool(self) -> ProcessPoolExecutor:
        """The process pool, created on first use ("spawn": safe beside threads and a loop)."""
        if self._process_pool is None:
            if self._closed:
                raise ManagerClosed("this TaskManager is closed")
            context = multiprocessing.get_context("spawn")
            with real_stderr():  # the queue's lock starts multiprocessing's resource tracker
                self._started_queue = context.SimpleQueue()
            self._process_pool = ProcessPoolExecutor(
                self.process_workers,
                mp_context=context,
                initializer=init_process_worker,
                initargs=(self._started_queue,),
            )
            self._queue_reader = threading.Thread(
                target=self._read_process_starts, name="loopscope-starts", daemon=True
            )
            self._queue_reader.start()
        return self._process_pool

    def expect_process_start(self, record: TaskRecord) -> None:
        self._awaiting_process[record.id] = record

    def run_in_process(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Submit to the process pool; a new worker may be spawned here (see real_stderr)."""
        pool = self.process_pool()
        assert self._loop is not None
        with real_stderr():
            return self._loop.run_in_executor(pool, function, *args)

    def _read_process_starts(self) -> None:
        queue, loop = self._started_queue, self._loop
        while True:
            item = queue.get()
            if item is None or loop is None or loop.is_closed():
                return
            try:
                loop.call_soon_threadsafe(self._process_started, *item)
            except RuntimeError:
                return

    def _process_started(self, job_id: int, at: float) -> None:
        record = self._awaiting_process.pop(job_id, None)
        if record is not None:
            self.mark_running(record, at)

    @property
    def process_pool_started(self) -> bool:
        return self._process_pool is not None

    async def sample_file(self) -> Path:
        """One of the generated sample files, in turn (made on first use, off the loop)."""
        async with self._sample_lock:
            if self._samples is None:
                self._sample_dir = Path(tempfile.mkdtemp(prefix="loopscope-"))
                loop = asyncio.get_running_loop()
                self._samples = await loop.run_in_executor(
                    self.thread_pool, write_samples, self._sample_dir / "samples"
                )
        return self._samples[next(self._sample_turn) % len(self._samples)]

    async def scratch_path(self) -> Path:
        """A fresh path in the manager's temporary folder, removed on close."""
        if self._sample_dir is None:
            await self.sample_file()
        assert self._sample_dir is not None
        return self._sample_dir / f"write-{next(self._scratch_turn)}.bin"

    def __repr__(self) -> str:
        counts = " ".join(f"{state.value}={n}" for state, n in self.counts.items())
        return f"<TaskManager {counts} batches={len(self.batches)} closed={self._closed}>"
