"""The screen's messages, on the bottom row in place of the keys, never over a panel.

Textual's toasts sit in the bottom-right corner over whatever is drawn there; on the dashboard
that was the timeline's lanes (and at 80x24 half the timeline), for up to twelve seconds after
``R``. A message here takes the key footer's row instead: the screen hides the footer while a
message is up (its ``-notice`` class) and the keys come back when the message goes, so no
figure the user is watching is covered. A message longer than the row wraps (up to four
lines: ``R``'s findings with a note take three at 80 columns), and the panels above make room
while it is shown.

How long a message stays depends on how long it takes to read, and a warning or an error
stays at least ``WARNING_S``. Click it to dismiss it. Every message is kept in ``said``
(oldest first), so what was said can be checked after it has gone.
"""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import events
from textual.timer import Timer
from textual.widgets import Static

Severity = Literal["information", "warning", "error"]

INFORMATION_S = 4.0
"""The least time an informational message stays."""
WARNING_S = 8.0
"""The least time a warning or an error stays: long enough to read it twice."""
READING_S = 1.5
"""Time to notice a message appeared, before reading it."""
CHARACTERS_PER_S = 20.0
"""Reading speed: a long message stays long enough to read at this pace."""
MARKS = {"information": "", "warning": "! ", "error": "✗ "}
"""The first cells of a message: its severity without colour (on a monochrome terminal)."""


def shown_for(text: str, severity: Severity, timeout: float | None) -> float:
    """Seconds a message stays: as asked (``timeout``), but never less than it takes to read,
    and at least ``WARNING_S`` for a warning or an error."""
    least = INFORMATION_S if severity == "information" else WARNING_S
    reading = READING_S + len(text) / CHARACTERS_PER_S
    return max(least, reading, timeout or 0.0)


class NoticeLine(Static):
    """The newest message, in its severity's colour, until its time is up."""

    DEFAULT_CSS = """
    NoticeLine {
        dock: bottom;
        height: auto;
        max-height: 4;
        padding: 0 1;
        display: none;
        background: $panel;
        color: $text;
        &.-shown { display: block; }
        &.-warning { color: $text-warning; text-style: bold; }
        &.-error { color: $text-error; text-style: bold; }
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
        super().__init__("", name=name, id=id, classes=classes, disabled=disabled)
        self.said: list[tuple[Severity, str]] = []
        """Every message shown, oldest first, with its severity."""
        self._timer: Timer | None = None

    @property
    def message(self) -> str | None:
        """The message on screen now, or None."""
        return self.said[-1][1] if self.has_class("-shown") and self.said else None

    def show(self, text: str, severity: Severity = "information",
             timeout: float | None = None) -> None:
        """Show ``text`` (plain text: no markup is read from it) in place of any message on
        screen, for ``shown_for`` seconds."""
        self.said.append((severity, text))
        self.set_class(severity == "warning", "-warning")
        self.set_class(severity == "error", "-error")
        self.update(Text(MARKS[severity] + text))
        self._set_shown(True)
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(shown_for(text, severity, timeout), self.dismiss)

    def dismiss(self) -> None:
        """Take the message away; the keys come back."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._set_shown(False)

    def _set_shown(self, shown: bool) -> None:
        self.set_class(shown, "-shown")
        if self.is_attached:
            self.screen.set_class(shown, "-notice")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.dismiss()
