"""A scenario's source, highlighted, with a count of tasks suspended on each line.

Teaching from real code: beside the scenario picker, the code that runs, and while it runs a
marker in the gutter of every line where some of its tasks wait right now (``3 ⏸``). Lines
that can suspend (``await``, ``async with``, ``async for``) get a faint dot, so a reader sees
where a coroutine may pause even before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static

from loopscope.tasks.source_blocks import SourceBlock

MAY_SUSPEND = re.compile(r"\bawait\b|\basync\s+(with|for)\b")
PAUSED = "⏸"
GUTTER = 13
"""Cells before the code: line number, marker, bar."""


class ScenarioSource(Static):
    """Source blocks with a gutter: line number, then how many tasks wait on that line."""

    DEFAULT_CSS = """
    ScenarioSource {
        width: 1fr;
        height: auto;
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
        self.blocks: tuple[SourceBlock, ...] = ()
        self.counts: dict[tuple[str, int], int] = {}
        """(filename, line) -> tasks suspended there now."""

    def show(self, blocks: tuple[SourceBlock, ...]) -> None:
        """Show other source (a new scenario highlighted); markers are cleared."""
        self.blocks = blocks
        self.counts = {}
        widest = max((len(line) for block in blocks for line in block.lines), default=0)
        self.styles.min_width = GUTTER + widest  # scrolls sideways rather than cut code
        self.update(self._renderable())

    def mark(self, counts: Mapping[tuple[str, int], int]) -> None:
        """Set the suspended-task counts; redraws only when they changed."""
        fresh = {key: n for key, n in counts.items() if n}
        if fresh != self.counts:
            self.counts = fresh
            self.update(self._renderable())

    def count_at(self, line_text: str) -> int:
        """Tasks suspended on the first shown line containing ``line_text`` (for tests and
        for anyone asking "how many wait here?")."""
        for block in self.blocks:
            for number, line in zip(block.line_numbers(), block.lines, strict=True):
                if line_text in line:
                    return self.counts.get((block.filename, number), 0)
        raise LookupError(line_text)

    def _renderable(self) -> RenderableType:
        if not self.blocks:
            return Text("(no source to show)", style="dim")
        parts: list[RenderableType] = []
        for index, block in enumerate(self.blocks):
            if index:
                parts.append(Text(""))
            parts.append(self._block(block))
        return Group(*parts)

    def _block(self, block: SourceBlock) -> Text:
        code = "\n".join(block.lines)
        highlighted = Syntax(code, "python", theme="ansi_dark").highlight(code)
        highlighted.rstrip()
        out = Text(no_wrap=True, end="")
        lines = highlighted.split("\n", allow_blank=True)
        for offset, line in enumerate(lines):
            number = block.first_line + offset
            waiting = self.counts.get((block.filename, number), 0)
            source = block.lines[offset] if offset < len(block.lines) else ""
            if waiting:
                marker = Text(f"{waiting:>3} {PAUSED} ", style="bold reverse")
            elif MAY_SUSPEND.search(source):
                marker = Text("    · ", style="dim")
            else:
                marker = Text("      ")
            out.append(f"{number:>4} ", style="dim")
            out.append_text(marker)
            out.append("│ ", style="dim")
            if waiting:
                line.stylize("bold")
            out.append_text(line)
            if offset < len(lines) - 1:
                out.append("\n")
        return out
