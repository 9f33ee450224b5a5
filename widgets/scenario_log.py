"""What the running scenario says as it goes: its title, then the newest lines of its log."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from loopscope.tasks.scenarios import ScenarioRun

SHOWN_LINES = 14
"""The newest lines shown: the panel's max-height less its border."""


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
        lines = self.run.context.log[-SHOWN_LINES:]
        text = Text()
        for n, line in enumerate(lines):
            if n:
                text.append("\n")
            style = "bold" if line.startswith(("▶", "■")) else ""
            if line.startswith("✗"):
                style = "bold red"
            text.append(line, style)
        return text

    def sync(self) -> None:
        if self.run is not None and self.run.context.version != self._version:
            self._version = self.run.context.version
            self.refresh(layout=True)
