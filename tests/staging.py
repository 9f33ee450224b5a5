"""Deterministic dashboard states for snapshot tests and ``make screenshots``.

Tasks run for real (the demo server, the thread pool, the fail kind), but time comes from a
FakeClock that is moved only between events, so every duration on screen is the same on every
run. No stage depends on how fast the machine is: a task chosen to end at a given clock time
is held by a ``Gates`` gate after its real work, until the stage has set the clock and opens
that gate, then the stage waits for the condition it expects. Slow or busy, the machine only
makes a stage take longer. The process figures and the lag history, which come from the
machine, are replaced by fixed values, and ``settle`` draws the final state explicitly rather
than waiting for a refresh timer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from textual.pilot import Pilot

from loopscope.tasks.kinds.context import TaskContext
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.process_stats import ProcessSnapshot
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tui.app import LoopscopeApp, make_app

REPO = Path(__file__).resolve().parent.parent

AppResult = TypeVar("AppResult")
"""What the app under test returns (``Pilot`` is invariant in it): lets a helper take any pilot."""


class FakeClock:
    """A clock that says what it is told."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Gates:
    """Tasks that end only when the stage says so.

    A gate is named by the task's kind and target as the task list shows them (``("sleep",
    "0.05 s")``). A gated task does its real work, then waits for its gate before its result
    (or its error) is recorded, so its end time is the clock's value when the gate opens.
    """

    def __init__(self, *names: tuple[str, str]) -> None:
        self.events = {name: asyncio.Event() for name in names}

    def open(self, kind: str, target: str) -> None:
        self.events[(kind, target)].set()

    def _wrap(
        self, runner: Callable[[TaskContext, TaskRecord], Awaitable[str]]
    ) -> Callable[[TaskContext, TaskRecord], Awaitable[str]]:
        async def gated(context: TaskContext, record: TaskRecord) -> str:
            gate = self.events.get((record.kind, record.target))
            try:
                result = await runner(context, record)
            except Exception:
                if gate is not None:
                    await gate.wait()
                raise
            if gate is not None:
                await gate.wait()
            return result

        return gated

    @contextmanager
    def installed(self, manager: TaskManager) -> Iterator[Gates]:
        """Gate the tasks ``manager`` starts while the context is open.

        It wraps the manager's private ``_start_task`` on purpose (noqa SLF001 below): a test
        needs to hold tasks at their start, which no public API should offer."""
        start_task = manager._start_task  # noqa: SLF001

        def gated_start(batch: Any, spec: Any, runner: Any, target: str) -> Any:
            return start_task(batch, spec, self._wrap(runner), target)

        manager._start_task = gated_start  # type: ignore[method-assign]  # noqa: SLF001
        try:
            yield self
        finally:
            del manager._start_task  # noqa: SLF001 - the class's method again


STAGED_OPTIONS = EngineOptions(thread_workers=1, process_workers=2, monitors=False, demo_seed=7)
"""The staged engine: one thread worker (a queue to see), no machine monitors, fixed demo data."""


def staged_app(clock: FakeClock, options: EngineOptions = STAGED_OPTIONS) -> LoopscopeApp:
    return make_app(options=options, clock=clock)


