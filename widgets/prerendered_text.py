"""Fixed text (a Rich table, paragraphs) drawn once per width and kept, so it can be drawn
before it is shown.

A ``Static`` renders its Rich content when it is first laid out and drawn: for the watch
screen's help (a table of every key, wrapped, and the columns' meanings) that was about 20 ms of
the first ``?`` (measured in the headless app, 160x50), twice for the height and the lines. Here
the lines for a width come from a ``LinesByWidth`` that the screen can fill ahead of time, while
nothing else happens; the widget only looks them up.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

KEPT_WIDTHS = 4
"""Widths kept at once: resizing through many sizes does not keep a copy for each."""


class LinesByWidth:
    """A Rich renderable's lines at each width asked for, rendered once per width."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._lines: dict[int, list[Strip]] = {}

    def __repr__(self) -> str:
        return f"<LinesByWidth widths={sorted(self._lines)}>"

    def has(self, width: int) -> bool:
        """Whether the lines at ``width`` are rendered already."""
        return width in self._lines

    def at(self, width: int, console: Console) -> list[Strip]:
        """The lines at ``width`` (rendered now if they were not)."""
        lines = self._lines.get(width)
        if lines is None:
            options = console.options.update(width=width, max_width=width, height=None)
            rendered = console.render_lines(self.renderable, options, pad=False)
            lines = [Strip(line) for line in rendered]
            if len(self._lines) >= KEPT_WIDTHS:
                self._lines.clear()
            self._lines[width] = lines
        return lines


class PrerenderedText(Widget):
    """Shows a ``LinesByWidth`` at the widget's width, in the widget's colours."""

    DEFAULT_CSS = """
    PrerenderedText {
        height: auto;
    }
    """

    def __init__(self, lines: LinesByWidth, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.lines = lines

    @property
    def text(self) -> str:
        """What it shows at its width, as plain text (for tests and for finding a line)."""
        return "\n".join(line.text for line in self.lines.at(self.size.width, self.app.console))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines.at(width, self.app.console))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self.lines.at(width, self.app.console)
        style = self.rich_style
        if y >= len(lines):
            return Strip.blank(width, style)
        # the lines carry only the text's own styles (bold, underline): the widget's colours go
        # under them here, so a theme change needs no new rendering
        return lines[y].apply_style(style).crop_extend(0, width, style)
