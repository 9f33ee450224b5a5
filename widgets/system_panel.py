"""The process's own figures and the event loop's lag, with a sparkline and the last spike.

A spike names the task that blocked the loop when the engine knows it (a ``block`` task, a
launch of thousands of tasks): the question "where is my loop stuck?" answered on screen.

The panel must not cost what it measures: it is one widget that draws a few lines of text, it
redraws at most about once a second (the psutil sampling rate) or at once when a new spike
arrives, and only when the text it would show differs from what is on screen. The figures flow
onto as many lines as the width needs, so a narrow screen drops none of them.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.units import human_bytes, human_seconds

SPARK_SAMPLES = 120
"""Lag samples behind the sparkline: the newest 120, the last six seconds while the probe
samples every 50 ms; the last two minutes or so while it samples once a second (an idle
engine, tasks/lag.py)."""
SPARK = "▁▂▃▄▅▆▇█"
REDRAW_S = 1.0
"""The lag line and sparkline are redrawn about this often (a new spike is shown at once)."""
REDRAW_SLACK_S = 0.1
"""An idle screen pulls once a second, a few milliseconds early or late: a pull this close to
``REDRAW_S`` after the last redraw counts as due, or the line would move every other second."""


def sparkline(values: list[float], width: int) -> str:
    """``values`` squeezed into ``width`` cells, each cell the highest value of its share."""
    if width <= 0 or not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        values = [
            max(values[int(n * step) : max(int(n * step) + 1, int((n + 1) * step))])
            for n in range(width)
        ]
    top = max(values)
    if top <= 0:
        return SPARK[0] * len(values)
    steps = len(SPARK) - 1
    return "".join(SPARK[min(steps, int(v / top * steps + 0.5))] for v in values)


def flow(fields: list[tuple[str, str]], width: int) -> list[Text]:
    """Lay out ``(label, value)`` pairs left to right; a pair that would not fit starts a line."""
    lines: list[Text] = []
    line = Text()
    for label, value in fields:
        piece = len(label) + 1 + len(value)
        if line.cell_len and line.cell_len + 2 + piece > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append("  ")
        line.append(label + " ", "dim")
        line.append(value)
    if line.cell_len:
        lines.append(line)
    return lines


class SystemPanel(Widget):
    """psutil figures for this process and the machine; event-loop lag over the last seconds."""

    COMPONENT_CLASSES = {"system-panel--spike", "system-panel--quiet"}

    DEFAULT_CSS = """
    SystemPanel {
        height: auto;
        & > .system-panel--spike { color: $text-error; }
        & > .system-panel--quiet { color: $text-muted; }
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
        self._lag_text = ""
        self._spark: list[float] = []
        self._key: tuple[object, ...] | None = None
        self._lag_at = float("-inf")
        self._lines = 0

    def render(self) -> Text:
        width = max(10, self.content_size.width or self.size.width)
        lines = flow(self._fields(), width)
        lag = Text.assemble(("lag p99 ", "dim"), self._lag_text)
        spark_width = width - lag.cell_len - 1
        if spark_width >= 4:
            lag.append(" " + sparkline(self._spark, spark_width))
        # wrapped here, not by Textual: the panel's height follows the lines counted here
        # (``_layout_changed``), and a cause wrapped later was drawn under the border
        spike_lines = list(self._spike_line().wrap(self.app.console, width, overflow="fold"))
        room = self._room()
        if room is not None:
            # a panel given a fixed share of the column (80x24) cuts figures, never its
            # border nor the spike's cause: the spike wraps onto up to all but two lines (the
            # lag line and one of figures), and the last figure lines give way to it
            most = max(1, room - 2)
            if len(spike_lines) > most:
                spike_lines = spike_lines[:most]
                spike_lines[-1].truncate(width - 1)
                spike_lines[-1].append("…")
            lines = lines[: max(0, room - 1 - len(spike_lines))]
        lines.append(lag)
        lines.extend(spike_lines)
        return Text("\n").join(lines[-room:] if room else lines)

    def _room(self) -> int | None:
        """Lines the panel may draw, or None when its height follows its content."""
        if self.styles.is_auto_height or self.content_size.height <= 0:
            return None
        return self.content_size.height

    def _fields(self) -> list[tuple[str, str]]:
        snapshot = self.manager.process.latest
        if snapshot is None:
            return [("process:", "measuring…")]
        return [
            ("cpu", f"{snapshot.cpu_percent:.0f}%"),
            ("rss", human_bytes(snapshot.rss_bytes)),
            ("thr", str(snapshot.threads)),
            ("fds", str(snapshot.open_fds)),
            ("conns", str(snapshot.connections)),
            ("procs", str(snapshot.children)),
            ("sys cpu", f"{snapshot.system_cpu_percent:.0f}%"),
            ("mem", f"{snapshot.system_memory_percent:.0f}%"),
        ]

    def _spike_line(self) -> Text:
        spikes = self.manager.lag.spikes
        if not spikes:
            return Text("no lag spike yet", self.get_component_rich_style("system-panel--quiet"))
        spike = spikes[-1]
        culprit = spike.culprit or "cause unknown"
        return Text.assemble(
            ("spike ", "bold"),
            f"{human_seconds(spike.lag_ms / 1000)}: {culprit}",  # the one duration format
            style=self.get_component_rich_style("system-panel--spike"),
        )

    def sync(self) -> None:
        """Redraw if a figure on screen would change: new psutil sample, new spike, or (at most
        once a second) new lag samples."""
        manager = self.manager
        lag = manager.lag
        now = self.clock()
        if lag.version and (now - self._lag_at >= REDRAW_S - REDRAW_SLACK_S
                            or now < self._lag_at):
            self._lag_at = now
            self._lag_text = f"{lag.stats().p99_ms:.1f} ms"
            self._spark = lag.recent(SPARK_SAMPLES)
        spike = lag.spikes[-1] if lag.spikes else None
        key = (manager.process.version, self._lag_text, tuple(self._spark), spike)
        if key != self._key:
            self._key = key
            self.refresh(layout=self._layout_changed())

    def _layout_changed(self) -> bool:
        """Only a change in the number of lines needs a new layout (cheap: a few lines).
        Before the panel has a width its lines cannot be counted (they wrap): lay it out."""
        if self.content_size.width <= 0:
            self._lines = -1
            return True
        lines = len(self.render().plain.splitlines())
        changed = lines != self._lines
        self._lines = lines
        return changed
