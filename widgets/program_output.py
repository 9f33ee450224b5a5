"""The watched program's stdout and stderr, in a panel that follows the newest line.

A Line-API view over the supervisor's bounded ``ProgramOutput``: only the rows on screen are
drawn, so a program printing megabytes costs the screen what a dozen lines do. Long lines wrap
(a traceback must be readable in a narrow panel), between words where a line is ASCII; where
each line starts is measured once per change of the output or of the width. It follows the
newest line until the user scrolls up, and follows again at the bottom (``end``).
"""

from __future__ import annotations

import bisect

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from loopscope.tasks.watch.output import ProgramOutput


def cut_cells(text: str, start: int, width: int) -> str:
    """The ``width`` cells of ``text`` from cell ``start`` (one wrapped row of a long line)."""
    if text.isascii():
        return text[start : start + width]
    cells = 0
    out = []
    for char in text:
        size = cell_len(char)
        if cells >= start + width:
            break
        if cells >= start:
            out.append(char)
        cells += size
    return "".join(out)


def word_breaks(text: str, width: int) -> list[int]:
    """Where each wrapped row of an ASCII ``text`` starts: after the last space that fits, so
    words stay whole ("connection rese" / "t" read as two words); a word longer than a row
    is folded."""
    starts = [0]
    start = 0
    while len(text) - start > width:
        space = text.rfind(" ", start + 1, start + width + 1)
        start = space + 1 if space > start else start + width
        starts.append(start)
    return starts


class ProgramOutputView(ScrollView, can_focus=True):
    """What the program printed: stderr in the error colour, loopscope's own notes dimmed."""

    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False),
        Binding("down,j", "scroll_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Oldest", show=False),
        Binding("end", "follow", "Newest", show=False),
    ]

    COMPONENT_CLASSES = {"program-output--stderr", "program-output--loopscope"}

    DEFAULT_CSS = """
    ProgramOutputView {
        background: $surface;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;  /* lines wrap at one width, scrollbar or not */
        & > .program-output--stderr { color: $text-error; }
        & > .program-output--loopscope { color: $text-accent; text-style: italic; }
    }
    """

    def __init__(
        self,
        output: ProgramOutput,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.output = output
        self.following = True
        """Stay on the newest line as lines arrive."""
        self._version = -1
        self._width = 0
        self._starts: list[int] = [0]
        """The first screen row of each kept line (long lines wrap), then the total."""
        self._breaks: dict[int, list[int]] = {}
        """Where each row of a long ASCII line starts (``word_breaks``), by line index."""

    @property
    def text_width(self) -> int:
        """The cells a row of text gets: the widget's width less its scrollbar (the
        scrollbar hid the last cell of every wrapped row)."""
        return self.scrollable_content_region.width

    def render_line(self, y: int) -> Strip:
        width = self.text_width
        lines = self.output.lines
        row = self.scroll_offset.y + y
        starts = self._starts
        if width != self._width or row >= starts[-1]:
            return Strip.blank(width, self.rich_style)
        index = bisect.bisect_right(starts, row) - 1
        line = lines[index]
        style = self.rich_style
        if line.stream != "stdout":
            style = style + self.get_component_rich_style(f"program-output--{line.stream}")
        text = line.text.expandtabs(4)
        part = row - starts[index]
        breaks = self._breaks.get(index)
        if breaks is None:
            piece = cut_cells(text, part * width, width)
        else:
            end = breaks[part + 1] if part + 1 < len(breaks) else len(text)
            piece = text[breaks[part] : end]
        return Strip([Segment(set_cell_size(piece, width), style)], width)

    def _measure(self) -> None:
        """Where each line starts once long lines wrap at the current width."""
        width = max(1, self.text_width)
        self._width = self.text_width
        starts = [0]
        total = 0
        breaks: dict[int, list[int]] = {}
        for index, line in enumerate(self.output.lines):
            text = line.text.expandtabs(4) if "\t" in line.text else line.text
            if text.isascii():
                if len(text) <= width:
                    total += 1
                else:
                    rows = breaks[index] = word_breaks(text, width)
                    total += len(rows)
            else:
                total += max(1, -(-cell_len(text) // width))
            starts.append(total)
        self._starts = starts
        self._breaks = breaks

    def sync(self) -> None:
        output = self.output
        if output.version == self._version and self.text_width == self._width:
            return
        self._version = output.version
        self._measure()
        self.virtual_size = Size(self.text_width, self._starts[-1])
        if self.following:
            # after the refresh: the new virtual size is laid out by then (scrolled at once,
            # the end was the old one, and with no more output the view stayed there)
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.sync()

    def action_follow(self) -> None:
        self.following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.following = False

    def action_scroll_up(self) -> None:
        self.following = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.following = False
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self.following = False
        super().action_scroll_home()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y:
            self.following = True