async def until(
    pilot: Pilot[AppResult], condition: Callable[[], bool], timeout: float = 20
) -> None:
    """Let the app run until ``condition`` holds (fails after ``timeout`` seconds)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


async def palette_choose(pilot: Pilot[AppResult], query: str, first: str) -> None:
    """Open the command palette, type ``query``, wait until the highlighted command's prompt
    contains ``first``, and press enter. The palette
    fills its list in timed batches: waiting on the list, not on a pause, keeps this steady
    on a busy machine."""
    from textual.command import CommandList, CommandPalette

    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*query)
    commands = app.screen.query_one(CommandList)

    def highlighted() -> str:
        if commands.option_count == 0 or commands.highlighted is None:
            return ""
        return str(commands.get_option_at_index(commands.highlighted).prompt)

    await until(pilot, lambda: first in highlighted())
    await pilot.press("enter")


def fix_machine_figures(app: LoopscopeApp) -> None:
    manager = app.manager
    manager.process.latest = ProcessSnapshot(
        at=0.0, cpu_percent=14.0, rss_bytes=61 * 2**20, threads=6, open_fds=31,
        connections=5, system_cpu_percent=22.0, system_memory_percent=38.0, children=0,
    )
    manager.process.version += 1
    for n, lag in enumerate([0.3, 0.4, 0.2, 0.5, 0.3, 1.1, 0.4, 0.2, 0.3, 2.4, 0.3, 0.2] * 6):
        manager.lag.samples.append((n * 0.05, lag))
    manager.lag.version += 1


def shorten_tracebacks(app: LoopscopeApp, *, stable_lines: bool = False) -> None:
    """Tracebacks name files by absolute path; make them relative so they match anywhere.

    With ``stable_lines`` the line numbers become 1, so a snapshot does not change whenever
    the engine's code moves (screenshots keep the real numbers).
    """
    for record in app.manager.records.values():
        if record.traceback:
            text = record.traceback.replace(str(REPO) + "/", "")
            # the Gates wrapper's own frame (its File line, its code line, any ^^^ line)
            text = re.sub(r'  File "tests/staging.py".*\n(?:    .*\n)*', "", text)
            if stable_lines:
                text = re.sub(r", line \d+,", ", line 1,", text)
            record.traceback = text
            record.version += 1


async def settle(pilot: Pilot[AppResult]) -> None:
    """Draw the final state now: every screen pulls from the engine, then the app repaints."""
    app = pilot.app
    for screen in app.screen_stack:
        sync = getattr(screen, "sync", None)
        if sync is not None:
            sync(force=True)
        screen.refresh(layout=True)  # scrollbars follow a list that just scrolled
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def stage_mid_batch(pilot: Pilot[int], clock: FakeClock) -> None:
    """A batch in flight: fetches running, sleeps done, a timeout failed, a thread job waiting
    for the only worker, one task cancelled."""
    app = pilot.app
    assert isinstance(app, LoopscopeApp)
    manager = app.manager
    clock.now = 0.0
    gates = Gates(("sleep", "0.05 s"), ("fetch", "/delay/700"), ("fetch", "/delay/1000"))
    with gates.installed(manager):
        batch = manager.launch(
            "sleep 0.05 x3; fetch /delay/700 timeout=0.4; fetch /delay/1000 x4; "
            "thread 3600 x2; sleep 3600 x3"
        )
        await until(pilot, lambda: not batch.launching and batch.counts[TaskState.RUNNING] == 12)
    clock.now = 0.21
    gates.open("sleep", "0.05 s")
    await until(pilot, lambda: batch.counts[TaskState.DONE] == 3)
    clock.now = 0.43
    gates.open("fetch", "/delay/700")
    await until(pilot, lambda: batch.counts[TaskState.EXCEPTION] == 1)
    clock.now = 1.02
    gates.open("fetch", "/delay/1000")
    await until(pilot, lambda: batch.counts[TaskState.DONE] == 7)
    clock.now = 1.1
    manager.cancel(batch.records[-1].id)
    await until(pilot, lambda: batch.counts[TaskState.CANCELLED] == 1)
    clock.now = 1.35
    fix_machine_figures(app)
    shorten_tracebacks(app)
    await settle(pilot)


async def stage_failed_detail(
    pilot: Pilot[int], clock: FakeClock, *, stable_lines: bool = True
) -> None:
    """One failed task, its detail view open."""
    app = pilot.app
    assert isinstance(app, LoopscopeApp)
    manager = app.manager
    clock.now = 0.0
    gates = Gates(("fail", "disk full"))
    with gates.installed(manager):
        batch = manager.launch("sleep 3600 x2; fail disk full")
        await until(pilot, lambda: not batch.launching and batch.counts[TaskState.RUNNING] == 3)
    record = batch.records[-1]
    clock.now = 0.1
    gates.open("fail", "disk full")
    await until(pilot, lambda: record.state is TaskState.EXCEPTION)
    clock.now = 0.8
    fix_machine_figures(app)
    shorten_tracebacks(app, stable_lines=stable_lines)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def stage_help(pilot: Pilot[int], clock: FakeClock) -> None:
    app = pilot.app
    assert isinstance(app, LoopscopeApp)
    fix_machine_figures(app)
    await settle(pilot)
    await pilot.press("question_mark")
    await settle(pilot)
