"""One line: how many tasks are in each state, each count next to its state's word, and the
settings every launch uses: batch size, then the engine's limits in the words of the command
bar's ``set`` (limit, per_host, workers, processes), so what is shown is what can be typed."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskState

SHORT_STATES = {
    TaskState.PENDING: "pend",
    TaskState.RUNNING: "run",
    TaskState.EXCEPTION: "exc",
    TaskState.CANCELLED: "canc",
}
"""State words where the full ones would not fit on the row (the filter keeps the full word)."""


class StatusLine(Widget):
    """Counts by state and the engine's settings."""

    COMPONENT_CLASSES = {
        "status-line--pending",
        "status-line--running",
        "status-line--done",
        "status-line--exception",
        "status-line--cancelled",
        "status-line--muted",
    }

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        background: $panel;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        & > .status-line--pending { color: $text-muted; }
        & > .status-line--running { color: $text-primary; text-style: bold; }
        & > .status-line--done { color: $text-success; }
        & > .status-line--exception { color: $text-error; text-style: bold; }
        & > .status-line--cancelled { color: $text-warning; }
        & > .status-line--muted { color: $text-muted; }
    }
    """

    batch_size: reactive[int] = reactive(10)
    """How many tasks each launch key starts."""
    state_filter: reactive[TaskState | None] = reactive(None)
    """The task list's filter, shown so a filtered list is never mistaken for the whole."""

    def __init__(
        self,
        manager: TaskManager,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.manager = manager
        self._version: object = None

    def render(self) -> Text:
        manager = self.manager
        muted = self.get_component_rich_style("status-line--muted")
        width = self.content_size.width or self.size.width
        text = self._counts({})
        if text.cell_len > width:
            # 80 columns with a filter on: short state words keep the counts on their row
            text = self._counts(SHORT_STATES)
        settings = Text(no_wrap=True, overflow="ellipsis")
        # The words of the command bar's ``set`` (set limit=5 per_host=2 workers=8 processes=2).
        limit, per_host, workers, processes = self._settings()
        busy = manager.process_workers_busy
        for word, value in (
            ("limit", str(limit or "none")),
            ("per_host", str(per_host or "none")),
            ("workers", str(workers)),
            ("processes", f"{processes} ({busy} busy)"),
        ):
            settings.append(f"{word} ", muted)
            settings.append(f"{value}  ")
        settings.rstrip()
        joiner = "  │ " if text.cell_len + settings.cell_len + 4 <= width else "\n"
        return Text.assemble(text, (joiner, muted), settings, no_wrap=True, overflow="ellipsis")

    def _counts(self, words: dict[TaskState, str]) -> Text:
        """Each state's count after its word (``words`` shortens some), batch size, filter."""
        manager = self.manager
        muted = self.get_component_rich_style("status-line--muted")
        text = Text(no_wrap=True, overflow="ellipsis")
        for state in TaskState:
            style = self.get_component_rich_style(f"status-line--{state.value}")
            text.append(words.get(state, state.value), style)
            text.append(f" {manager.counts[state]:,}  ")
        text.append("│ ", muted)
        text.append("batch ", muted)
        text.append(f"×{self.batch_size:,}  ")
        if self.state_filter is not None:
            text.append("filter ", muted)
            text.append(f"{self.state_filter.value}  ")
        text.rstrip()
        return text

    def _settings(self) -> tuple[int, int, int, int]:
        manager = self.manager
        return (
            manager.connector_limit,
            manager.limit_per_host,
            manager.thread_workers,
            manager.process_workers,
        )

    def sync(self) -> None:
        """Redraw when the counts, the settings (changed with ``set``) or the busy processes
        changed."""
        manager = self.manager
        key = (manager.version, manager.settings_version, manager.process_workers_busy)
        if key != self._version:
            self._version = key
            self.refresh()
