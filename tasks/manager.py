"""The TaskManager: launches, tracks, cancels and times tasks on the running event loop.

It is configured by one :class:`~loopscope.tasks.options.EngineOptions`. It owns one aiohttp
ClientSession, one thread pool and (on first use) one process pool for its whole life, plus
the demo server and the monitors. It keeps a strong reference to every task until it ends.
One task's failure never touches its siblings.

Every task's bookkeeping happens in one done-callback (``LiveTasks._on_task_done``), which reads
``task.cancelled()`` / ``task.exception()`` the way CPython's ``asyncio/taskgroups.py`` does:
however a task ended (even cancelled before its first step) its record ends too.

The records live in a :class:`~loopscope.tasks.ledger.TaskLedger` that the manager owns and
changes only through the ledger's methods. Screens do not get a callback per event: they call
``changes_since(v)`` at their own rate (see tasks/ledger.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import aiohttp.abc

from loopscope.tasks.batch import Batch
from loopscope.tasks.blame import LoopBlame, StallEvidence
from loopscope.tasks.busy_gc import BusyCollector
from loopscope.tasks.connections import Connections
from loopscope.tasks.errors import ManagerClosed
from loopscope.tasks.fetch_deadlines import FetchDeadlines
from loopscope.tasks.introspect import Introspector
from loopscope.tasks.kinds.fetch import build_trace_config
from loopscope.tasks.lag import LagMonitor
from loopscope.tasks.launching import Launcher, Runner, checked_specs
from loopscope.tasks.ledger import TaskLedger
from loopscope.tasks.ledger_reading import LedgerReading
from loopscope.tasks.live_tasks import LiveTasks
from loopscope.tasks.loop_errors import LoopErrors
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.process_records import CLOSE_GRACE_S, ProcessRecords
from loopscope.tasks.process_stats import ProcessMonitor
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.scratch import ScratchSpace
from loopscope.tasks.settings_reading import SettingsReading
from loopscope.tasks.slots import FetchSlot
from loopscope.tasks.spec import TaskSpec
from loopscope.tasks.stopping import await_to_the_end
from loopscope.tasks.thread_workers import ThreadWorkers
from loopscope.tasks.tracked import TrackedWork, track
from loopscope.tasks.waiting import WaitReasons

T = TypeVar("T")
__all__ = ["CLOSE_GRACE_S", "TaskManager"]


class TaskManager(LedgerReading, SettingsReading):
    """Runs task specs concurrently on the current event loop and records everything.

    Its parts, each in its own module: the records (``TaskLedger``, read through
    ``LedgerReading``), the live tasks and their done-callback (``LiveTasks``), the launches
    (``Launcher``), the process pool's jobs (``ProcessRecords``), the session, connection
    slots and demo server (``Connections``), and what pending tasks wait for
    (``WaitReasons``)."""

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
        self.ledger.on_busy = self._busy
        self._busy_listeners: list[Callable[[bool], None]] = []
        self._notice_listeners: list[Callable[[], None]] = []
        self._watched: set[asyncio.Task[Any]] = set()
        self.gil_jobs_running = 0
        """CPU-bound jobs running in threads now: they starve the loop of the GIL."""
        self.notices: list[str] = []
        """One-line messages for the person at the screen (a worker died, too many files);
        a screen shows those past the length it saw last."""
        self.settings_version = 0
        """Bumped when ``set_limits`` changes the settings."""

        self.blame_book = LoopBlame(gil_jobs=lambda: self.gil_jobs_running)
        self.lag = LagMonitor(blame=self.blame_book.explain, clock=clock)
        self.process = ProcessMonitor()
        self.introspect = Introspector(clock=clock, step_timing=options.step_timing)
        """Busy time, steps and await chains of the engine's own tasks (issue 9 item 7)."""

        self._processes = ProcessRecords(
            self.ledger,
            options.process_pool_size,
            on_broken=self._process_pool_broke,
            on_pool_started=self._process_pool_started,
        )
        self._live = LiveTasks(self.ledger, self.introspect, self._processes)
        self._waits = WaitReasons(self.ledger, self._live)
        """What pending tasks wait for, noted on their records (tasks/waiting.py)."""
        self.lag.on_spike = self._waits.busy_loop
        self.thread_pool = ThreadWorkers(options.thread_workers, on_submit=self._waits.for_thread)
        self._connections = Connections(
            options, resolver=resolver, record_waits=self.ledger.waiting
        )
        """The session, the connection slots and the demo server (tasks/connections.py)."""
        # Called once per task or per request: bound straight to the part that does the work
        # (one call, not two; README "Benchmarks" (c)).
        self.mark_running = self.ledger.mark_running
        """The task got its slot and does its work now (the TaskContext API the kinds call)."""
        self.fetch_slot: Callable[[str], FetchSlot] = self._connections.slots.slot_for
        """What a fetch to a URL holds while it runs (tasks/slots.py); waiting is pending."""
        self.resolve_url = self._connections.resolve_url
        """A ``/path`` URL on the demo server, others as they are."""
        self.fetch_deadlines = FetchDeadlines(options.fetch_timeout)
        """The time limits of the fetches in flight, one timer for all (fetch_deadlines.py)."""
        self._launcher = Launcher(
            self.ledger,
            clock=clock,
            chunk=lambda: self.options.launch_chunk,
            note_own_work=self.note_own_work,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self.scratch = ScratchSpace(self.thread_pool)
        self._closed = False
        self._closing: asyncio.Task[None] | None = None
        self._started = False

    # --- settings (read: ``SettingsReading``) ---------------------------------------------

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
        given = {"connector_limit": connector_limit, "limit_per_host": limit_per_host,
                 "thread_workers": thread_workers, "process_workers": process_workers}
        new = self.options.replace(**{name: n for name, n in given.items() if n is not None})
        connections_changed = self._connections.limits_changed(self.options, new)
        self.options = new
        if connections_changed:
            self._connections.slots.resize(new.connector_limit, new.limit_per_host)
        self.thread_pool.resize(new.thread_workers)
        self._processes.jobs.resize(new.process_pool_size)
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
        # stays after close: an accept retry can fire later still (tasks/loop_errors.py)
        loop.set_exception_handler(LoopErrors(self.notice, loop.get_exception_handler()))
        tracing = self.options.trace_connections
        await self._connections.open(self.options, build_trace_config(self) if tracing else None)
        if self.options.monitors:
            self.lag.start()
            self.process.start()
        self.introspect.start()
        self._live.start(loop)
        self.fetch_deadlines.start(loop)
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
            self._closed = self._processes.closed = True
            self._closing = asyncio.get_running_loop().create_task(
                self._close(), name="loopscope-close"
            )
        await await_to_the_end(self._closing)  # its own task: a second Ctrl-C cannot halve it

    async def _close(self) -> None:
        self.cancel_all()
        pending = [*self._watched, *self._launcher.tasks(), *self._live.tasks()]
        if pending:
            await asyncio.wait(pending, timeout=CLOSE_GRACE_S)
        await self.lag.stop()
        await self.process.stop()
        await self._connections.close()
        await self.thread_pool.close(CLOSE_GRACE_S)  # a stuck worker is left behind
        await self._processes.close()
        for record in list(self.ledger.records.values()):
            if not record.state.finished:  # a task that ignored its cancellation
                self.ledger.finish(record, TaskState.CANCELLED)
        await self.scratch.remove()
        self.collector.restore()
        self.introspect.stop()
        self._live.stop()
        self.fetch_deadlines.stop()

    def on_busy(self, listener: Callable[[bool], None]) -> None:
        """Tell ``listener`` True when a batch starts with none in flight and False when the
        last one completes (a screen that slows down while idle wakes up on it)."""
        self._busy_listeners.append(listener)

    def _busy(self, busy: bool) -> None:
        self.collector.busy(busy)
        self.lag.busy(busy)
        for listener in self._busy_listeners:
            listener(busy)

    def on_notice(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each new notice (from whichever thread noticed it: a
        screen hands it to its own loop), so nobody has to poll ``notices``."""
        self._notice_listeners.append(listener)

    def notice(self, text: str) -> None:
        """Tell the person once (repeats of the newest notice are dropped)."""
        if not self.notices or self.notices[-1] != text:
            self.notices.append(text)
            for listener in self._notice_listeners:
                listener()

    # --- launching ------------------------------------------------------------------------

    def launch(
        self, specs: str | TaskSpec | Sequence[TaskSpec], *, label: str = ""
    ) -> Batch:
        """Start a batch of tasks concurrently. Raises SpecError on a bad spec string.

        Returns at once; tasks are created in chunks of ``launch_chunk`` so a launch of
        100,000 never stalls the loop. ``await batch.wait()`` waits for all to finish.
        """
        specs = checked_specs(specs)
        return self._launcher.new_batch(
            specs, self._check_open(), self._start_task, label=label, sequential=False
        )

    def replay_sequential(self, batch: Batch) -> Batch:
        """Run ``batch``'s specs again one after another; when the replay completes, its wall
        time becomes ``batch.measured_sequential_s``: the measured truth behind the estimate."""
        return self._launcher.new_batch(
            batch.specs, self._check_open(), self._start_task,
            label=f"sequential replay of batch #{batch.id}", sequential=True, replay_of=batch.id,
        )

    def _check_open(self) -> asyncio.AbstractEventLoop:
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        if not self._started or self._loop is None:
            raise ManagerClosed("call `await manager.start()` before launching")
        return self._loop

    def _start_task(
        self, batch: Batch, spec: TaskSpec, runner: Runner, target: str
    ) -> asyncio.Task[Any]:
        """One task of a launch: its record first, then the task (with an eager task
        factory, Python 3.12+ under Textual, the coroutine runs up to its first await inside
        create_task). Tests hold tasks at their start by wrapping this (tests/staging.py)."""
        record = self.ledger.add_record(batch, spec.kind, target)
        return self._live.adopt(record, runner(self, record))

    # --- insight: busy time, steps, where suspended (tasks/introspect.py) ------------------

    def sample_insight(self, record_ids: Iterable[int]) -> None:
        """Refresh the insight fields of these records: call it for the tasks a screen shows,
        a few times a second at most. Reading await chains costs nothing when nobody asks."""
        self._live.sample_insight(record_ids)

    def live_tasks(self) -> Mapping[int, asyncio.Task[Any]]:
        """Record id -> its asyncio task, for tasks not finished (a read-only view)."""
        return self._live.view()

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
        return track(self.ledger, self._live.adopt, record, work, summary, start_running)

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
        return self._connections.demo is not None

    @property
    def demo_url(self) -> str | None:
        """Where ``/path`` URLs go: the given ``demo_url``, or the embedded demo server's."""
        return self._connections.demo_url

    # --- cancelling -----------------------------------------------------------------------

    def cancel(self, task_id: int) -> bool:
        """Cancel one task. False if it has already finished or does not exist."""
        return self._live.cancel(task_id)

    def cancel_all(self) -> int:
        """Stop every launch in progress and cancel every live task."""
        self._launcher.stop_all()
        for watched in list(self._watched):
            watched.cancel()
        return self._live.cancel_all()

    # --- state changes (the TaskContext API the kinds call) ---------------------------------

    def mark_pending(self, record: TaskRecord) -> None:
        self.ledger.mark_pending(record, "a connection")

    def progress(self, record: TaskRecord, done: int, total: int | None = None) -> None:
        self.ledger.progress(record, done, total)

    # --- resources the kinds use ----------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        session = self._connections.opened
        return session if session is not None else self._connections.session


    def expect_process_start(self, record: TaskRecord) -> None:
        self._processes.expect_start(record)

    def run_in_process(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run ``function(*args)`` in the process pool (the current task's record, if any,
        waits for a process worker until one announces the job)."""
        if self._closed:
            raise ManagerClosed("this TaskManager is closed")
        record = self._waits.current_record()
        if record is not None:
            self._waits.current_waits("a process worker")
        return self._processes.jobs.submit(
            function, *args, job_id=record.id if record is not None else None
        )

    def _process_pool_started(self, start: float, end: float) -> None:
        self.note_own_work(start, end, "starting the process pool")

    def _process_pool_broke(self) -> None:
        self.notice("a process-pool worker died: started a fresh pool")

    async def sample_file(self) -> Path:
        """One of the generated sample files, in turn (made on first use, off the loop)."""
        if self.scratch.directory is None:
            self._waits.current_waits("the sample files being generated")
        return await self.scratch.sample_file()

    async def scratch_path(self) -> Path:
        """A fresh path in the manager's temporary folder, removed on close."""
        return await self.scratch.path()

    # --- blame ----------------------------------------------------------------------------

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

    def __repr__(self) -> str:
        counts = " ".join(f"{state.value}={n}" for state, n in self.counts.items())
        return f"<TaskManager {counts} batches={len(self.batches)} closed={self._closed}>"
