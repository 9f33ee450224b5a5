"""One watched task in full: where it waits (its await chain, and the source around the line
it is suspended on), what it cost (busy, scheduled, idle, steps, longest step), and how it
ended (what it returned, or the exception it raised and its traceback).

A finished task shows how it ended first, then where it was last suspended, each under a
heading that says which it is ("Raised …", "Last suspended at …, before it raised"): a
failed task's last await and its exception, side by side, read as one thing otherwise.

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
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def await_chain_text(task: TaskSnapshot, store: WatchStore) -> Text:
    """The chain of awaits, outermost first; library frames (asyncio's own) dimmed."""
    chain = Text()
    for depth, frame in enumerate(task.await_chain):
        chain.append("  " * depth + ("└ " if depth else ""), "dim")
        chain.append(frame.function, "dim" if frame.library else "bold")
        chain.append(f"  {where(frame)}\n", "dim")
    awaited = task.awaiting
    if task.awaiting_task is not None:
        other = store.get(task.awaiting_task)
        awaited = f"task #{task.awaiting_task}" + (f" {other.name}" if other else "")
    if awaited:
        chain.append("  " * len(task.await_chain) + "└ ", "dim")
        chain.append(f"awaits {awaited}", "bold italic")
    chain.rstrip()
    # a long function or file name folds onto the next row: the file:line at its end is
    # what the user looks for (at 80 columns it was cut to "quart…")
    chain.overflow = "fold"
    return chain


ENDED = {
    TaskState.DONE: "before it returned",
    TaskState.EXCEPTION: "before it raised",
    TaskState.CANCELLED: "when it was cancelled",
}
"""How a finished task left its last suspension, in the words of its detail view."""


def outcome_parts(task: TaskSnapshot) -> list[RenderableType]:
    """A finished task's ending: what it returned, or the exception it raised and where."""
    parts: list[RenderableType] = []
    if task.result is not None and task.state is TaskState.DONE:
        parts += [Text(""), Text.assemble(("Returned ", "bold"), task.result)]
    error = task.error
    if error is not None:
        parts += [Text(""), Text.assemble(("Raised ", "bold"), (f"{error.type}: {error.message}",
                                                                 "bold red"))]
        if error.traceback:
            parts += [Syntax(error.traceback.rstrip(), "pytb", theme="ansi_dark",
                             word_wrap=True)]
    return parts


def describe_task(task: TaskSnapshot, store: WatchStore) -> RenderableType:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")  # a long name folds whole, never ends in "…"
    table.add_row("task", f"#{task.id} {task.name}")
    table.add_row("coroutine", task.coro)
    table.add_row("state", task.state.value)
    if task.created_at is not None:
        table.add_row("created at", f"{where(task.created_at)} in {task.created_at.function}")
    if task.parent is not None:
        line = " ← ".join(f"#{t.id} {t.name}" for t in store.ancestors(task.id))
        table.add_row("parents" if "←" in line else "parent", line or f"#{task.parent}")
    kids = store.children.get(task.id, ())
    if kids:
        table.add_row("children", f"{len(kids):,}")
    table.add_row(
        "busy/sched/idle",
        f"{human_seconds(task.busy_s)} / {human_seconds(task.scheduled_s)} / "
        f"{human_seconds(task.idle_s)}",
    )
    longest = human_seconds(task.longest_step_s)
    if task.longest_step_line is not None:
        longest += f" to {where(task.longest_step_line)}"
    table.add_row("steps", f"{task.steps:,}")
    table.add_row("longest step", longest)
    parts: list[RenderableType] = [table]
    if task.blocked_at is not None:
        table.add_row("blocked", f"a step held the loop at {where(task.blocked_at)}")
    live = not task.state.finished
    if not live:  # how it ended first; where it was last suspended after
        parts += outcome_parts(task)
    here = task.where
    if here is not None:
        title = "Await chain (innermost last)" if live else "Last await chain (innermost last)"
        parts += [Text(""), Text(title, style="bold underline"),
                  await_chain_text(task, store)]
        source = source_around(here)
        if source is not None:
            heading = f"Suspended at {where(here)}" if live else f"Last suspended at {where(here)}"
            waited = store.state.agent_time - task.suspended_t if task.suspended_t else None
            if live and waited is not None and waited >= 0:
                heading += f" for {human_seconds(waited)}"
            elif not live:
                heading += f", {ENDED.get(task.state, 'before it ended')}"
            parts += [Text(""), Text(heading, style="bold underline"), source]
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
        self._shown: tuple[object, int | None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("select a task", id="watch-detail-body")

    def show(self, task_id: int | None) -> None:
        """Show ``task_id`` (None: nothing selected)."""
        self.task_id = task_id
        self.sync()

    def sync(self) -> None:
        task = None if self.task_id is None else self.store.get(self.task_id)
        # a suspended task's "waiting for" grows with the agent's clock: once a second
        tick = int(self.store.state.agent_time) if task and task.suspended_t else None
        key = (task, tick)
        if task is not None and key == self._shown:
            return
        self._shown = key
        body = self.query_one("#watch-detail-body", Static)
        if task is None:
            body.update("select a task" if self.task_id is None else
                        f"task #{self.task_id} is no longer kept")
        else:
            body.update(describe_task(task, self.store))
