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

from rich.console import Group
from rich.table import Table
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

    def render(self) -> Group:
        manager = self.manager
        batch = manager.last_batch
        now = self.clock()
        label = self.get_component_rich_style("gain-panel--label")
        estimate = self.get_component_rich_style("gain-panel--estimate")
        measured = self.get_component_rich_style("gain-panel--measured")
        wide = (self.content_size.width or self.size.width) >= TWO_COLUMNS
        timing = batch.timing(now) if batch is not None else Timing(0.0, 0.0)
        session = manager.session_timing()
        batches, replayed = self._session_counts()
        columns = [timing, session] if wide else [timing]

        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True)
        for _ in columns:
            table.add_column(justify="right", no_wrap=True)
        if wide:
            table.add_row("", Text("batch", style=label), Text("session", style=label))

        def row(name: str, kind: str, values: list[str]) -> None:
            style = estimate if kind == "est." else measured
            table.add_row(
                Text.assemble((name, label), (f" {kind}", style)),
                *(Text(value, style=style) for value in values[: len(columns)]),
            )

        table.add_row(Text("wall", style=label), *(human_seconds(t.wall_s) for t in columns))
        row("seq.", "est.", [human_seconds(t.sequential_estimate_s) for t in columns])
        row("speedup", "est.", [_speedup(t.speedup) for t in columns])
        replay_hint = "press R" if batch is not None and batch.done else "–"
        row("seq.", "meas.", [human_seconds(timing.measured_sequential_s)
                              if timing.measured_sequential_s is not None else replay_hint, ""])
        row("speedup", "meas.", [_speedup(timing.measured_speedup),
                                 _speedup(session.measured_speedup)])
        note = Text(style=label, no_wrap=True, overflow="ellipsis")
        plural = "es" if batches != 1 else ""
        if wide:
            note.append(f"session: {batches:,} batch{plural}")
            if replayed:
                note.append(f", meas. over the {replayed:,} replayed")
        else:
            note.append(f"session {batches:,} batch{plural}: ")
            note.append(_speedup(session.speedup), estimate)
            note.append(" est.")
        return Group(table, note)

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
