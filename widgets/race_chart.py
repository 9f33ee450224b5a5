"""The strategy race as a bar chart: measured wall times, four strategies, two workloads.

Bars are scaled per workload (the I/O and CPU runs take different times). The winner is
marked only when the numbers crown one: lanes within the race's noise of the fastest are
marked as a tie, and on a machine that cannot run the CPU lanes side by side none is. The
conclusion the race composed from the numbers is printed under them.
"""

from __future__ import annotations

import re
import textwrap

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from loopscope.tasks.scenarios.race_results import STRATEGIES, RaceResults
from loopscope.tasks.units import human_seconds

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int) -> str:
    eighths = max(1, round(fraction * width * 8))
    return "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


UNIT_SPACE = re.compile(r"(?<=\d) (?=(?:s|ms|µs|min|h|cores?|MiB|KiB|GiB)\b)")
"""The space between a number and its unit: never a place to break a line."""


def keep_units(text: str, width: int) -> str:
    """``text`` wrapped by words to ``width``, never between a number and its unit
    (``(0.424 s)`` stays on one line; rich would break it at any space)."""
    if width <= 0:
        return text
    glued = UNIT_SPACE.sub("\u00a0", text)
    # textwrap breaks only at ASCII whitespace, so the no-break space holds; the lines it
    # returns fit, so rich does not wrap them again
    lines = [
        line
        for paragraph in glued.split("\n")
        for line in textwrap.wrap(paragraph, width, break_on_hyphens=False) or [""]
    ]
    return "\n".join(lines).replace("\u00a0", " ")


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

    results: reactive[RaceResults | None] = reactive(None, layout=True)
    """The race's measured results, or None until it has finished."""

    def __init__(
        self,
        results: RaceResults | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.set_reactive(RaceChart.results, results)

    def render(self) -> RenderableType:
        results = self.results
        if results is None:
            return Text("the race has not finished yet", style="dim")
        bar_style = self.get_component_rich_style("race-chart--bar")
        winner_style = self.get_component_rich_style("race-chart--winner")
        label_style = self.get_component_rich_style("race-chart--label")
        width = max(10, self.size.width - 44)
        parts: list[RenderableType] = []
        for result in results.workloads:
            slowest = max(result.walls.values()) or 1.0
            winner = results.winner(result.workload)
            leaders = result.leaders()
            parts.append(Text.assemble((result.workload.label, "bold"),
                                       (f"  {result.what}", label_style)))
            table = Table.grid(padding=(0, 1))
            table.add_column(no_wrap=True, width=11)
            table.add_column(no_wrap=True, width=width)
            table.add_column(no_wrap=True, justify="right", width=8)
            table.add_column(no_wrap=True, justify="right", width=6)
            table.add_column(no_wrap=True)
            for strategy in STRATEGIES:
                seconds = result.walls[strategy]
                if winner is strategy:
                    mark = "★ fastest"
                elif winner is None and len(leaders) > 1 and strategy in leaders:
                    mark = "= tie"
                else:
                    mark = ""
                style = winner_style if mark else bar_style
                table.add_row(
                    Text(strategy.value, style=winner_style if mark else ""),
                    Text(bar(seconds / slowest, width), style=style),
                    Text(human_seconds(seconds)),
                    Text(f"{result.speedup(strategy):.1f}×", style=label_style),
                    Text(mark, style=winner_style),
                )
            parts.extend([table, Text("")])
        room = self.content_size.width or self.size.width
        parts.append(Text(keep_units(results.conclusion, room), style="bold"))
        watcher = ("" if results.watcher_cpu is None else
                   f"; this screen used {results.watcher_cpu:.0%} of one core while the lanes "
                   "were timed")
        parts.append(
            Text(keep_units(
                f"{results.cores} cores, process pool of {results.process_workers}; every lane "
                "timed on the wall clock in a clean process of its own; × is speed relative "
                f"to sequential{watcher}", room), style=label_style)
        )
        return Group(*parts)
