"""What the running scenario says as it goes: its title, then the newest lines of its log."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from loopscope.tasks.scenarios import LogEntry, LogKind, ScenarioRun

SHOWN_LINES = 14
"""The newest lines shown: the panel's max-height less its border."""

STYLES = {
    LogKind.STARTED: "bold",
    LogKind.NOTE: "",
    LogKind.DONE: "bold",
    LogKind.STOPPED: "bold",
    LogKind.FAILED: "bold red",
}
"""How each kind of entry is drawn: by its kind, never by parsing its text."""


def entry_text(entry: LogEntry) -> Text:
    """One log entry as styled text (the glyph marks the kind, as in the plain report)."""
    return Text(entry.line, STYLES[entry.kind])


class ScenarioLog(Widget):
    """The newest lines of a scenario's log; hidden until a scenario runs."""

    DEFAULT_CSS = """
    ScenarioLog {
        height: auto;
        max-height: 16;
        display: none;
        &.-active { display: block; }
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.run: ScenarioRun | None = None
        self._version = -1

    def follow(self, run: ScenarioRun) -> None:
        self.run = run
        self._version = -1
        self.add_class("-active")
        self.border_title = f"Scenario: {run.scenario.name}"
        self.sync()

    def render(self) -> Text:
        if self.run is None:
            return Text("")
        entries = self.run.context.log[-SHOWN_LINES:]
        return Text("\n").join(entry_text(entry) for entry in entries)

    def sync(self) -> None:
        if self.run is not None and self.run.context.version != self._version:
            self._version = self.run.context.version
            self.refresh(layout=True)
