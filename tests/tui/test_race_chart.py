"""The race chart's sentences wrap by words and never split a number from its unit."""

from __future__ import annotations

import io
import itertools
import re

from rich.console import Console
from textual.app import App, ComposeResult

from loopscope.widgets.race_chart import RaceChart
from tests.snapshots.test_snapshots import RACE_RESULTS

NUMBER_AT_END = re.compile(r"\d$")
UNIT_AT_START = re.compile(r"^(s|ms|µs|cores?)\b")


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RaceChart(RACE_RESULTS)


async def test_no_number_is_broken_from_its_unit_at_any_width() -> None:
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        chart = app.query_one(RaceChart)
        for columns in range(50, 121):
            await pilot.resize_terminal(columns, 40)
            await pilot.pause()
            width = chart.content_size.width
            console = Console(width=width, record=True, file=io.StringIO())
            console.print(chart.render())
            lines = [line.rstrip() for line in console.export_text().splitlines()]
            for above, below in itertools.pairwise(lines):
                assert not (NUMBER_AT_END.search(above) and UNIT_AT_START.match(below.lstrip())), (
                    columns, above, below)
