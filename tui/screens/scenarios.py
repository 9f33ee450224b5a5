"""The scenario picker (key n) and the race results screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from loopscope.tasks.scenarios import SCENARIOS
from loopscope.tasks.scenarios.race_results import RaceResults
from loopscope.widgets.race_chart import RaceChart


class ScenarioPicker(ModalScreen[str | None]):
    """Pick a scenario; its explanation is shown beside the list. Dismisses with its name."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close", id="scenarios.close")]

    def compose(self) -> ComposeResult:
        with Horizontal(id="picker-body") as body:
            body.border_title = "Scenarios"
            body.border_subtitle = "enter runs · escape closes · C stops a running one"
            yield OptionList(
                *(Option(f"{s.name:10} {s.title}", id=s.name) for s in SCENARIOS.values()),
                id="scenario-list",
            )
            with VerticalScroll(id="scenario-about"):
                yield Static(id="scenario-explanation")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()
        self._explain(next(iter(SCENARIOS)))

    def _explain(self, name: str) -> None:
        scenario = SCENARIOS[name]
        self.query_one("#scenario-explanation", Static).update(
            f"[b]{scenario.title}[/b]\n\n{scenario.explanation}\n\n"
            f"[dim]headless: loopscope run --scenario {scenario.name}[/dim]"
        )

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self._explain(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


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
