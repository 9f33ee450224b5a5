"""The ``?`` screen: every key, the spec language, and what the figures mean."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from loopscope.tasks.kinds.registry import all_kinds
from loopscope.tui.launch_keys import LAUNCH_SPECS

KEYS = (
    ("f", f"fetch from the demo server ({LAUNCH_SPECS['fetch'].format(n='N')})"),
    ("r", "read generated sample files with aiofiles"),
    ("s", "sleep 1 s with asyncio.sleep"),
    ("t", "thread job: a blocking wait in the thread pool"),
    ("p", "cpu job in the process pool"),
    ("x", "a task that fails"),
    ("b", "block the loop 1.5 s: the screen freezes, then the lag spike names the task"),
    ("+ / -", "batch size for every launch key: 1, 10, 100, 1000"),
    (":", "command bar: any spec, e.g. fetch /delay/300 x20 timeout=1"),
    ("c / C", "cancel the selected task / cancel everything"),
    ("R", "replay the last batch one task after another: the MEASURED gain"),
    ("enter", "details of the selected task: timings, traceback, result"),
    ("F", "filter the list by state: all, pending, running, done, exception, cancelled"),
    ("n", "teaching scenarios: sensors, downloads, files, chain, futures, gather, limits, "
          "timeouts, blocking, race (C stops one)"),
    ("↑ ↓", "move in the task list (also PgUp, PgDn, Home, End)"),
    ("ctrl+p", "command palette: every action by name"),
    ("?", "this help"),
    ("q", "quit: cancels everything and returns to the shell"),
)


class HelpScreen(ModalScreen[None]):
    """Keys, spec language and the meaning of the figures."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "loopscope help"
            body.border_subtitle = "escape to close"
            yield Static(self._keys())
            yield Static(self._specs())
            yield Static(self._figures())

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, text in KEYS:
            table.add_row(key, text)
        return table

    def _specs(self) -> Text:
        text = Text("\nThe spec language", style="bold underline")
        text.append("\nKIND ARGS [xN] [key=value ...]; several specs separated by ';'\n", "")
        for kind in all_kinds():
            text.append(f"  {kind.usage}\n", "bold")
            text.append(f"      {kind.help}")
            if not kind.builtin:
                text.append(f"  (yours: {kind.source})", "italic")
            text.append("\n")
        return text

    def _figures(self) -> Text:
        return Text.from_markup(
            "[bold underline]The figures[/]\n"
            "[bold]pending[/] waiting for a slot (a connection, a worker) · [bold]running[/] "
            "doing its work · [bold]done[/] · [bold]exception[/] · [bold]cancelled[/]\n"
            "[bold]wall[/] first start to last finish.  [bold]sequential est.[/] the sum of "
            "task run times: an ESTIMATE that lies when tasks contend for the CPU (the GIL).\n"
            "[bold]meas.[/] after R: the same specs replayed one after another, timed."
        )
