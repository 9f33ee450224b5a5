"""What the running scenario says as it goes, in a panel that scrolls and follows its newest line.

Lines are wrapped to the panel's width (and wrapped again when it changes) and drawn with the
Line API, so the panel has a fixed size in the layout whatever the scenario says: it never
pushes a neighbour off screen or hides its newest line under one. It follows the newest line
while the user has not scrolled up; scrolling back to the bottom follows again.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from loopscope.tasks.scenarios import LogEntry, LogKind, ScenarioRun
from loopscope.widgets.text_wrap import hanging

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


class ScenarioLog(ScrollView):
    """Every line of a scenario's log, wrapped; hidden until a scenario runs."""

    DEFAULT_CSS = """
    ScenarioLog {
        display: none;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;  /* entries wrap at one width, scrollbar or not */
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
        self._lines: list[Strip] = []
        self._wrapped_entries = 0
        self._wrap_width = 0
        self._follow = True

    def follow(self, run: ScenarioRun) -> None:
        """Show ``run``'s log from its first line, following the newest."""
        self.run = run
        self._version = -1
        self._lines = []
        self._wrapped_entries = 0
        self._follow = True
        self.add_class("-active")
        self.border_title = f"Scenario: {run.scenario.name}"
        self.sync()

    def render(self) -> Text:
        """The whole log as one text (the screen draws it line by line with render_line)."""
        if self.run is None:
            return Text("")
        return Text("\n").join(entry_text(entry) for entry in self.run.context.log)

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index < len(self._lines):
            # pad short lines and cut long ones: the border sits at the panel's edge, and no
            # text of an earlier frame stays visible after a short line
            return self._lines[index].crop_extend(0, width, self.rich_style)
        return Strip.blank(width, self.rich_style)

    def notify_style_update(self) -> None:
        """A theme change: the wrapped lines carry the old colours."""
        super().notify_style_update()
        self._rewrap()

    def on_resize(self) -> None:
        self._rewrap()

    def _rewrap(self) -> None:
        self._lines = []
        self._wrapped_entries = 0
        self._wrap_width = 0
        self._version = -1
        self.sync()

    def _wrap_new(self) -> bool:
        """Wrap the entries not wrapped yet; True if any."""
        run = self.run
        width = self.scrollable_content_region.width
        if run is None or width <= 0:
            return False
        entries = run.context.log
        if width != self._wrap_width:
            self._lines, self._wrapped_entries, self._wrap_width = [], 0, width
        if self._wrapped_entries >= len(entries):
            return False
        console = self.app.console
        options = console.options.update_width(width)
        base = self.rich_style
        for entry in entries[self._wrapped_entries :]:
            # between words, a duration kept with its unit ("1.023" / "s" read as two
            # figures), later rows of an entry indented so each entry reads as one
            for row in hanging(entry_text(entry), width):
                for line in console.render_lines(row, options, pad=False):
                    # no claimed width: the strip measures what it holds; render_line pads it
                    self._lines.append(Strip(Segment.apply_style(line, base)))
        self._wrapped_entries = len(entries)
        return True

    def sync(self) -> None:
        """Take the scenario's new lines; keep the newest in view unless the user scrolled up."""
        run = self.run
        if run is None or run.context.version == self._version or not self.is_mounted:
            return
        self._version = run.context.version
        following = self._follow or self.scroll_offset.y >= self.max_scroll_y
        if self._wrap_new():
            self.virtual_size = Size(self._wrap_width, len(self._lines))
            if following:
                self.scroll_to(y=max(0, len(self._lines) - self.scrollable_content_region.height),
                               animate=False, immediate=True)
            self.refresh()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._follow = new >= self.max_scroll_y
