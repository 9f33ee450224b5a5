"""The scenario picker (key n), with each scenario's source, and the race results screen.

The picker shows the highlighted scenario's explanation and its real code. While that
scenario runs, every line where some of its tasks are suspended is marked with how many:
sampled twice a second from the tasks' coroutine frames, and only while the picker is open.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.scenarios import SCENARIOS, ScenarioRun
from loopscope.tasks.scenarios.race_results import RaceResults
from loopscope.tasks.source_blocks import source_blocks
from loopscope.widgets.notice_line import NoticeLine
from loopscope.widgets.race_chart import RaceChart
from loopscope.widgets.scenario_source import PAUSED, ScenarioSource

MARK_EVERY_S = 0.5
"""How often the suspended-task markers are sampled while the picker is open."""


class ScenarioPicker(ModalScreen[str | None]):
    """Pick a scenario; its explanation and source are shown beside the list. Dismisses with
    its name (enter), or starts it and stays open to watch its source (r)."""

    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Close", id="scenarios.close"),
        Binding("r", "run_here", "Run and watch", id="scenarios.run_here"),
        Binding("s", "toggle_source", "Source / about", id="scenarios.toggle_source"),
    ]

    def __init__(
        self,
        manager: TaskManager | None = None,
        *,
        running: Callable[[], ScenarioRun | None] | None = None,
        start: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        self._scenario_run = running or (lambda: None)
        self._start_scenario = start
        self.shown: str = next(iter(SCENARIOS))
        """The scenario whose explanation and source are shown."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="picker-body") as body:
            body.border_title = "Scenarios"
            body.border_subtitle = (
                "enter runs · r runs and stays · s source/about · escape closes · C stops"
            )
            with Vertical(id="picker-left"):
                yield OptionList(
                    *(
                        # one line each: the whole title is in the explanation below
                        Option(Text(f"{s.name:10} {s.title}", no_wrap=True, overflow="ellipsis"),
                               id=s.name)
                        for s in SCENARIOS.values()
                    ),
                    id="scenario-list",
                )
                with VerticalScroll(id="scenario-about"):
                    yield Static(id="scenario-explanation")
            with ScrollableContainer(id="scenario-code") as code:
                code.border_title = "source"
                yield ScenarioSource(id="scenario-source")
        # "r" starts a scenario here: its message below the picker, not over its source
        yield NoticeLine(id="picker-notice")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        run = self._scenario_run()
        names = list(SCENARIOS)
        first = run.scenario.name if run is not None and not run.done else names[0]
        options.highlighted = names.index(first)
        options.focus()
        self._explain(first)
        self.set_interval(MARK_EVERY_S, self.mark_suspended)

    def _explain(self, name: str) -> None:
        scenario = SCENARIOS[name]
        self.shown = name
        self.query_one("#scenario-explanation", Static).update(
            f"[b]{scenario.title}[/b]\n\n{scenario.explanation}\n\n"
            f"[dim]headless: loopscope run --scenario {scenario.name}[/dim]"
        )
        blocks = source_blocks(scenario.run)
        self.query_one(ScenarioSource).show(blocks)
        code = self.query_one("#scenario-code")
        code.border_title = (
            f"source: {_short(blocks[0].filename)} · {scenario.run.__name__}()"
            if blocks else "source"
        )
        code.scroll_home(animate=False)
        self.mark_suspended()

    def mark_suspended(self) -> None:
        """Count the shown scenario's tasks suspended on each of its lines, if it runs."""
        source = self.query_one(ScenarioSource)
        run = self._scenario_run()
        code = self.query_one("#scenario-code")
        if self.manager is None or run is None or run.scenario.name != self.shown:
            source.mark({})
            return
        if run.done:
            source.mark({})
            code.border_subtitle = "finished"
            return
        tasks = [run.task, *self._scenario_tasks(run)]
        counts: dict[tuple[str, int], int] = {}
        introspect = self.manager.introspect
        for filename in {block.filename for block in source.blocks}:
            for line, count in introspect.suspended_lines(tasks, filename).items():
                counts[(filename, line)] = count
        source.mark(counts)
        code.border_subtitle = f"running: N {PAUSED} = tasks suspended on that line now"

    def _scenario_tasks(self, run: ScenarioRun) -> list[Any]:
        assert self.manager is not None
        batches = {batch.id for batch in run.context.batches}
        records = self.manager.records
        return [
            task for record_id, task in self.manager.live_tasks().items()
            if (record := records.get(record_id)) is not None and record.batch_id in batches
        ]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None and event.option.id != self.shown:
            self._explain(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_run_here(self) -> None:
        if self._start_scenario is None:
            self.notify("running from here needs the dashboard", severity="warning")
            return
        self._start_scenario(self.shown)
        self.mark_suspended()

    def action_toggle_source(self) -> None:
        self.toggle_class("-show-source")


def _short(filename: str) -> str:
    """``tasks/scenarios/network.py`` rather than the whole path."""
    parts = filename.split(os.sep)
    return os.sep.join(parts[-3:])


class RaceScreen(ModalScreen[None]):
    """The race's bar chart, over the dashboard."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="race.close")]

    def __init__(self, results: RaceResults) -> None:
        super().__init__()
        self.results = results

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="race-body") as body:
            body.border_title = "The strategy race: measured wall times"
            body.border_subtitle = "escape to close"
            yield RaceChart(self.results)
        yield NoticeLine()  # a message while this is open: below it, not over it
