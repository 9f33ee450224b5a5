"""A deterministic stand-in for the agent's stream, for snapshot tests and screenshots.

Its frames point at real lines of tests/programs/tiny_crawler.py, so the detail view shows real
source. ``FakeFeed`` fills a store with one staged moment of that crawler and obeys cancel
requests the way the agent does (the task's next snapshot says cancelled).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from loopscope.tasks.watch.session import WatchSession
from loopscope.tasks.watch.store import WatchStore
from loopscope.tasks.watch.supervisor import ProgramSupervisor

CRAWLER = str(Path(__file__).resolve().parent / "programs" / "tiny_crawler.py")


@dataclass(frozen=True, slots=True)
class FakeFrame:
    file: str
    line: int
    function: str


@dataclass(frozen=True, slots=True)
class FakeTask:
    id: int
    name: str
    coro: str
    state: str
    parent: int | None = None
    created_at: FakeFrame | None = None
    busy_s: float = 0.0
    scheduled_s: float = 0.0
    idle_s: float = 0.0
    steps: int = 0
    longest_step_s: float = 0.0
    longest_step_at: FakeFrame | None = None
    await_chain: tuple[FakeFrame, ...] = ()
    awaiting: str = ""
    result: str | None = None
    exception: str | None = None
    traceback: str | None = None


@dataclass(frozen=True, slots=True)
class FakeSpike:
    at_s: float
    duration_s: float
    task_id: int | None
    task_name: str
    where: FakeFrame | None


@dataclass(frozen=True, slots=True)
class FakeWarning:
    at_s: float
    kind: str
    message: str
    task_id: int | None = None


def at(line: int, function: str) -> FakeFrame:
    return FakeFrame(CRAWLER, line, function)


def crawler_tasks() -> list[FakeTask]:
    """The tiny crawler 1.4 s in: workers busy, one page failed, a helper cancelled."""
    spawn = at(37, "main")
    return [
        FakeTask(1, "Task-1", "main", "suspended", None, at(50, "<module>"), 0.004, 0.001, 1.390,
                 3, 0.002, at(40, "main"), (at(41, "main"),), "Queue.join()"),
        FakeTask(2, "worker-0", "worker", "suspended", 1, spawn, 0.312, 0.004, 1.080, 9, 0.301,
                 at(18, "fetch"), (at(27, "worker"), at(19, "fetch")), "sleep(0.05)"),
        FakeTask(3, "worker-1", "worker", "ready", 1, spawn, 0.006, 0.302, 1.090, 8, 0.001,
                 at(25, "worker"), (at(25, "worker"),), "Queue.get()"),
        FakeTask(4, "worker-2", "worker", "suspended", 1, spawn, 0.005, 0.003, 1.390, 7, 0.001,
                 at(25, "worker"), (at(25, "worker"),), "Queue.get()"),
        FakeTask(5, "robots", "fetch", "done", 2, at(27, "worker"), 0.001, 0.000, 0.050, 2,
                 0.001, at(20, "fetch"), result="'/about: 200 OK'"),
        FakeTask(6, "broken-page", "fetch", "exception", 2, at(27, "worker"), 0.001, 0.000,
                 0.000, 1, 0.001, at(16, "fetch"),
                 exception="ConnectionError: /broken: connection reset",
                 traceback="Traceback (most recent call last):\n"
                 '  File "tiny_crawler.py", line 16, in fetch\n'
                 '    raise ConnectionError(f"{page}: connection reset")\n'
                 "ConnectionError: /broken: connection reset"),
        FakeTask(7, "watchdog", "watchdog", "cancelled", 1, at(38, "main"), 0.000, 0.000, 0.400,
                 2, 0.000),
        FakeTask(8, "sitemap", "fetch", "pending", 4, at(27, "worker")),
    ]


def crawler_events() -> tuple[list[FakeSpike], list[FakeWarning]]:
    spikes = [FakeSpike(0.912, 0.301, 2, "worker-0", at(18, "fetch"))]
    warnings = [
        FakeWarning(0.912, "slow step", "worker-0 held the loop 301 ms at tiny_crawler.py:18", 2),
        FakeWarning(1.020, "exception never retrieved",
                    "broken-page: ConnectionError: /broken: connection reset", 6),
    ]
    return spikes, warnings


@dataclass
class FakeFeed:
    """Fills a store with a staged moment; obeys cancel requests like the agent."""

    tasks: list[FakeTask] = field(default_factory=crawler_tasks)
    with_events: bool = True
    store: WatchStore | None = None
    cancelled: list[int] = field(default_factory=list)

    async def start(self, store: WatchStore) -> None:
        self.store = store
        store.cancel_request = self.cancel
        spikes, warnings = crawler_events() if self.with_events else ([], [])
        store.apply(self.tasks, spikes=spikes, warnings=warnings)
        store.set_link("connected")

    def cancel(self, task_id: int) -> None:
        assert self.store is not None
        task = self.store.get(task_id)
        assert isinstance(task, FakeTask)
        self.cancelled.append(task_id)
        self.store.apply([dataclasses.replace(task, state="cancelled", await_chain=())])

    async def aclose(self) -> None:
        pass


def fake_session(*, program: ProgramSupervisor | None = None, feed: FakeFeed | None = None,
                 label: str = "tiny_crawler.py") -> WatchSession:
    return WatchSession(label=label, program=program, feed=feed or FakeFeed())
