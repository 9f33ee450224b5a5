"""The TaskManager: launches, tracks, cancels and times tasks on the running event loop.

It is configured by one :class:`~loopscope.tasks.options.EngineOptions`. It owns one aiohttp
ClientSession, one thread pool and (on first use) one process pool for its whole life, plus
the demo server and the monitors. It keeps a strong reference to every task until it ends.
One task's failure never touches its siblings.

Every task's bookkeeping happens in one done-callback, ``_on_task_done``, which reads
``task.cancelled()`` / ``task.exception()`` the way CPython's ``asyncio/taskgroups.py`` does:
however a task ended (even cancelled before its first step) its record ends too.

The records live in a :class:`~loopscope.tasks.ledger.TaskLedger` that the manager owns and
changes only through the ledger's methods. Screens do not get a callback per event: they call
``changes_since(v)`` at their own rate (see tasks/ledger.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import aiohttp
import aiohttp.abc

from loopscope.tasks.batch import Batch
from loopscope.tasks.blame import LoopBlame, StallEvidence
from loopscope.tasks.busy_gc import BusyCollector
from loopscope.tasks.demo_server import DemoServer
from loopscope.tasks.errors import ManagerClosed, TaskFailure
from loopscope.tasks.failures import describe, format_traceback
from loopscope.tasks.introspect import Introspector
from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.kinds.fetch import build_trace_config
from loopscope.tasks.lag import LagMonitor, LagSpike
from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.options import EngineOptions, OptionError
from loopscope.tasks.process_jobs import ProcessJobs, call_soon
from loopscope.tasks.process_stats import ProcessMonitor
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.scratch import ScratchSpace
from loopscope.tasks.slots import ConnectionSlots
from loopscope.tasks.spec import TaskSpec, bind, parse_specs, prepare_specs
from loopscope.tasks.thread_workers import ThreadWorkers
from loopscope.tasks.timing import Timing
from loopscope.tasks.tracked import TrackedWork

T = TypeVar("T")
PENDING, DONE = TaskState.PENDING, TaskState.DONE
"""Module constants for the hot paths: on Python 3.11 reading ``TaskState.X`` goes through
``EnumType.__getattr__``'s slow hook (a method-wrapper per read)."""
Runner = Callable[[TaskContext, TaskRecord], Awaitable[str]]
"""One task of a checked spec: ``bind(spec).run``, its arguments parsed once per launch."""

SLOW_LAUNCH_S = 0.02
CLOSE_GRACE_S = 1.0
"""On close, cancelled tasks get this long to end and worker threads this long to finish a
job they cannot be interrupted in; then the manager closes without them."""
TOO_MANY_FILES = "too many open files: raise ulimit -n or lower the connection limit"
PROCESS_CANCELLING = (
    "cancelled; a job running in a process cannot be interrupted: its worker finishes it first"
)


