"""How much concurrency gained, for the current batch and the whole session.

Estimates (summed task durations) and measurements (a sequential replay) are always labelled:
the estimate lies when tasks contend for the CPU, and only a replay tells the truth.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.timing import Timing
from loopscope.tasks.units import human_seconds


def _speedup(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}×"


class GainPanel(Widget):
    """Wall time, sequential estimate, gain and speedup; measured figures after a replay."""

    COMPONENT_CLASSES = {"gain-panel--label", "gain-panel--measured", "gain-panel--estimate"}

    DEFAULT_CSS = """
    GainPanel {
        height: auto;
        & > .gain-panel--label { color: $text-muted; }
        & > .gain-panel--measured { color: $success; text-style: bold; }
        & > .gain-panel--estimate { color: $warning; }
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

    def render(self) -> Table:
        manager = self.manager
        batch = manager.last_batch
        now = self.clock()
        label = self.get_component_rich_style("gain-panel--label")
        estimate = self.get_component_rich_style("gain-panel--estimate")
        measured = self.get_component_rich_style("gain-panel--measured")
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        session = manager.session_timing()
        timing = batch.timing(now) if batch is not None else Timing(0.0, 0.0)
        both = (timing, session)
        table.add_row("", Text("batch", style=label), Text("session", style=label))
        table.add_row(Text("wall", style=label), *(human_seconds(t.wall_s) for t in both))

        def estimated(name: str, values: list[str]) -> None:
            table.add_row(
                Text.assemble((name, label), (" est.", estimate)),
                *(Text(value, style=estimate) for value in values),
            )

        def measured_row(name: str, values: list[str]) -> None:
            table.add_row(
                Text.assemble((name, label), (" meas.", measured)),
                *(Text(value, style=measured) for value in values),
            )

        estimated("seq.", [human_seconds(t.sequential_estimate_s) for t in both])
        estimated("gained", [human_seconds(max(0.0, t.gained_s)) for t in both])
        estimated("speedup", [_speedup(t.speedup) for t in both])
        measured_row(
            "seq.",
            [
                human_seconds(t.measured_sequential_s)
                if t.measured_sequential_s is not None
                else ("press R" if t is timing else "–")
                for t in both
            ],
        )
        measured_row("speedup", [_speedup(t.measured_speedup) for t in both])
        return table

    def sync(self) -> None:
        batch = self.manager.last_batch
        live = batch is not None and not batch.done
        key = (self.manager.version, batch.id if batch else None, self.clock() if live else None)
        if key != self._key:
            self._key = key
            self.refresh()
