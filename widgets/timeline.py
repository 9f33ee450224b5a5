"""Swimlanes of recent tasks on a shared time axis, or, for big batches, how many ran at once.

It shows the newest batch together with the earlier batches that overlapped it in time (keys
pressed in quick succession tell one story). With as many rows as tasks, each task gets a
lane: ``░`` while it waited for a slot, ``█`` while it ran, coloured by how it ended. With
more tasks than rows the lanes would be unreadable, so the widget draws, for each column, the
most tasks that ran at once within it (and how many more were waiting), computed exactly from
start and end events (see timeline_peaks). Loop-lag spikes are marked ``!`` on the axis; the
legend and the time span sit in the bottom border, where no mark can cover them.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from loopscope.tasks.batch import Batch
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.units import human_seconds, plural
from loopscope.widgets.timeline_peaks import peak_counts

LABEL_WIDTH = 7
DRAW_BUDGET = 20
"""A live redraw waits this many times its own drawing time: the timeline's share of the
loop stays under 1/DRAW_BUDGET however many tasks it draws."""
EIGHTHS = " ▁▂▃▄▅▆▇█"
AXIS_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)
"""While a batch runs, the axis is one of these lengths times a power of ten..."""
LIVE_AXIS_MIN_S = 1.0
"""...and at least this long: in a batch's first second the steps would come at every
redraw; a short batch grows across the first part of the axis and fills it when it ends."""


def live_axis_length(elapsed: float) -> float:
    """The axis's length while a batch runs: the first step that holds ``elapsed``.

    Why: an axis that ends at "now" rescales on every redraw, so every bar already drawn
    moves a column left now and then while the batch runs (the trial saw bars shift between
    redraws). An axis that grows in steps of at most a third keeps every column's time fixed
    between steps: finished bars stand still, running bars grow to the right, and a step
    (a visible rescale) comes at most about ten times per tenfold of elapsed time.
    """
    elapsed = max(elapsed, LIVE_AXIS_MIN_S)
    power = 10.0 ** math.floor(math.log10(elapsed))
    for step in AXIS_STEPS:
        if step * power >= elapsed * (1 - 1e-9):
            return step * power
    return 10.0 * power


def empty_text(batch: Batch | None) -> str:
    """What a timeline with no bars says: why it has none (a replay measured in a clean
    process shows nothing here until that process reports)."""
    if batch is None:
        return "no batch yet: press f, s, t, p, r or : to launch tasks"
    if batch.replay_of is not None and not batch.done:
        return f"measuring batch #{batch.replay_of} in a clean process…"
    if not batch.done:
        return f"batch #{batch.id}: no tasks yet"
    return f"batch #{batch.id} has no tasks"


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
        self._next_draw = 0.0
        self._legend = ""
        self._spike_key: tuple[object, ...] | None = None
        self.column_peaks: list[int] = []
        """In the aggregate view, the most tasks running at once within each column."""
        self._axis_span: tuple[float, float] | None = None

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def on_resize(self) -> None:
        self._drawn_key = None
        self.sync()

    def notify_style_update(self) -> None:
        """A theme change: the drawn strips carry the old colours, so draw them again."""
        super().notify_style_update()
        self._drawn_key = None
        self._next_draw = 0.0
        if self.is_mounted:
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

    def sync(self, *, force: bool = False) -> None:
        """Redraw from the manager's newest batches if anything they show changed.

        The clock is read once: every time drawn in one frame is measured against the same
        "now". A finished, unchanged timeline costs one tuple comparison per call.
        """
        manager = self.manager
        batch = manager.current_batch
        width, height = self.size.width, self.size.height
        if width <= LABEL_WIDTH + 4 or height < 2:
            return
        live = batch is not None and (not batch.done or bool(manager.live_count))
        now = self.clock()
        spikes = manager.lag.spikes
        spike_key = (len(spikes), spikes[-1].at if spikes else None)
        key = (
            None if batch is None else batch.id,
            manager.version,
            width,
            height,
            now if live else None,
        )
        if key == self._drawn_key:
            if spike_key != self._spike_key and self._axis_span is not None and self._strips:
                # a new spike: only the axis changes (redrawing the bars could cause another)
                self._spike_key = spike_key
                self._strips[-1] = self._axis(width, *self._axis_span)
                self.refresh()
            return
        if live and not force and time.perf_counter() < self._next_draw:
            return  # a big live batch is redrawn as often as its cost allows, see below
        self._drawn_key = key
        self._spike_key = spike_key
        drawing = time.perf_counter()
        self.newest = batch
        self.batches = [] if batch is None else self._overlapping(batch)
        self._records = [r for b in self.batches for r in b.records]
        self._axis_span = None
        if batch is None or not self._records:
            self._strips = self._empty(width, height, empty_text(batch))
            self._set_legend("")
        elif self.mode == "lanes":
            self._strips = self._lanes(width, height, now)
        else:
            self._strips = self._aggregate(width, height, now)
        cost = time.perf_counter() - drawing
        # Drawing 100,000 tasks takes tens of milliseconds: wait DRAW_BUDGET times as long
        # before the next live redraw, so the timeline never takes more than a few percent of
        # the loop whatever the batch size.
        self._next_draw = time.perf_counter() + cost * DRAW_BUDGET
        self.refresh()

    # --- drawing ------------------------------------------------------------------------------

    def _span(self, now: float) -> tuple[float, float]:
        """The axis: from the first launch to the last finish, or, while a batch runs, a
        length that grows in steps (``live_axis_length``) so drawn bars stay put."""
        start = min(b.created for b in self.batches)
        if all(b.done for b in self.batches):
            end = max((b.last_finish or b.created) for b in self.batches)
            return start, max(end, start + 1e-3)
        return start, start + live_axis_length(now - start)

    def _elapsed(self, start: float, end: float, now: float) -> str:
        """What the legend shows: the batch's span, or while it runs the time so far and the
        axis's length (``0.409 s of 2 s``): the axis is labelled only at 0, so without it a
        bar's length could not be read as a duration."""
        if all(b.done for b in self.batches):
            return human_seconds(end - start)
        return f"{human_seconds(max(0.0, now - start))} of {end - start:g} s"

    def _style(self, name: str) -> Style:
        return self.rich_style + self.get_component_rich_style(f"timeline--{name}")

    def _fit_legend(self, head: str, items: list[str], short: list[str] | None = None) -> str:
        """The legend with two spaces between its items, or one, or ``short`` items, or fewer
        of them, whichever first fits the bottom border (at 80 columns the time span was cut:
        ``1.350 s of 1.5…``): the time span, last, is what must not be lost."""
        room = self.size.width - 6
        short = short or items
        # narrower still (the timeline beside the scenario log at 80x24): the items before
        # the time span give way, the last first, then the task count; never the span
        fewer = [short[:keep] + short[-1:] for keep in range(len(short) - 2, 0, -1)]
        candidates = [(head, items, "  "), (head, items, " "), (head, short, " ")]
        candidates += [(head, words, " ") for words in fewer]
        candidates += [("", words, " ") for words in fewer]
        candidates += [(head, short[-1:], " ")]
        for lead, words, gap in candidates:
            legend = " ".join(part for part in (lead, gap.join(words)) if part)
            if len(legend) <= room:
                return legend
        return short[-1]

    def _set_legend(self, legend: str) -> None:
        if legend != self._legend:
            self._legend = legend
            self.border_subtitle = legend

    def _empty(self, width: int, height: int, message: str) -> list[Strip]:
        text = message.center(width)[:width]
        blank = Strip.blank(width, self.rich_style)
        middle = height // 2
        return [
            Strip([Segment(text, self._style("label"))], width) if y == middle else blank
            for y in range(height)
        ]

    def _column(self, t: float, start: float, span: float, bar_width: int) -> int:
        return max(0, min(bar_width - 1, int((t - start) / span * bar_width)))

    def _lanes(self, width: int, height: int, now: float) -> list[Strip]:
        start, end = self._span(now)
        span = end - start
        bar_width = width - LABEL_WIDTH
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
        strips.append(self._axis(width, start, end))
        self._set_legend(self._fit_legend(
            f"{plural(len(self._records), 'task')}:",
            ["░ waiting", "█ running, coloured by end", "! loop lag",
             f"· {self._elapsed(start, end, now)}"],
            ["░ waiting", "█ running", "! loop lag", f"· {self._elapsed(start, end, now)}"],
        ))
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

    def _aggregate(self, width: int, height: int, now: float) -> list[Strip]:
        start, end = self._span(now)
        bar_width = width - LABEL_WIDTH
        records = self._records
        started = [r for r in records if r.started is not None]
        run_counts = peak_counts(
            [r.started for r in started],  # type: ignore[misc]
            [now if r.finished is None else r.finished for r in started],
            start,
            end,
            bar_width,
        )
        self.column_peaks = run_counts
        live_counts = peak_counts(
            [r.created for r in records],
            [now if r.finished is None else r.finished for r in records],
            start,
            end,
            bar_width,
        )
        peak = max(max(live_counts), 1)
        rows = height - 1
        run_style, wait_style = self._style("running"), self._style("wait")
        blank_style = self.rich_style
        strips = []
        for row in range(rows):
            level = rows - 1 - row  # 0 is the bottom row
            cells, styles = [], []
            for r, total in zip(run_counts, live_counts, strict=True):
                run_eighths = round(r / peak * rows * 8)
                total_rows = total / peak * rows
                cell = _bar_cell(run_eighths, level)
                if cell != " ":
                    cells.append(cell)
                    styles.append(run_style)
                elif total > r and level < total_rows and level * 8 >= run_eighths:
                    cells.append("░")
                    styles.append(wait_style)
                else:
                    cells.append(" ")
                    styles.append(blank_style)
            label = f"{peak:,}" if row == 0 else ("0" if row == rows - 1 else "")
            segments = [Segment(label.rjust(LABEL_WIDTH - 1) + " ", self._style("label"))]
            segments.extend(_runs(cells, styles))
            strips.append(Strip(segments, width))
        strips.append(self._axis(width, start, end))
        self._set_legend(self._fit_legend(
            f"{plural(len(records), 'task')}:",
            ["█ most running at once", "░ waiting", "! loop lag",
             f"· {self._elapsed(start, end, now)}"],
            ["█ most at once", "░ waiting", "! lag", f"· {self._elapsed(start, end, now)}"],
        ))
        return strips

    def _axis(self, width: int, start: float, end: float) -> Strip:
        """The time axis: ``!`` over every moment the loop was stalled by a lag spike.

        A spike is recorded when the loop wakes up, after the stall; it is drawn over the
        whole stall, ``[at - lag, at]``, wherever that meets the axis. No text shares the row,
        so no mark is ever hidden and none covers a word (the legend is in the border).
        """
        self._axis_span = (start, end)
        bar_width = width - LABEL_WIDTH
        cells = ["─"] * bar_width
        styles = [self._style("axis")] * bar_width
        spike_style = self._style("spike")
        span = end - start
        for spike in self.manager.lag.spikes:
            stalled = spike.at - spike.lag_ms / 1000
            if spike.at < start or stalled > end:
                continue
            first = self._column(stalled, start, span, bar_width)
            last = self._column(spike.at, start, span, bar_width)
            for x in range(first, last + 1):
                cells[x], styles[x] = "!", spike_style
        segments = [Segment("0 s".rjust(LABEL_WIDTH - 1) + " ", self._style("axis"))]
        segments.extend(_runs(cells, styles))
        return Strip(segments, width)


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
