"""How much concurrency gained, for the current batch and the whole session.

Estimates (summed task durations) and measurements (a sequential replay) are always labelled:
the estimate lies when tasks contend for the CPU, and only a replay tells the truth.

The two columns cover different things, and the panel says what: the batch column is the
newest batch; the session column is every concurrent batch of the session (wall: the time any
of them ran). A measured session figure exists only for the batches that were replayed, so it
is shown as a speedup over those batches alone (compared with their own concurrent wall),
with a note saying how many; a measured sequential total next to the whole session's wall
would compare different things, so it is not shown. On a narrow screen the session is one line.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.timing import Timing
from loopscope.tasks.units import human_seconds

TWO_COLUMNS = 34
"""Narrower than this (content cells), the session column becomes one line."""


def _speedup(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}×"


class GainPanel(Widget):
    """Wall time, sequential estimate and speedup; measured figures after a replay."""

    COMPONENT_CLASSES = {"gain-panel--label", "gain-panel--measured", "gain-panel--estimate"}

    DEFAULT_CSS = """
    GainPanel {
        height: auto;
        & > .gain-panel--label { color: $text-muted; }
        & > .gain-panel--measured { color: $text-success; text-style: bold; }
        & > .gain-panel--estimate { color: $text-warning; }
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
        self._key: tuple[object, ...] | None = None
        self._counts_key: tuple[object, ...] | None = None
        self._counts = (0, 0)

    def render(self) -> Text:
        manager = self.manager
        batch = manager.last_batch
        now = self.clock()
        label = self.get_component_rich_style("gain-panel--label")
        estimate = self.get_component_rich_style("gain-panel--estimate")
        measured = self.get_component_rich_style("gain-panel--measured")
        width = self.content_size.width or self.size.width
        wide = width >= TWO_COLUMNS
        timing = batch.timing(now) if batch is not None else Timing(0.0, 0.0)
        session = manager.session_timing()
        batches, replayed = self._session_counts()
        columns = 2 if wide else 1
        # plain Text lines, not a rich Table: this is redrawn ten times a second while tasks
        # run, and a Table costs several times more to lay out
        value_width = max(9, (width - 15) // columns - 1)
        lines: list[Text] = []

        def row(name: str, kind: str, values: list[str], style: Style | str = "") -> None:
            line = Text(no_wrap=True, overflow="ellipsis")
            line.append(name, label)
            if kind:
                line.append(f" {kind}", style)
            pad = width - line.cell_len - columns * (value_width + 1)
            line.append(" " * max(1, pad))
            for value in values[:columns]:
                line.append(" " + value.rjust(value_width), style)
            lines.append(line)

        if wide:
            row("", "", ["batch", "session"], label)
        row("wall", "", [human_seconds(timing.wall_s), human_seconds(session.wall_s)])
        row("seq.", "est.", [human_seconds(timing.sequential_estimate_s),
                             human_seconds(session.sequential_estimate_s)], estimate)
        row("speedup", "est.", [_speedup(timing.speedup), _speedup(session.speedup)], estimate)
        replay_hint = "press R" if batch is not None and batch.done else "–"
        row("seq.", "meas.", [human_seconds(timing.measured_sequential_s)
                              if timing.measured_sequential_s is not None else replay_hint, ""],
            measured)
        row("speedup", "meas.", [_speedup(timing.measured_speedup),
                                 _speedup(session.measured_speedup)], measured)
        note = Text(style=label, no_wrap=True, overflow="ellipsis")
        plural = "es" if batches != 1 else ""
        if wide:
            note.append(f"session: {batches:,} batch{plural}")
            if replayed:  # the measured speedup covers only the replayed batches
                said = f"; meas. over {replayed:,} replayed"
                fits = note.cell_len + len(said) <= width
                note.append(said if fits else f", {replayed:,} replayed")
        else:
            note.append(f"session {batches:,} batch{plural}: ")
            note.append(_speedup(session.speedup), estimate)
            note.append(" est.")
            if note.cell_len > width:  # no room for the count: the estimate stays labelled
                row("session", "est.", [_speedup(session.speedup)], estimate)
                return Text("\n").join(lines)
        lines.append(note)
        return Text("\n").join(lines)

    def _session_counts(self) -> tuple[int, int]:
        """Concurrent batches in the session, and how many of them were replayed (counted
        again only when a batch is added or the newest one ends: a replay is a batch)."""
        newest = self.manager.current_batch
        key = (len(self.manager.batches), newest and newest.id, newest and newest.done)
        if key == self._counts_key:
            return self._counts
        batches = replayed = 0
        for batch in self.manager.batches.values():
            if not batch.sequential:
                batches += 1
                replayed += batch.measured_sequential_s is not None
        self._counts_key, self._counts = key, (batches, replayed)
        return self._counts

    def sync(self) -> None:
        batch = self.manager.last_batch
        live = bool(self.manager.live_count)
        key = (self.manager.version, batch.id if batch else None, self.clock() if live else None)
        if key != self._key:
            self._key = key
            self.refresh()
