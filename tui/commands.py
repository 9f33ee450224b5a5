"""The command palette's loopscope commands: every dashboard action, found by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from loopscope.tasks.kinds.registry import all_kinds
from loopscope.tasks.scenarios import SCENARIOS
from loopscope.tui.launch_keys import LAUNCH_SPECS

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Bigger batches", "batch size up: 1, 10, 100, 1000", "batch_size(1)"),
    ("Smaller batches", "batch size down", "batch_size(-1)"),
    ("Open the command bar", "type any spec", "command_bar"),
    ("Cancel the selected task", "", "cancel_selected"),
    ("Cancel everything", "stop every launch and task", "cancel_all"),
    ("Replay the last batch sequentially", "measure the real gain", "replay"),
    ("Show task details", "timings, traceback, result", "details"),
    ("Filter tasks by state", "cycle all / pending / running / done / ...", "cycle_filter"),
    ("Run a scenario…", "pick a teaching scenario", "scenarios"),
    ("Show the race results", "the strategy race's bar chart", "show_race"),
    ("Help", "keys, spec language, figures", "help"),
)


class LoopscopeCommands(Provider):
    """Offers the dashboard's actions in the command palette."""

    def _run(self, action: str) -> Callable[[], object]:
        return partial(self.screen.run_action, action)

    def _kind_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """One entry per kind, from the registry: a kind with a launch key launches a batch
        at the current batch size; any other (write, a user's kind) opens the command bar
        with its example spec, ready to edit."""
        commands: list[tuple[str, str, Callable[[], object]]] = []
        for kind in all_kinds():
            if kind.name in LAUNCH_SPECS:
                callback = self._run(f"launch({kind.name!r})")
            else:
                callback = partial(self._prefill, f"{kind.example or kind.name} ")
            commands.append((f"Launch {kind.name}", kind.help, callback))
        return commands

    def _prefill(self, text: str) -> None:
        from loopscope.widgets.command_bar import CommandBar

        bars = self.screen.query(CommandBar)
        if bars:
            bar = bars.first()
            bar.open()
            bar.input.value = text
            bar.input.cursor_position = len(text)

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands = self._kind_commands()
        commands += [(title, text, self._run(action)) for title, text, action in COMMANDS]
        start = getattr(self.screen, "start_scenario", None)
        if start is not None:
            commands += [
                (f"Scenario: {s.name}", s.title, partial(start, s.name))
                for s in SCENARIOS.values()
            ]
        return commands

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            if (score := matcher.match(title)) > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
