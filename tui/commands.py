"""The command palette's loopscope commands: every dashboard action, found by name.

Generated from the screen's bindings and the task list's (each binding's tooltip is the
command's title, its key the help), so the palette offers exactly what the keys do, plus the
scenarios by name.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from loopscope.tasks.kinds.registry import all_kinds
from loopscope.tasks.scenarios import SCENARIOS
from loopscope.tui.keymap import key_help
from loopscope.tui.launch_keys import LAUNCH_SPECS
from loopscope.widgets.task_list import TaskList

UNBOUND: tuple[tuple[str, str, str], ...] = (
    ("Show the race results", "the strategy race's bar chart", "show_race"),
)
"""Actions with no key yet: (title, help, action). One that gets a key drops out of here."""

CAREFUL = frozenset({"cancel_all", "cancel_selected", "clear_finished"})
"""Actions that throw work away: ranked just below an equally good match, so a vague query
and enter ("scenario" also matches "Cancel everything: … and scenario") never cancels."""
CAREFUL_RANK = 0.9


class LoopscopeCommands(Provider):
    """Offers the dashboard's actions in the command palette."""

    def _run(self, action: str) -> Callable[[], object]:
        return partial(self.screen.run_action, action)

    def _kind_commands(
        self, skip: Collection[str] = ()
    ) -> list[tuple[str, str, Callable[[], object]]]:
        """One entry per kind, from the registry: a kind with a launch key launches a batch
        at the current batch size; any other (write, a user's kind) opens the command bar
        with its example spec, ready to edit. ``skip``: actions the bindings offer already."""
        commands: list[tuple[str, str, Callable[[], object]]] = []
        for kind in all_kinds():
            if kind.name in LAUNCH_SPECS:
                action = f"launch({kind.name!r})"
                if action in skip:
                    continue
                callback = self._run(action)
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
        rows = [
            row for row in key_help(getattr(type(self.screen), "BINDINGS", []))
            if row.id is not None and not row.action.startswith("app.")
        ]
        bound = {row.action for row in rows}
        commands = self._kind_commands(skip=bound)
        commands += [(row.text, f"key {row.keys}", self._run(row.action)) for row in rows]
        commands += [
            (title, text, self._run(action))
            for title, text, action in UNBOUND
            if action not in bound
        ]
        commands += self._task_list_commands()
        start = getattr(self.screen, "start_scenario", None)
        if start is not None:
            commands += [
                (f"Scenario: {s.name}", s.title, partial(start, s.name))
                for s in SCENARIOS.values()
            ]
        return commands

    def _task_list_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """The task list's own keys (sort, invert, next and previous match), run on the
        list: the palette offers every key that has a name, not only the screen's."""
        lists = self.screen.query(TaskList)
        if not lists:
            return []
        task_list = lists.first()
        return [
            (row.text, f"key {row.keys}", partial(task_list.run_action, row.action))
            for row in key_help(TaskList.BINDINGS)
            if row.id is not None
        ]

    def _is_careful(self, callback: Callable[[], object]) -> bool:
        return (
            isinstance(callback, partial)
            and callback.func == self.screen.run_action
            and callback.args[0] in CAREFUL
        )

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            if (score := matcher.match(title)) > 0:
                if self._is_careful(callback):
                    score *= CAREFUL_RANK
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