class TaskManager:
    """Runs task specs concurrently on the current event loop and records everything."""

    def __init__(
        self,
        options: EngineOptions | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        resolver: aiohttp.abc.AbstractResolver | None = None,
    ):
        self.options = options = options or EngineOptions()
        """The settings in force (``set_limits`` replaces it)."""
        self.clock = clock
        self.ledger = TaskLedger(clock=clock, history_limit=options.history_limit)
        self.collector = BusyCollector(options.gc_threshold)
        """The collector's threshold, raised while a batch is in flight (tasks/busy_gc.py)."""
        self.ledger.on_busy = self.collector.busy
        self._resolver = resolver
        """DNS resolver for the connector (tests pass one that never leaves the machine)."""
        tracing = options.trace_connections
        self._slots = ConnectionSlots(
            0 if tracing else options.connector_limit, 0 if tracing else options.limit_per_host
        )
        self._tasks: dict[int, asyncio.Task[Any]] = {}
        """Live tasks by record id: the strong references."""
        self._record_of: dict[asyncio.Task[Any], TaskRecord] = {}
        """The same, the other way: which record the running task is (what does it wait for)."""
        self._summaries: dict[int, Callable[[Any], str]] = {}
        """How a tracked task's result reads, by record id, until it ends (launched tasks
        return their summary text themselves)."""
        self._task_done_callback = self._on_task_done
        """One bound method for every task's done-callback, made once."""
        self._step_timing = False
        """The step hook is installed (tasks/introspect.py): follow each task's steps."""
        self._launchers: dict[int, asyncio.Task[None]] = {}
        self._watched: set[asyncio.Task[Any]] = set()
        self._stop_requested: set[int] = set()
        self._awaiting_process: dict[int, TaskRecord] = {}
        self._finish_on_start: dict[int, tuple[Callable[[Any], str] | None, asyncio.Task[Any]]] = {}
        """Process jobs that ended before their start announcement arrived."""
        self.gil_jobs_running = 0
        """CPU-bound jobs running in threads now: they starve the loop of the GIL."""
        self.notices: list[str] = []
        """One-line messages for the person at the screen (a worker died, too many files);
        a screen shows those past the length it saw last."""
        self.settings_version = 0
        """Bumped when ``set_limits`` changes the settings."""

        self.demo_url = options.demo_url.rstrip("/") if options.demo_url else None
        want_demo = options.demo_server and options.demo_url is None
        self._demo = DemoServer(seed=options.demo_seed) if want_demo else None
        self.blame_book = LoopBlame(gil_jobs=lambda: self.gil_jobs_running)
        self.lag = LagMonitor(blame=self.blame_book.explain, clock=clock)
        self.lag.on_spike = self._on_spike
        self.process = ProcessMonitor()
        self.introspect = Introspector(clock=clock, step_timing=options.step_timing)
        """Busy time, steps and await chains of the engine's own tasks (issue 9 item 7)."""

        self.thread_pool = ThreadWorkers(
            options.thread_workers, on_submit=self._waiting_for_thread
        )
        self._processes = ProcessJobs(
            options.process_pool_size,
            self._process_started,
            on_broken=self._process_pool_broke,
            on_pool_started=self._process_pool_started,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self.scratch = ScratchSpace(self.thread_pool)
        self._closed = False
        self._closing: asyncio.Task[None] | None = None
        self._started = False
        self._previous_handler: Any = None

    # --- settings -------------------------------------------------------------------------

    @property
    def connector_limit(self) -> int:
        """Most connections open at once (0: no limit)."""
        return self.options.connector_limit

    @property
    def limit_per_host(self) -> int:
        return self.options.limit_per_host

    @property
    def thread_workers(self) -> int:
        return self.options.thread_workers

    @property
    def process_workers(self) -> int:
        return self.options.process_pool_size

    @property
    def process_workers_busy(self) -> int:
        """Process-pool workers running a job now (cancelled ones included until they end)."""
        return self._processes.busy

    @property
    def history_limit(self) -> int:
        return self.ledger.history_limit

    @property
    def default_fetch_timeout(self) -> float:
        return self.options.fetch_timeout

    @property
    def trace_connections(self) -> bool:
        return self.options.trace_connections

    def set_limits(
        self,
        *,
        connector_limit: int | None = None,
        limit_per_host: int | None = None,
        thread_workers: int | None = None,
        process_workers: int | None = None,
    ) -> EngineOptions:
        """Change limits and pool sizes while running. Raises OptionError on a bad value.

        A bigger connection limit lets waiting fetches in at once; a smaller one lets no new
        fetch in until enough have finished. A pool resize applies to jobs submitted from now
        on; running jobs finish in their workers.
        """
        changes: dict[str, int] = {
            name: value
            for name, value in (
                ("connector_limit", connector_limit),
                ("limit_per_host", limit_per_host),
                ("thread_workers", thread_workers),
                ("process_workers", process_workers),
            )
            if value is not None
        }
        new = self.options.replace(**changes)
        connections_changed = (new.connector_limit, new.limit_per_host) != (
            self.options.connector_limit, self.options.limit_per_host,
        )
        if connections_changed and new.trace_connections:
            raise OptionError("connection limits cannot change while tracing connections")
        self.options = new
        if connections_changed:
            self._slots.resize(new.connector_limit, new.limit_per_host)
        self.thread_pool.resize(new.thread_workers)
        self._processes.resize(new.process_pool_size)
        self.settings_version += 1
        return new

    # --- life -----------------------------------------------------------------------------

    async def start(self) -> TaskManager:
        """Open the session, start the demo server and the monitors. Idempotent."""
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        if self._started:
            return self
        began = self.clock()
        self._loop = loop = asyncio.get_running_loop()
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._loop_exception)
        tracing = self.options.trace_connections
        connector = aiohttp.TCPConnector(
            # the slots (tasks/slots.py) enforce the limits, so they can change while running
            limit=self.options.connector_limit if tracing else 0,
            limit_per_host=self.options.limit_per_host if tracing else 0,
            resolver=self._resolver,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.options.fetch_timeout),
            trace_configs=[build_trace_config(self)] if tracing else None,
        )
        if self._demo is not None:
            await self._demo.start()
            self.demo_url = self._demo.url
        if self.options.monitors:
            self.lag.start()
            self.process.start()
        self.introspect.start()
        self._step_timing = self.introspect.timing
        if self.introspect.unavailable:
            self.notice(self.introspect.unavailable)
        self._started = True
        self.note_own_work(began, self.clock(), "start-up")
        return self

    async def __aenter__(self) -> TaskManager:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Cancel everything, close the session, stop the executors and workers.

        Quick whatever is in flight: cancelled tasks get ``CLOSE_GRACE_S``, the demo server's
        sleeping handlers are cancelled, and a worker thread stuck in a call that cannot be
        interrupted is left to finish on its own rather than waited for.
        """
        if self._closing is None:
            self._closed = True
            self._closing = asyncio.get_running_loop().create_task(
                self._close(), name="loopscope-close"
            )
        # The close runs as its own task and is awaited to the end even if the caller is
        # cancelled meanwhile (a second Ctrl-C): half a close would leave workers behind.
        cancelled = False
        while not self._closing.done():
            try:
                await asyncio.shield(self._closing)
            except asyncio.CancelledError:
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        self._closing.result()

    async def _close(self) -> None:
        self.cancel_all()
        pending = [*self._watched, *self._launchers.values(), *self._tasks.values()]
        if pending:
            await asyncio.wait(pending, timeout=CLOSE_GRACE_S)
        await self.lag.stop()
        await self.process.stop()
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # let the transports finish closing
        if self._demo is not None:
            await self._demo.stop()
        self.thread_pool.shutdown(wait=False, cancel_futures=True)
        # Wait for the worker threads by polling, not in an executor: a worker stuck in a call
        # that cannot be interrupted (a 2 GB read) must not hold up the close, nor the exit
        # (the pool's threads are daemons; an executor thread joining them would not be).
        deadline = time.monotonic() + CLOSE_GRACE_S
        while self.thread_pool.threads_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._processes.started:
            await asyncio.to_thread(self._processes.stop)
        await asyncio.sleep(0)  # the process jobs' last callbacks
        for job_id in list(self._finish_on_start):  # ended well; their start never came
            self._finish_without_start(job_id)
        for record in list(self.ledger.records.values()):
            if not record.state.finished:  # a task that ignored its cancellation
                self.ledger.finish(record, TaskState.CANCELLED)
        await self.scratch.remove()
        self.collector.restore()
        self.introspect.stop()
        self._step_timing = False
        # The exception handler stays: out of file descriptors, asyncio retries a failed accept
        # later (``_start_serving``), and a retry that fires after the server closed would
        # otherwise log a traceback each time. It passes everything else on unchanged.

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """Out of file descriptors, asyncio logs a traceback per failed accept (thousands, and
        more for each retry it schedules): say it once, in words, and drop the retries that
        fire once the server is closed. Everything else goes to the previous handler."""
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE):
            self.notice(TOO_MANY_FILES)
            return
        if _is_accept_retry(context):
            return  # the retry of an accept that failed for lack of descriptors (see aclose)
        if self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)

    def notice(self, text: str) -> None:
        """Tell the person once (repeats of the newest notice are dropped)."""
        if not self.notices or self.notices[-1] != text:
            self.notices.append(text)

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
        """Every spec checked at the door (a hand-built TaskSpec too): SpecError, not a task
        that fails later where nobody sees it."""
        if isinstance(specs, str):
            return tuple(parse_specs(specs))
        if isinstance(specs, TaskSpec):
            return prepare_specs((specs,))
        return prepare_specs(specs)

    def _check_open(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        if not self._started or self._loop is None:
            raise ManagerClosed("call `await manager.start()` before launching")
        return self._loop

    def _new_batch(
        self,
        specs: tuple[TaskSpec, ...],
        *,
        label: str,
        sequential: bool,
        replay_of: int | None = None,
    ) -> Batch:
        loop = self._check_open()
        batch = self.ledger.new_batch(
            specs, label=label, planned=sum(spec.repeat for spec in specs),
            sequential=sequential, replay_of=replay_of,
        )
        coro = self._launch_sequential(batch) if sequential else self._launch_concurrent(batch)
        launcher = loop.create_task(coro, name=f"loopscope-launch-{batch.id}")
        self._launchers[batch.id] = launcher
        launcher.add_done_callback(lambda _: self._launchers.pop(batch.id, None))
        return batch

    async def _launch_concurrent(self, batch: Batch) -> None:
        try:
            created = 0
            chunk = self.options.launch_chunk
            chunk_start = self.clock()
            stop_requested = self._stop_requested
            add_record = self.ledger.add_record
            adopt = self._adopt
            for spec in batch.specs:
                bound = bind(spec)
                runner, args, target, kind = bound.kind.runner, bound.args, bound.target, spec.kind
                for _ in range(spec.repeat):
                    if stop_requested and batch.id in stop_requested:
                        return
                    # the record exists before its task (eager task factories: see _start_task)
                    record = add_record(batch, kind, target)
                    adopt(record, runner(self, record, args))
                    created += 1
                    if created % chunk == 0:
                        self._note_slow_launch(batch, chunk_start)
                        await asyncio.sleep(0)
                        chunk_start = self.clock()
            self._note_slow_launch(batch, chunk_start)
        finally:
            self._launch_finished(batch)

    async def _launch_sequential(self, batch: Batch) -> None:
        try:
            for spec in batch.specs:
                bound = bind(spec)
                runner, target = bound.run, bound.target
                for _ in range(spec.repeat):
                    if batch.id in self._stop_requested:
                        return
                    task = self._start_task(batch, spec, runner, target)
                    await asyncio.wait([task])
        finally:
            self._launch_finished(batch)
        original = self.ledger.batches.get(batch.replay_of or -1)
        if original is not None and batch.counts[TaskState.CANCELLED] == 0:
            self.ledger.record_replay(original, batch)

    def _note_slow_launch(self, batch: Batch, start: float) -> None:
        end = self.clock()
        if end - start >= SLOW_LAUNCH_S:
            self.note_own_work(start, end, f"launching batch #{batch.id}")

    def _launch_finished(self, batch: Batch) -> None:
        self._stop_requested.discard(batch.id)
        self.ledger.launch_finished(batch)

    def _start_task(
        self, batch: Batch, spec: TaskSpec, runner: Runner, target: str
    ) -> asyncio.Task[Any]:
        # The record exists before the task: with an eager task factory (Python 3.12+ under
        # Textual) the coroutine runs up to its first await inside create_task.
        record = self.ledger.add_record(batch, spec.kind, target)
        return self._adopt(record, runner(self, record))

    def _adopt(
        self,
        record: TaskRecord,
        coro: Any,
        summary: Callable[[Any], str] | None = None,
        name: str | None = None,
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as ``record``'s task; ``_on_task_done`` records how it ended.

        Per task: one create_task, two dict entries, one done-callback (the same bound method
        for every task, so nothing is allocated for it)."""
        assert self._loop is not None
        task = self._loop.create_task(coro, name=name)
        self._tasks[record.id] = task  # strong reference until it ends
        self._record_of[task] = record
        if summary is not None:
            self._summaries[record.id] = summary
        if self._step_timing:
            self.introspect.attach(record.id, task)
        task.add_done_callback(self._task_done_callback)
        return task

    def _on_task_done(self, task: asyncio.Task[Any]) -> None:
        """The done-callback of every task: drop the references, then record how it ended
        (like TaskGroup's ``_on_task_done``: whatever way it ended, even before its first
        step)."""
        record = self._record_of.pop(task)
        record_id = record.id
        if self._tasks.get(record_id) is task:
            del self._tasks[record_id]
        summaries = self._summaries
        summary = summaries.pop(record_id, None) if summaries else None
        if self._step_timing:
            self._last_steps(record)
        if (
            summary is None
            and not self._awaiting_process
            and not task.cancelled()
            and task.exception() is None
        ):  # the usual end of a launched task: it returned its summary text
            self.ledger.finish(record, DONE, result=str(task.result()))
            return
        self._record_end(record, summary, task)

    def _record_end(
        self, record: TaskRecord, summary: Callable[[Any], str] | None, task: asyncio.Task[Any]
    ) -> None:
        """Finish ``record`` as ``task`` ended: done (its summary), exception or cancelled."""
        if (
            record.id in self._awaiting_process
            and not task.cancelled()
            and task.exception() is None
            and not self._closed
        ):
            # The job ended before its worker's start announcement reached the loop (they
            # travel by different queues): finish when it arrives, so the record has a start.
            self._finish_on_start[record.id] = (summary, task)
            assert self._loop is not None
            self._loop.call_later(CLOSE_GRACE_S, self._finish_without_start, record.id)
            return
        if self._awaiting_process:
            self._awaiting_process.pop(record.id, None)
        ledger = self.ledger
        if task.cancelled():
            job = self._processes.running(record.id)
            if job is not None and not self._closed:
                # the worker goes on with the job: show it as cancelling until it is free
                ledger.mark_cancelling(record, PROCESS_CANCELLING)
                loop = self._loop
                assert loop is not None
                job.add_done_callback(
                    lambda _: call_soon(loop, ledger.finish, record, TaskState.CANCELLED)
                )
                return
            ledger.finish(record, TaskState.CANCELLED)
            return
        error = task.exception()
        if error is not None:
            error_type, message = describe(error)
            ledger.finish(
                record, TaskState.EXCEPTION, error=(error_type, message, format_traceback(error))
            )
            if _is_broken_pool(error):
                self._processes.note_broken()
            return
        value = task.result()
        try:
            text = summary(value) if summary is not None else str(value)
        except Exception as failure:  # a scenario's summary must not lose the record
            text = f"(no summary: {type(failure).__name__})"
        ledger.finish(record, TaskState.DONE, result=text)

    # --- insight: busy time, steps, where suspended (tasks/introspect.py) ------------------

    def sample_insight(self, record_ids: Iterable[int]) -> None:
        """Refresh the insight fields of these records: call it for the tasks a screen shows,
        a few times a second at most. Reading await chains costs nothing when nobody asks."""
        introspect = self.introspect
        for record_id in record_ids:
            record = self.ledger.get(record_id)
            task = self._tasks.get(record_id)
            if record is None or task is None:
                continue
            record.suspended_at = introspect.suspension(task)
            figures = introspect.steps_of(record_id)
            if figures is not None:
                record.busy_s, record.steps = figures.busy_s, figures.steps
                record.longest_step_s = figures.longest_s

    def _last_steps(self, record: TaskRecord) -> None:
        figures = self.introspect.detach(record.id)
        if figures is not None:
            record.busy_s, record.steps = figures.busy_s, figures.steps
            record.longest_step_s = figures.longest_s

    def live_tasks(self) -> Mapping[int, asyncio.Task[Any]]:
        """Record id -> its asyncio task, for tasks not finished (a read-only view)."""
        return MappingProxyType(self._tasks)

    # --- tasks a caller schedules itself (the teaching scenarios) ---------------------------

    def open_batch(
        self, label: str, *, sequential: bool = False, replay_of: int | None = None
    ) -> Batch:
        """A batch whose tasks the caller adds with ``tracked``; end it with ``close_batch``.

        ``replay_of`` names the batch this one replays: the ledger keeps that batch while the
        replay runs, so it must know from the start (set later, its count is never raised).
        """
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        return self.ledger.new_batch((), label=label, sequential=sequential, replay_of=replay_of)

    def close_batch(self, batch: Batch) -> None:
        """No more tasks will be added: the batch is done when those it has end."""
        self.ledger.launch_finished(batch)

    def tracked(
        self,
        batch: Batch,
        kind: str,
        target: str,
        work: Callable[[TaskRecord], Awaitable[T]],
        *,
        summary: Callable[[T], str] = str,
        start_running: bool = True,
    ) -> TrackedWork[T]:
        """A coroutine that runs ``work(record)`` as a task of ``batch``, recorded like any
        other. Unlike launched tasks it RE-RAISES, so gather, TaskGroup and wait_for behave
        as they would without loopscope: that is what the scenarios show.

        The record is created now, pending. With ``start_running=False`` the work calls
        ``mark_running`` itself (after acquiring a semaphore, say).
        """
        self._check_open()
        record = self.ledger.add_record(batch, kind, target, planned=False)
        ledger = self.ledger

        async def body() -> T:
            if start_running:
                ledger.mark_running(record)
            return await work(record)

        def start() -> asyncio.Task[T]:
            task: asyncio.Task[T] = self._adopt(
                record, body(), summary, name=f"loopscope-{kind}-{record.id}"
            )
            return task

        return TrackedWork(start, lambda: ledger.finish(record, TaskState.CANCELLED))

    def watch(self, task: asyncio.Task[Any]) -> None:
        """Keep a strong reference to a task of the caller's until it ends; ``cancel_all``
        and ``aclose`` cancel it (scenario runs use this)."""
        self._watched.add(task)
        task.add_done_callback(self._watched.discard)

    # --- records of work run in a clean process (tasks/isolated.py) --------------------------

    def add_record(
        self, batch: Batch, kind: str, target: str, *, created: float | None = None
    ) -> TaskRecord:
        """A pending record in ``batch`` for a job that runs elsewhere (``created``: when, on
        the perf_counter clock)."""
        record = self.ledger.add_record(batch, kind, target, planned=False)
        if created is not None and self.clock is time.perf_counter:
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
        """End such a record as the other process reported: ``at`` is its perf_counter time;
        ``error`` is "Type: message"."""
        failure = None
        if error:
            kind, _, message = error.partition(": ")
            failure = (kind, message or None, None)
        self.ledger.finish(record, state, result=result, error=failure, at=at)

    def record_measurement(self, batch: Batch, wall_s: float, sequential_s: float) -> None:
        """A clean process measured ``batch`` again: its wall there and its sequential replay."""
        self.ledger.record_measurement(batch, wall_s, sequential_s)

    @property
    def embedded_demo(self) -> bool:
        """True when the demo server runs inside this manager (not at a given ``demo_url``)."""
        return self._demo is not None

    # --- cancelling -----------------------------------------------------------------------

    def cancel(self, task_id: int) -> bool:
        """Cancel one task. False if it has already finished or does not exist."""
        task = self._tasks.get(task_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def cancel_all(self) -> int:
        """Stop every launch in progress and cancel every live task."""
        for batch_id in self._launchers:
            self._stop_requested.add(batch_id)
        for watched in list(self._watched):
            watched.cancel()
        cancelled = 0
        for task in list(self._tasks.values()):
            if not task.done():
                task.cancel()
                cancelled += 1
        return cancelled

    # --- state changes (the TaskContext API the kinds call) ---------------------------------

    def mark_running(self, record: TaskRecord, at: float | None = None) -> None:
        self.ledger.mark_running(record, at)

    def mark_pending(self, record: TaskRecord) -> None:
        self.ledger.mark_pending(record, "a connection")

    def progress(self, record: TaskRecord, done: int, total: int | None = None) -> None:
        self.ledger.progress(record, done, total)

    def _current_record(self) -> TaskRecord | None:
        """The record of the task running now, if it is one of the manager's."""
        try:
            task = asyncio.current_task()
        except RuntimeError:  # not on the loop (a worker thread)
            return None
        return self._record_of.get(task) if task is not None else None

    def _waiting_for_current(self, what: str) -> None:
        record = self._current_record()
        if record is not None and record.state is PENDING:
            self.ledger.waiting(record, what)

    def _waiting_for_thread(self) -> None:
        self._waiting_for_current("a thread worker")

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

    def fetch_slot(
        self, url: str, record: TaskRecord | None = None
    ) -> AbstractAsyncContextManager[object]:
        """What a fetch holds while it runs (see tasks/slots.py); waiting is pending time.
        ``record`` is the fetch's own (else the running task's record is looked up)."""
        if record is None:
            return self._slots.hold(url, self._current_waits_for_slot)
        return self._slots.hold(url, self.ledger.waiting, record)

    def _current_waits_for_slot(self, _: object, what: str) -> None:
        self._waiting_for_current(what)

    def expect_process_start(self, record: TaskRecord) -> None:
        self._awaiting_process[record.id] = record

    def run_in_process(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run ``function(*args)`` in the process pool (the current task's record, if any,
        waits for a process worker until one announces the job)."""
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        record = self._current_record()
        if record is not None:
            self._waiting_for_current("a process worker")
        return self._processes.submit(
            function, *args, job_id=record.id if record is not None else None
        )

    def _process_started(self, job_id: int, at: float) -> None:
        record = self._awaiting_process.pop(job_id, None)
        if record is not None:
            self.ledger.mark_running(record, at)
            if (finished := self._finish_on_start.pop(job_id, None)) is not None:
                self._record_end(record, *finished)

    def _finish_without_start(self, job_id: int) -> None:
        finished = self._finish_on_start.pop(job_id, None)
        record = self._awaiting_process.pop(job_id, None)
        if finished is not None and record is not None:
            self._record_end(record, *finished)

    def _process_pool_started(self, start: float, end: float) -> None:
        self.note_own_work(start, end, "starting the process pool")

    def _process_pool_broke(self) -> None:
        self.notice("a process-pool worker died: started a fresh pool")

    async def sample_file(self) -> Path:
        """One of the generated sample files, in turn (made on first use, off the loop)."""
        if self.scratch.directory is None:
            self._waiting_for_current("the sample files being generated")
        return await self.scratch.sample_file()

    async def scratch_path(self) -> Path:
        """A fresh path in the manager's temporary folder, removed on close."""
        return await self.scratch.path()

    # --- blame ----------------------------------------------------------------------------

    def _on_spike(self, began: float, spike: LagSpike) -> None:
        """Launched tasks still waiting for their first step through a stall waited for a
        busy loop: say so on their records (tasks waiting for something named keep it)."""
        ledger = self.ledger
        for record_id in self._tasks:
            record = ledger.records.get(record_id)
            if record is None:
                continue
            if record.created >= began:
                break  # the rest were created after the stall began
            if record.state is PENDING and record.waiting_for is None:
                batch = ledger.batches.get(record.batch_id)
                if batch is not None and batch.specs:  # launched, not a scenario's own task
                    ledger.waiting(record, f"a busy event loop ({spike.lag_ms:,.0f} ms stall)")

    def note_on_loop(self, start: float, end: float, label: str) -> None:
        """Remember that a task (``label``) held the loop from ``start`` to ``end``."""
        self.blame_book.note_on_loop(start, end, label)

    @contextlib.contextmanager
    def own_work(self, label: str) -> Iterator[None]:
        """``with manager.own_work("drawing the screen"):`` notes the block as loopscope's own
        work, so a lag spike during it is blamed on loopscope."""
        start = self.clock()
        try:
            yield
        finally:
            self.note_own_work(start, self.clock(), label)

    def note_own_work(self, start: float, end: float, label: str) -> None:
        """Remember that loopscope itself held the loop (the screen layer notes its drawing
        here), so a lag spike then is blamed on loopscope, not on "cause unknown"."""
        self.blame_book.note_own_work(start, end, label)

    def blame(self, start: float, end: float) -> str | None:
        """What is known to have held the loop between ``start`` and ``end``, in words."""
        verdict = self.blame_book.explain(start, end, StallEvidence())
        return None if verdict.text == "cause unknown" else verdict.text

    def clear_finished(self) -> int:
        """Drop the finished batches and reset the session figures (see TaskLedger); returns
        how many records were dropped. Nothing running is touched."""
        return self.ledger.clear_finished()

    # --- reading (the ledger's figures) ---------------------------------------------------

    @property
    def records(self) -> dict[int, TaskRecord]:
        return self.ledger.records

    @property
    def batches(self) -> dict[int, Batch]:
        return self.ledger.batches

    @property
    def counts(self) -> dict[TaskState, int]:
        return self.ledger.counts

    @property
    def version(self) -> int:
        return self.ledger.version

    @property
    def history_version(self) -> int:
        return self.ledger.history_version

    def changes_since(self, version: int) -> tuple[int, list[int]]:
        return self.ledger.changes_since(version)

    def get(self, task_id: int) -> TaskRecord | None:
        return self.ledger.get(task_id)

    @property
    def last_batch(self) -> Batch | None:
        return self.ledger.last_batch

    @property
    def current_batch(self) -> Batch | None:
        return self.ledger.current_batch

    @property
    def live_count(self) -> int:
        return self.ledger.live_count

    def session_timing(self) -> Timing:
        return self.ledger.session_timing()

    def __repr__(self) -> str:
        counts = " ".join(f"{state.value}={n}" for state, n in self.counts.items())
        return f"<TaskManager {counts} batches={len(self.batches)} closed={self._closed}>"


def _is_broken_pool(error: BaseException) -> bool:
    return isinstance(error, BrokenProcessPool)


def _is_accept_retry(context: dict[str, Any]) -> bool:
    """A server's delayed accept retry failing because its socket is gone (closed meanwhile)."""
    handle = context.get("handle")
    callback = getattr(handle, "_callback", None)
    return getattr(callback, "__name__", "") == "_start_serving" and isinstance(
        context.get("exception"), (OSError, ValueError)
    )
