"""What a scenario is, and what it may ask of the engine while it runs.

A scenario is data (a name, a title, one paragraph of explanation) plus a small coroutine. Its
tasks are ordinary engine records, in ordinary batches, so the task list, the timeline and the
gain panel show them as they show anything else. It writes a log of what happened, and may
leave figures in ``data`` (the race's measured times) for a report or a chart.
"""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from loopscope.tasks.batch import Batch
from loopscope.tasks.errors import HTTPStatusError
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.safe_text import printable
from loopscope.tasks.tracked import TrackedWork

T = TypeVar("T")


class LogKind(enum.Enum):
    """What a line of a scenario's log is: a screen styles each kind its own way."""

    STARTED = "started"
    """The scenario began (the text is its title)."""
    NOTE = "note"
    """What the scenario observed or measured."""
    DONE = "done"
    STOPPED = "stopped"
    """Cancelled (``C``, quitting)."""
    FAILED = "failed"
    """The scenario itself raised; the text says what."""


GLYPHS = {
    LogKind.STARTED: "▶ ",
    LogKind.NOTE: "",
    LogKind.DONE: "■ ",
    LogKind.STOPPED: "■ ",
    LogKind.FAILED: "✗ ",
}
"""How a plain-text report marks each kind (a screen uses styles instead)."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of a scenario's log: its kind and its words, never parsed back."""

    kind: LogKind
    text: str

    @property
    def line(self) -> str:
        """The entry as one line of plain text, for reports: ``▶ The strategy race``."""
        return GLYPHS[self.kind] + self.text

    def __str__(self) -> str:
        return self.line


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    explanation: str
    """One paragraph: what it runs and what it shows."""
    run: Callable[[ScenarioContext], Awaitable[None]]
    headless_options: dict[str, Any] = field(default_factory=dict)
    """Options for a run to completion (`loopscope run --scenario`), e.g. three rounds."""


class ScenarioContext:
    """A running scenario's view of the engine: batches, tracked tasks, a log, results."""

    def __init__(self, manager: TaskManager, scenario: Scenario, options: dict[str, Any]):
        self.manager = manager
        self.scenario = scenario
        self.options = options
        self.log: list[LogEntry] = []
        self.data: dict[str, Any] = {}
        self.batches: list[Batch] = []
        self.version = 0
        """Bumped whenever the log or the data change."""

    def option(self, name: str, default: T) -> T:
        value: T = self.options.get(name, default)
        return value

    def say(self, text: str, kind: LogKind = LogKind.NOTE) -> None:
        """Add a line to the log (a note unless ``kind`` says otherwise)."""
        # a line may quote a server's words or an error: no control characters
        self.log.append(LogEntry(kind, printable(text)))
        self.version += 1

    def lines(self) -> list[str]:
        """The log as plain text, one string per entry (for reports and JSON)."""
        return [entry.line for entry in self.log]

    def batch(self, label: str, *, sequential: bool = False) -> Batch:
        batch = self.manager.open_batch(f"{self.scenario.name}: {label}", sequential=sequential)
        self.batches.append(batch)
        return batch

    def close(self, batch: Batch) -> Batch:
        self.manager.close_batch(batch)
        return batch

    def launch(self, specs: str, label: str) -> Batch:
        batch = self.manager.launch(specs, label=f"{self.scenario.name}: {label}")
        self.batches.append(batch)
        return batch

    def track(
        self,
        batch: Batch,
        kind: str,
        target: str,
        work: Callable[[TaskRecord], Awaitable[T]],
        *,
        summary: Callable[[T], str] = str,
        start_running: bool = True,
    ) -> TrackedWork[T]:
        return self.manager.tracked(
            batch, kind, target, work, summary=summary, start_running=start_running
        )

    def wall(self, batch: Batch) -> float:
        return batch.timing(self.manager.clock()).wall_s

    async def get_json(self, path: str, record: TaskRecord | None = None) -> Any:
        """GET a demo-server path through the manager's session and decode its JSON."""
        url = self.manager.resolve_url(path)
        async with self.manager.session.get(url) as response:
            body = await response.read()
            if record is not None:
                self.manager.progress(record, len(body), len(body))
            if response.status >= 300:
                raise HTTPStatusError(response.status, response.reason or "", "GET", path)
            return json.loads(body)

    def finish(self) -> None:
        """Close any batch the scenario left open (it was cancelled, or it failed)."""
        for batch in self.batches:
            self.manager.close_batch(batch)


class ScenarioRun:
    """A scenario running on a manager: its context, and the task that runs it."""

    def __init__(self, manager: TaskManager, scenario: Scenario, options: dict[str, Any]):
        self.scenario = scenario
        self.context = ScenarioContext(manager, scenario, options)
        self.error: BaseException | None = None
        self.task = asyncio.get_running_loop().create_task(
            self._run(), name=f"loopscope-scenario-{scenario.name}"
        )
        manager.watch(self.task)  # `C` and quitting cancel it like any batch

    async def _run(self) -> None:
        context = self.context
        context.say(self.scenario.title, LogKind.STARTED)
        try:
            await self.scenario.run(context)
        except asyncio.CancelledError:
            context.say("stopped", LogKind.STOPPED)
            raise
        except Exception as error:
            self.error = error
            context.say(f"the scenario failed: {type(error).__name__}: {error}", LogKind.FAILED)
        else:
            context.say("done", LogKind.DONE)
        finally:
            context.finish()

    @property
    def done(self) -> bool:
        return self.task.done()

    async def wait(self) -> ScenarioRun:
        await asyncio.gather(self.task, return_exceptions=True)
        return self
