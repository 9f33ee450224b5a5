"""A deterministic stand-in for the agent's stream, for snapshot tests and screenshots.

Its frames point at real lines of tests/programs/tiny_crawler.py, so the detail view shows real
source. ``FakeFeed`` fills a store with one staged moment of that crawler and obeys cancel
requests the way the agent does (the task's next snapshot says cancelled).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopscope.tasks.agent import wire
from loopscope.tasks.agent.model import (
    AgentWarning,
    Frame,
    LagSpike,
    TaskError,
    TaskSnapshot,
    TaskState,
    WarningKind,
)
from loopscope.tasks.watch.session import WatchSession
from loopscope.tasks.watch.store import WatchStore
from loopscope.tasks.watch.supervisor import ExitStatus, ProgramState, ProgramSupervisor
from loopscope.tui.watch_app import WatchApp, make_watch_app
from loopscope.widgets.watch_task_list import WatchTaskList

CRAWLER = str(Path(__file__).resolve().parent / "programs" / "tiny_crawler.py")


def at(line: int, function: str) -> Frame:
    return Frame(function, CRAWLER, line)


def task(id: int, name: str, coro: str, state: str, parent: int | None, created: Frame,
         busy: float = 0.0, scheduled: float = 0.0, idle: float = 0.0, steps: int = 0,
         longest: float = 0.0, longest_at: Frame | None = None,
         chain: tuple[Frame, ...] = (), awaiting: str | None = None, *,
         result: str | None = None, error: TaskError | None = None,
         blocked_at: Frame | None = None, life: tuple[float, float | None] = (100.0, None),
         ) -> TaskSnapshot:
    return TaskSnapshot(
        id=id, name=name, coro=coro, loop=1, parent=parent, created_at=created,
        state=TaskState(state), created_t=life[0], ended_t=life[1], busy_s=busy,
        scheduled_s=scheduled, idle_s=idle, steps=steps, longest_step_s=longest,
        longest_step_line=longest_at, blocked_at=blocked_at, await_chain=chain,
        awaiting=awaiting, awaiting_task=None, suspended_t=None, result=result, error=error,
    )


def crawler_tasks() -> list[TaskSnapshot]:
    """The tiny crawler 1.4 s in: workers busy, one page failed, a helper cancelled."""
    spawn = at(37, "main")
    return [
        task(1, "Task-1", "main", "suspended", None, at(50, "<module>"), 0.004, 0.001, 1.390,
                 3, 0.002, at(40, "main"), (at(41, "main"),), "Queue.join()"),
        task(2, "worker-0", "worker", "suspended", 1, spawn, 0.312, 0.004, 1.080, 9, 0.301,
                 at(18, "fetch"), (at(27, "worker"), at(19, "fetch")), "sleep(0.05)",
                 blocked_at=at(18, "fetch"), life=(100.05, None)),
        task(3, "worker-1", "worker", "ready", 1, spawn, 0.006, 0.302, 1.090, 8, 0.001,
                 at(25, "worker"), (at(25, "worker"),), "Queue.get()", life=(100.05, None)),
        task(4, "worker-2", "worker", "suspended", 1, spawn, 0.005, 0.003, 1.390, 7, 0.001,
                 at(25, "worker"), (at(25, "worker"),), "Queue.get()", life=(100.05, None)),
        task(5, "robots", "fetch", "done", 2, at(27, "worker"), 0.001, 0.000, 0.050, 2,
                 0.001, at(20, "fetch"), result="'/about: 200 OK'", life=(100.3, 100.35)),
        task(6, "broken-page", "fetch", "exception", 2, at(27, "worker"), 0.001, 0.000,
                 0.000, 1, 0.001, at(16, "fetch"),
                 error=TaskError("ConnectionError", "/broken: connection reset",
                                 "Traceback (most recent call last):\n"
                                 '  File "tiny_crawler.py", line 16, in fetch\n'
                                 '    raise ConnectionError(f"{page}: connection reset")\n'
                                 "ConnectionError: /broken: connection reset\n"),
                 life=(100.5, 100.52)),
        task(7, "watchdog", "watchdog", "cancelled", 1, at(38, "main"), 0.000, 0.000, 0.400,
                 2, 0.000, life=(100.05, 100.45)),
        task(8, "sitemap", "fetch", "pending", 4, at(27, "worker"), life=(101.3, None)),
    ]


CRAWLER_LAG = [
    [100.0 + n * 0.05, lag, 1]
    for n, lag in enumerate([0.3, 0.4, 0.2, 0.5, 0.3, 1.1, 0.4, 0.2, 301.0, 0.6, 0.3, 0.2] * 4)
]
"""Lag samples (agent time, ms, loop): quiet but for the 301 ms spike."""


def crawler_events() -> tuple[list[LagSpike], list[AgentWarning]]:
    spikes = [LagSpike(100.912, 301.0, 1, 2, "worker-0", at(18, "fetch"), 0.301)]
    warnings = [
        AgentWarning(WarningKind.SLOW_STEP, 100.912, 2, at(18, "fetch"),
                     "a step held the loop for 0.301 s"),
        AgentWarning(WarningKind.NEVER_RETRIEVED, 101.020, 6, at(16, "fetch"),
                     "broken-page: ConnectionError: /broken: connection reset"),
    ]
    return spikes, warnings


def batch(tasks: list[TaskSnapshot], *, t: float = 101.4, full: bool = False,
          spikes: list[LagSpike] | None = None, warnings: list[AgentWarning] | None = None,
          gone: list[int] | None = None) -> dict[str, Any]:
    """A batch message as the agent sends it, through the real row encoding."""
    return {
        "kind": "batch", "t": t, "full": full,
        "tasks": [wire.task_row(task) for task in tasks],
        "gone": gone or [],
        "spikes": [wire.spike_row(spike) for spike in spikes or ()],
        "warnings": [wire.warning_row(warning) for warning in warnings or ()],
    }


@dataclass
class FakeFeed:
    """Fills a store with a staged moment; obeys cancel requests like the agent."""

    tasks: list[TaskSnapshot] = field(default_factory=crawler_tasks)
    with_events: bool = True
    store: WatchStore | None = None
    cancelled: list[int] = field(default_factory=list)

    async def start(self, store: WatchStore) -> None:
        self.store = store
        store.cancel_request = self.cancel
        spikes, warnings = crawler_events() if self.with_events else ([], [])
        store.apply_message(batch([], t=100.0, full=True))
        message = batch(self.tasks, spikes=spikes, warnings=warnings)
        if self.with_events:
            message["lag"] = CRAWLER_LAG
        store.apply_message(message)
        store.set_link("connected")

    def cancel(self, task_id: int) -> None:
        assert self.store is not None
        old = self.store.get(task_id)
        assert old is not None
        self.cancelled.append(task_id)
        new = dataclasses.replace(old, state=TaskState.CANCELLED, await_chain=(), awaiting=None)
        self.store.apply_message(batch([new]))

    async def aclose(self) -> None:
        pass


def fake_session(*, program: ProgramSupervisor | None = None, feed: FakeFeed | None = None,
                 label: str = "tiny_crawler.py") -> WatchSession:
    return WatchSession(label=label, program=program, feed=feed or FakeFeed())


CRAWLER_OUTPUT = (
    ("stdout", b"crawling 6 pages with 3 workers\n"),
    ("stderr", b"worker-0: /broken: connection reset\n"),
    ("stdout", b"/slow took 0.301 s (time.sleep on the loop!)\n"),
)


def exited_program(returncode: int = 0) -> ProgramSupervisor:
    """A program that already ran and exited, with fixed output: deterministic pictures."""
    program = ProgramSupervisor(["tiny_crawler.py"])
    for stream, data in CRAWLER_OUTPUT:
        program.output.feed(stream, data)  # type: ignore[arg-type]
    program.exit_status = ExitStatus(returncode)
    program.output.note(f"the program {program.exit_status.describe()}")
    program.state = ProgramState.EXITED
    return program


def staged_watch_app() -> WatchApp:
    """The watch screen on the fake crawler after its exit: what the snapshots show."""
    return make_watch_app(fake_session(program=exited_program()))


def many_tasks(count: int, *, busy: float = 0.001) -> list[TaskSnapshot]:
    """``count`` sleepers under one main task, as a program with many tasks has."""
    main = task(1, "main", "main", "suspended", None, at(50, "<module>"), chain=(at(41, "main"),),
                awaiting="gather()")
    spawn = at(37, "main")
    chain = (at(25, "worker"),)
    return [main] + [
        task(n, f"sleeper-{n}", "worker", "suspended", 1, spawn, busy, 0.0, 1.0, 2, busy,
             chain[0], chain, "sleep(1)")
        for n in range(2, count + 1)
    ]


def count_drawn_rows(monkeypatch: Any, tasks: WatchTaskList) -> list[int]:
    """The ids of the rows ``tasks`` draws from now on, in order (its row renderer, counted):
    for tests that check a change redraws only what it must."""
    drawn: list[int] = []
    original = tasks._render_row  # noqa: SLF001 - counts the rows the list draws

    def counting(task: TaskSnapshot, width: int, is_cursor: bool, depth: int) -> Any:
        drawn.append(task.id)
        return original(task, width, is_cursor, depth)

    monkeypatch.setattr(tasks, "_render_row", counting)
    return drawn
