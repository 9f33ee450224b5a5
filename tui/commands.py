"""The command palette's loopscope commands: every dashboard action, found by name.

Generated from the screen's bindings (each binding's tooltip is the command's title, its key
the help), so the palette offers exactly what the keys do, plus the scenarios by name.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from loopscope.tasks.scenarios import SCENARIOS
from loopscope.tui.keymap import key_help

UNBOUND: tuple[tuple[str, str, str], ...] = (
    ("Show the race results", "the strategy race's bar chart", "show_race"),
)
"""Actions with no key yet: (title, help, action). One that gets a key drops out of here."""


class LoopscopeCommands(Provider):
    """Offers the dashboard's actions in the command palette."""

    def _run(self, action: str) -> Callable[[], object]:
        return partial(self.screen.run_action, action)

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        rows = [
            row for row in key_help(getattr(type(self.screen), "BINDINGS", []))
            if row.id is not None and not row.action.startswith("app.")
        ]
        commands = [(row.text, f"key {row.keys}", self._run(row.action)) for row in rows]
        bound = {row.action for row in rows}
        commands += [
            (title, text, self._run(action))
            for title, text, action in UNBOUND
            if action not in bound
        ]
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
