"""One watched task in full: where it waits (its await chain, and the source around the line
it is suspended on), what it cost (busy, scheduled, idle, steps, longest step), and how it
ended (result, or exception and traceback).

The source comes from ``linecache``, the same lines a traceback would show. The view redraws
only when the agent sends a new snapshot of the task it shows.
"""

from __future__ import annotations

import linecache

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from loopscope.tasks.agent.model import Frame, TaskSnapshot, TaskState
from loopscope.tasks.units import human_seconds
from loopscope.tasks.watch.places import where
from loopscope.tasks.watch.store import WatchStore

CONTEXT_LINES = 2
"""Source lines shown above and below the line a task is suspended on."""


def source_around(frame: Frame, context: int = CONTEXT_LINES) -> Text | None:
    """The lines around ``frame.line``, numbered, that line marked; None without a source."""
    lines = []
    for number in range(max(1, frame.line - context), frame.line + context + 1):
        line = linecache.getline(frame.file, number)
        if not line and number >= frame.line:
            break
        lines.append((number, line.rstrip("\n")))
    if not any(text for _, text in lines):
        return None
    width = len(str(lines[-1][0]))
    text = Text()
    for number, line in lines:
        here = number == frame.line
        text.append("▶ " if here else "  ", "bold" if here else "")
        text.append(f"{number:>{width}} ", "bold" if here else "dim")
        text.append(line.expandtabs(4) + "\n", "bold reverse" if here else "")
    text.rstrip()
    return text


def describe_task(task: TaskSnapshot, store: WatchStore) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("task", f"#{task.id} {task.name}")
    table.add_row("coroutine", task.coro)
    table.add_row("state", task.state.value)
    if task.created_at is not None:
        table.add_row("created at", f"{where(task.created_at)} in {task.created_at.function}")
    if task.parent is not None:
        parent = store.get(task.parent)
        table.add_row("parent", f"#{task.parent} {parent.name}" if parent else f"#{task.parent}")
    kids = store.children.get(task.id, ())
    if kids:
        table.add_row("children", f"{len(kids):,}")
    table.add_row(
        "time",
        f"busy {human_seconds(task.busy_s)} · sched {human_seconds(task.scheduled_s)} · "
        f"idle {human_seconds(task.idle_s)}",
    )
    longest = human_seconds(task.longest_step_s)
    if task.longest_step_line is not None:
        longest += f" ending at {where(task.longest_step_line)}"
    table.add_row("steps", f"{task.steps:,} · longest {longest}")
    parts: list[RenderableType] = [table]
    if task.blocked_at is not None:
        table.add_row("blocked", f"a step held the loop at {where(task.blocked_at)}")
    if task.await_chain and not task.state.finished:
        parts += [Text(""), Text("Await chain (innermost last)", style="bold underline")]
        chain = Text()
        for depth, frame in enumerate(task.await_chain):
            chain.append("  " * depth + ("└ " if depth else ""), "dim")
            chain.append(frame.function, "bold")
            chain.append(f"  {where(frame)}\n", "dim")
        if task.awaiting:
            chain.append("  " * len(task.await_chain) + "└ ", "dim")
            chain.append(f"awaits {task.awaiting}", "bold italic")
        parts.append(chain)
        source = source_around(task.await_chain[-1])
        if source is not None:
            parts += [Text(""), Text(f"Suspended at {where(task.await_chain[-1])}",
                                     style="bold underline"), source]
    if task.result is not None and task.state is TaskState.DONE:
        parts += [Text(""), Text(f"result: {task.result}")]
    error = task.error
    if error is not None:
        parts += [Text(""), Text(f"{error.type}: {error.message}", style="bold red")]
        if error.traceback:
            parts += [Text(""), Syntax(error.traceback.rstrip(), "pytb", theme="ansi_dark",
                                       word_wrap=True)]
    return Group(*parts)


class WatchDetail(VerticalScroll):
    """A scrollable view of one watched task, kept up to date."""

    DEFAULT_CSS = """
    WatchDetail {
        padding: 0 1;
        & > Static { width: 1fr; }
    }
    """

    def __init__(
        self,
        store: WatchStore,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.store = store
        self.task_id: int | None = None
        self._shown: object = None

    def compose(self) -> ComposeResult:
        yield Static("select a task", id="watch-detail-body")

    def show(self, task_id: int | None) -> None:
        """Show ``task_id`` (None: nothing selected)."""
        self.task_id = task_id
        self.sync()

    def sync(self) -> None:
        task = None if self.task_id is None else self.store.get(self.task_id)
        if task is self._shown and task is not None:
            return
        self._shown = task
        body = self.query_one("#watch-detail-body", Static)
        if task is None:
            body.update("select a task" if self.task_id is None else
                        f"task #{self.task_id} is no longer kept")
        else:
            body.update(describe_task(task, self.store))
