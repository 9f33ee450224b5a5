"""The ``?`` screen: every key, the spec language, and what the figures mean.

The keys are not written here: the screen that opens help passes its key sections, generated
from the bindings (tui/keymap.py), so help cannot describe a key that does something else.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from loopscope.tasks.kinds.registry import all_kinds
from loopscope.tui.keymap import KeySection
from loopscope.widgets.notice_line import NoticeLine


class HelpScreen(ModalScreen[None]):
    """Keys, spec language and the meaning of the figures."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close"),
    ]

    def __init__(self, sections: Sequence[KeySection] = ()) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "loopscope help"
            body.border_subtitle = "escape to close"
            yield Static(self._keys())
            yield Static(self._specs())
            yield Static(self._figures())
        yield NoticeLine()  # a message while this is open: below it, not over it

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for number, (title, rows) in enumerate(self.sections):
            if number:
                table.add_row("", "")
            table.add_row(Text(title, style="bold underline"), "")
            for row in rows:
                table.add_row(row.keys, row.text)
        return table

    def _specs(self) -> Group:
        """Each kind's usage, and under it its description with a hanging indent: wrapped at
        80 columns, the description's later lines keep its indent."""
        parts: list[RenderableType] = [
            Text("\nThe spec language", style="bold underline"),
            Text("KIND ARGS [xN] [key=value ...]; several specs separated by ';'"),
        ]
        for kind in all_kinds():
            parts.append(Padding(Text(kind.usage, "bold"), (0, 0, 0, 2)))
            about = Text(kind.help)
            if not kind.builtin:
                about.append(f"  (yours: {kind.source})", "italic")
            parts.append(Padding(about, (0, 0, 0, 6)))
        parts.append(Text(""))
        return Group(*parts)

    def _figures(self) -> Text:
        return Text.from_markup(
            "[bold underline]The figures[/]\n"
            "[bold]pending[/] waiting for a slot (a connection, a worker) · [bold]running[/] "
            "doing its work · [bold]done[/] · [bold]exception[/] · [bold]cancelled[/]\n"
            "[bold]wall[/] from the launch to the last finish.  [bold]sequential est.[/] the sum "
            "of task run times: an ESTIMATE that lies when tasks contend for the CPU (the GIL).\n"
            "[bold]meas.[/] after R: the same specs replayed one after another, timed.\n"
            "[bold]busy[/] time in its own steps on the loop · [bold]steps[/] how many times the "
            "loop ran it: both [bold]—[/] (not measured) unless started with --step-timing.  "
            "[bold]waits at[/] the line a live task is suspended on and what it awaits."
        )
