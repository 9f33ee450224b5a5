"""The strategy race as a bar chart: measured wall times, four strategies, two workloads.

Bars are scaled per workload (the I/O and CPU runs take different times), the fastest is
marked, and the conclusion the measurements support is printed under them.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from loopscope.tasks.units import human_seconds

STRATEGIES = ("sequential", "asyncio", "threads", "processes")
WORKLOADS = (("io", "I/O-bound"), ("cpu", "CPU-bound"))
BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int) -> str:
    eighths = max(1, round(fraction * width * 8))
    return "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


class RaceChart(Widget):
    """Horizontal bars of each strategy's measured wall time, per workload."""

    COMPONENT_CLASSES = {"race-chart--bar", "race-chart--winner", "race-chart--label"}

    DEFAULT_CSS = """
    RaceChart {
        height: auto;
        & > .race-chart--bar { color: $primary-lighten-1; }
        & > .race-chart--winner { color: $text-success; text-style: bold; }
        & > .race-chart--label { color: $text-muted; }
    }
    """

    results: reactive[dict[str, Any] | None] = reactive(None, layout=True)
    """The race's data: {"io": {strategy: seconds}, "cpu": {...}, "winner": ..., ...}."""

    def __init__(
        self,
        results: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.set_reactive(RaceChart.results, results)

    def render(self) -> Group | Text:
        results = self.results
        if not results:
            return Text("the race has not finished yet", style="dim")
        bar_style = self.get_component_rich_style("race-chart--bar")
        winner_style = self.get_component_rich_style("race-chart--winner")
        label_style = self.get_component_rich_style("race-chart--label")
        width = max(10, self.size.width - 36)
        parts: list[Any] = []
        for key, title in WORKLOADS:
            times: dict[str, float] = results[key]
            slowest = max(times.values()) or 1.0
            winner = results["winner"][key]
            workload = results.get("workloads", {}).get(key, "")
            parts.append(Text.assemble((title, "bold"), (f"  {workload}", label_style)))
            table = Table.grid(padding=(0, 1))
            table.add_column(no_wrap=True, width=11)
            table.add_column(no_wrap=True, width=width)
            table.add_column(no_wrap=True, justify="right", width=8)
            table.add_column(no_wrap=True)
            for strategy in STRATEGIES:
                seconds = times[strategy]
                is_winner = strategy == winner
                style = winner_style if is_winner else bar_style
                table.add_row(
                    Text(strategy, style=winner_style if is_winner else ""),
                    Text(bar(seconds / slowest, width), style=style),
                    Text(human_seconds(seconds)),
                    Text("★ fastest" if is_winner else "", style=winner_style),
                )
            parts.extend([table, Text("")])
        parts.append(Text(results.get("conclusion", ""), style="bold"))
        parts.append(
            Text(f"process pool: {results.get('process_workers', '?')} workers (one per core); "
                 "all times measured on the wall clock", style=label_style)
        )
        return Group(*parts)
