"""Everything about one task: its timings, the whole error and traceback, a preview of the
result. Failures are first-class: the traceback is one key away from the list."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.units import human_bytes, human_seconds


def _stamp(value: float | None, origin: float) -> str:
    return "–" if value is None else "+" + human_seconds(value - origin)


def describe_record(record: TaskRecord, now: float, origin: float) -> RenderableType:
    """A renderable of the record; times are shown relative to ``origin`` (its batch's start)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row("task", f"#{record.id} in batch #{record.batch_id}")
    table.add_row("kind", record.kind)
    table.add_row("target", record.target)
    table.add_row("state", record.status)
    if record.cancelling and not record.state.finished:
        table.add_row("", record.cancelling)
    table.add_row("created", _stamp(record.created, origin))
    table.add_row("started", _stamp(record.started, origin))
    table.add_row("finished", _stamp(record.finished, origin))
    if record.waiting_for:
        waited = f"  (pending: waiting for {record.waiting_for})"
    elif record.state is TaskState.PENDING:
        waited = "  (still pending)"
    else:
        waited = ""
    running = "  (still running)" if record.state is TaskState.RUNNING else ""
    table.add_row("wait", human_seconds(record.wait_s(now)) + waited)
    table.add_row("run", human_seconds(record.run_s(now)) + running)
    if record.bytes_done or record.bytes_total:
        total = f" of {human_bytes(record.bytes_total)}" if record.bytes_total else ""
        table.add_row("bytes", f"{human_bytes(record.bytes_done)}{total}")
    if record.result:
        table.add_row("result", record.result)
    parts: list[RenderableType] = [table, Text(""), describe_insight(record)]
    if record.error:  # worded as on the watch screen's detail (widgets/watch_detail.py)
        parts += [Text(""), Text.assemble(("Raised ", "bold"), (record.error, "bold red"))]
    if record.traceback:
        parts += [
            Text(""),
            Syntax(record.traceback.rstrip(), "pytb", theme="ansi_dark", word_wrap=True),
        ]
    if record.preview:
        parts += [Text(""), Text("preview", style="bold"), Text(record.preview.rstrip())]
    return Group(*parts)


def describe_insight(record: TaskRecord) -> RenderableType:
    """Its steps on the loop and where it waits (tasks/introspect.py; issue 9 item 7)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    if record.steps is None or record.busy_s is None:
        table.add_row("busy", "not measured (start with --step-timing to time every step)")
    else:
        longest = human_seconds(record.longest_step_s or 0.0)
        table.add_row(
            "busy", f"{human_seconds(record.busy_s)} in {record.steps:,} "
            f"{'step' if record.steps == 1 else 'steps'} "
            f"(longest {longest})  (time it held the loop)",
        )
    where = record.suspended_at
    if where is not None:
        label = "waits at" if not record.state.finished else "last suspended at"
        for index, frame in enumerate(reversed(where.frames)):  # innermost first
            table.add_row(
                label if index == 0 else "",
                Text(f"{frame.function}  {frame.place}", style="dim" if frame.library else ""),
            )
        if where.awaiting and not record.state.finished:  # an ended task awaits nothing
            table.add_row("awaiting", where.awaiting)
    return table


class TaskDetail(VerticalScroll):
    """A scrollable view of one task."""

    DEFAULT_CSS = """
    TaskDetail {
        height: 1fr;
        & > Static { width: 1fr; height: auto; }
    }
    """

    def __init__(
        self,
        record: TaskRecord,
        *,
        clock: Callable[[], float],
        origin: float | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.record = record
        self.clock = clock
        self.origin = record.created if origin is None else origin
        self._version = -1
        self._body = Static()

    def compose(self) -> ComposeResult:
        yield self._body

    def on_mount(self) -> None:
        self.sync()

    def sync(self) -> None:
        if self.record.version != self._version or not self.record.state.finished:
            self._version = self.record.version
            self._body.update(describe_record(self.record, self.clock(), self.origin))
