"""Swimlanes of recent tasks on a shared time axis, or, for big batches, how many ran at once.

It shows the newest batch together with the earlier batches that overlapped it in time (keys
pressed in quick succession tell one story). With as many rows as tasks, each task gets a
lane: ``░`` while it waited for a slot, ``█`` while it ran, coloured by how it ended. With
more tasks than rows the lanes would be unreadable, so the widget draws the number of tasks
running (and waiting) at each moment. Loop-lag spikes are marked ``!`` on the axis.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from loopscope.tasks.batch import Batch
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.units import human_seconds, plural

LABEL_WIDTH = 7
BIG = 2_000
"""Above this many tasks shown, a live timeline is redrawn every BIG_REDRAW_S only."""
BIG_REDRAW_S = 0.3
EIGHTHS = " ▁▂▃▄▅▆▇█"


class Timeline(Widget):
    """The current batch's tasks against time."""

    COMPONENT_CLASSES = {
        "timeline--axis",
        "timeline--label",
        "timeline--wait",
        "timeline--running",
        "timeline--done",
        "timeline--exception",
        "timeline--cancelled",
        "timeline--spike",
    }

    DEFAULT_CSS = """
    Timeline {
        height: 1fr;
        background: $surface;
        & > .timeline--axis { color: $text-muted; }
        & > .timeline--label { color: $text-muted; }
        & > .timeline--wait { color: $text-muted; }
        & > .timeline--running { color: $primary-lighten-1; }
        & > .timeline--done { color: $success; }
        & > .timeline--exception { color: $error; }
        & > .timeline--cancelled { color: $warning; }
        & > .timeline--spike { color: $error; text-style: bold; }
    }
    """

    def __init__(
        self,
        manager: TaskManager,
        *,
        clock: Callable[[], float] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.manager = manager
        self.clock = clock or manager.clock
        self.newest: Batch | None = None
        """The newest batch shown."""
        self.batches: list[Batch] = []
        """Every batch shown: the newest and those that overlapped it in time."""
        self._records: list[TaskRecord] = []
        self._strips: list[Strip] = []
        self._drawn_key: tuple[object, ...] | None = None
        self._drawn_at = float("-inf")

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def on_resize(self) -> None:
        self._drawn_key = None
        self.sync()

    # --- public -------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """``lanes`` or ``aggregate``: what the widget is drawing now."""
        if self.newest is None:
            return "empty"
        return "lanes" if len(self._records) <= max(1, self.size.height - 1) else "aggregate"

    def _overlapping(self, newest: Batch) -> list[Batch]:
        """The newest batch and the earlier ones still live or ending after it began."""
        chosen = [newest]
        for batch in itertools.islice(reversed(self.manager.batches.values()), 50):
            if batch is newest:
                continue
            end = batch.last_finish if batch.done else None
            if end is not None and end < newest.created and batch.done:
                break
            chosen.append(batch)
        chosen.reverse()
        return chosen

    def sync(self) -> None:
        """Redraw from the manager's newest batches if anything changed."""
        batch = self.manager.current_batch
        self.newest = batch
        self.batches = [] if batch is None else self._overlapping(batch)
        self._records = [r for b in self.batches for r in b.records]
        width, height = self.size.width, self.size.height
        if width <= LABEL_WIDTH + 4 or height < 2:
            return
        live = any(not b.done for b in self.batches)
        now = self.clock()
        if live and len(self._records) > BIG and now - self._drawn_at < BIG_REDRAW_S:
            return  # a big live batch is redrawn a few times a second, not at every tick
        key = (
            None if batch is None else batch.id,
            self.manager.version,
            width,
            height,
            self.manager.lag.version if live else None,
            self.clock() if live else None,
        )
        if key == self._drawn_key:
            return
        self._drawn_key = key
        self._drawn_at = now
        if batch is None or not self._records:
            self._strips = self._empty(width, height)
        elif self.mode == "lanes":
            self._strips = self._lanes(width, height)
        else:
            self._strips = self._aggregate(width, height)
        self.refresh()

    # --- drawing ------------------------------------------------------------------------------

    def _span(self) -> tuple[float, float]:
        start = min(b.created for b in self.batches)
        if all(b.done for b in self.batches):
            end = max((b.last_finish or b.created) for b in self.batches)
        else:
            end = self.clock()
        return start, max(end, start + 1e-3)

    def _style(self, name: str) -> Style:
        return self.rich_style + self.get_component_rich_style(f"timeline--{name}")

    def _empty(self, width: int, height: int) -> list[Strip]:
        text = "no batch yet: press f, s, t, p, r or : to launch tasks".center(width)[:width]
        blank = Strip.blank(width, self.rich_style)
        middle = height // 2
        return [
            Strip([Segment(text, self._style("label"))], width) if y == middle else blank
            for y in range(height)
        ]

    def _column(self, t: float, start: float, span: float, bar_width: int) -> int:
        return max(0, min(bar_width - 1, int((t - start) / span * bar_width)))

    def _lanes(self, width: int, height: int) -> list[Strip]:
        start, end = self._span()
        span = end - start
        bar_width = width - LABEL_WIDTH
        now = self.clock()
        strips = []
        for record in self._records[: height - 1]:
            cells = [" "] * bar_width
            styles = [self.rich_style] * bar_width
            self._paint(record, cells, styles, start, span, bar_width, now)
            label = f"#{record.id}".rjust(LABEL_WIDTH - 1) + " "
            segments = [Segment(label, self._style("label"))]
            segments.extend(_runs(cells, styles))
            strips.append(Strip(segments, width))
        while len(strips) < height - 1:
            strips.append(Strip.blank(width, self.rich_style))
        count = plural(len(self._records), "task")
        note = f"{count}: ░ waiting for a slot  █ running, coloured by end"
        strips.append(self._axis(width, start, end, note))
        return strips

    def _paint(
        self,
        record: TaskRecord,
        cells: list[str],
        styles: list[Style],
        start: float,
        span: float,
        bar_width: int,
        now: float,
    ) -> None:
        wait_end = record.started if record.started is not None else (record.finished or now)
        first = self._column(record.created, start, span, bar_width)
        last_wait = self._column(wait_end, start, span, bar_width)
        wait_style = self._style("wait")
        for x in range(first, last_wait + 1):
            cells[x], styles[x] = "░", wait_style
        if record.started is None:
            if record.state is TaskState.CANCELLED:
                cells[last_wait], styles[last_wait] = "×", self._style("cancelled")
            return
        run_end = record.finished if record.finished is not None else now
        run_style = self._style(record.state.value)
        begin = self._column(record.started, start, span, bar_width)
        for x in range(begin, self._column(run_end, start, span, bar_width) + 1):
            cells[x], styles[x] = "█", run_style
        if record.state is TaskState.EXCEPTION:
            x = self._column(run_end, start, span, bar_width)
            cells[x] = "✗"

    def _aggregate(self, width: int, height: int) -> list[Strip]:
        start, end = self._span()
        span = end - start
        bar_width = width - LABEL_WIDTH
        now = self.clock()
        # One pass over every record, inlined: this runs for 100,000 tasks a few times a
        # second. Every time lies in [start, end], so columns need no clamping, only room for
        # the last column + 1 (a task ending exactly at ``end``).
        running = [0] * (bar_width + 2)
        waiting = [0] * (bar_width + 2)
        scale = (bar_width - 1) / span
        for record in self._records:
            started = record.started
            finished = record.finished
            a = int((record.created - start) * scale)
            b = int(((started if started is not None else (finished or now)) - start) * scale)
            if b > a:
                waiting[a] += 1
                waiting[b] -= 1
            if started is not None:
                running[int((started - start) * scale)] += 1
                running[int(((finished or now) - start) * scale) + 1] -= 1
        run_counts, wait_counts = _cumulate(running, bar_width), _cumulate(waiting, bar_width)
        peak = max(max(r + w for r, w in zip(run_counts, wait_counts, strict=True)), 1)
        rows = height - 1
        run_style, wait_style = self._style("running"), self._style("wait")
        blank_style = self.rich_style
        strips = []
        for row in range(rows):
            level = rows - 1 - row  # 0 is the bottom row
            cells, styles = [], []
            for r, w in zip(run_counts, wait_counts, strict=True):
                run_eighths = round(r / peak * rows * 8)
                total_rows = (r + w) / peak * rows
                cell = _bar_cell(run_eighths, level)
                if cell != " ":
                    cells.append(cell)
                    styles.append(run_style)
                elif w and level < total_rows and level * 8 >= run_eighths:
                    cells.append("░")
                    styles.append(wait_style)
                else:
                    cells.append(" ")
                    styles.append(blank_style)
            label = f"{peak:,}" if row == 0 else ("0" if row == rows - 1 else "")
            segments = [Segment(label.rjust(LABEL_WIDTH - 1) + " ", self._style("label"))]
            segments.extend(_runs(cells, styles))
            strips.append(Strip(segments, width))
        note = f"{plural(len(self._records), 'task')}: █ running ░ waiting, at once"
        strips.append(self._axis(width, start, end, note))
        return strips

    def _axis(self, width: int, start: float, end: float, note: str) -> Strip:
        bar_width = width - LABEL_WIDTH
        right = human_seconds(end - start)
        cells = list("─" * bar_width)
        styles = [self._style("axis")] * bar_width
        text = f" {note} "
        if len(text) + len(right) + 4 < bar_width:
            for n, char in enumerate(text):
                cells[2 + n] = char
        for n, char in enumerate(right):
            cells[bar_width - len(right) + n] = char
        spike_style = self._style("spike")
        for spike in self.manager.lag.spikes:
            if start <= spike.at <= end:
                x = self._column(spike.at, start, end - start, bar_width)
                cells[x], styles[x] = "!", spike_style
        segments = [Segment("0 s".rjust(LABEL_WIDTH - 1) + " ", self._style("axis"))]
        segments.extend(_runs(cells, styles))
        return Strip(segments, width)


def _cumulate(deltas: list[int], width: int) -> list[int]:
    counts, total = [], 0
    for x in range(width):
        total += deltas[x]
        counts.append(total)
    return counts


def _bar_cell(eighths: int, level: int) -> str:
    """The character for row ``level`` (0 = bottom) of a bar ``eighths`` eighths tall."""
    filled = eighths - level * 8
    if filled <= 0:
        return " "
    return EIGHTHS[min(8, filled)]


def _runs(cells: list[str], styles: list[Style]) -> list[Segment]:
    """Join neighbouring cells of the same style into one segment each."""
    segments: list[Segment] = []
    if not cells:
        return segments
    text, style = cells[0], styles[0]
    for cell, cell_style in zip(cells[1:], styles[1:], strict=True):
        if cell_style == style:
            text += cell
        else:
            segments.append(Segment(text, style))
            text, style = cell, cell_style
    segments.append(Segment(text, style))
    return segments
