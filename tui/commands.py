"""The command palette's loopscope commands: every dashboard action, found by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from loopscope.tasks.scenarios import SCENARIOS

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Launch fetches", "fetch from the demo server, batch-size times", "launch('fetch')"),
    ("Launch file reads", "read the generated sample files", "launch('read')"),
    ("Launch sleeps", "asyncio.sleep(1), batch-size times", "launch('sleep')"),
    ("Launch thread jobs", "blocking waits in the thread pool", "launch('thread')"),
    ("Launch CPU jobs", "sum of squares in the process pool", "launch('cpu')"),
    ("Launch failing tasks", "tasks that raise", "launch('fail')"),
    ("Block the event loop", "time.sleep on the loop for 1.5 s", "launch('block')"),
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

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        commands = [(title, text, self._run(action)) for title, text, action in COMMANDS]
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
