"""Every key of the dashboard, read from the bindings themselves.

The ``?`` help screen, the command palette and the README's keys table are generated here from
the ``BINDINGS`` lists (each binding carries an id, a footer word and a sentence in its
tooltip), so none of them can drift from what the keys do. Model: darrenburns/posting's
help_screen.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.keys import format_key

from loopscope.widgets.command_bar import CommandBar
from loopscope.widgets.spec_input import SpecInput
from loopscope.widgets.task_list import TaskList


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One binding as a person reads it."""

    keys: str
    """As typed: ``f``, ``+ =``, ``ctrl+l``, ``↑ k``."""
    label: str
    """The footer's word."""
    text: str
    """The sentence for the help screen and the palette."""
    action: str
    id: str | None


KeySection = tuple[str, Sequence[KeyHelp]]
"""A titled group of keys on the help screen."""


NAMES = {
    "up": "↑", "down": "↓", "pageup": "PgUp", "pagedown": "PgDn", "home": "Home", "end": "End",
    "escape": "esc", "enter": "enter",
}
"""Keys shown as people name them (Textual would show enter as ⏎)."""


def show_keys(keys: str) -> str:
    """``"plus,equals_sign"`` → ``"+ ="``; ``"ctrl+l"`` stays ``"ctrl+l"``; ``"up"`` → ``"↑"``."""
    shown = []
    for key in keys.split(","):
        *modifiers, name = key.strip().split("+")
        name = NAMES.get(name) or format_key(name)
        shown.append("+".join([*modifiers, name]))
    return " ".join(shown)


def as_binding(binding: BindingType) -> Binding:
    if isinstance(binding, Binding):
        return binding
    key, action, *rest = binding
    return Binding(key, action, rest[0] if rest else "")


def key_help(bindings: Iterable[BindingType]) -> list[KeyHelp]:
    """The bindings a person can use (not system ones), in the order they are declared."""
    rows = []
    for binding in map(as_binding, bindings):
        if binding.system:
            continue
        rows.append(
            KeyHelp(
                keys=show_keys(binding.key_display or binding.key),
                label=binding.description,
                text=binding.tooltip or binding.description,
                action=binding.action,
                id=binding.id,
            )
        )
    return rows


def markdown_table(sections: Sequence[KeySection]) -> str:
    """The README's keys table: one row per key, every section in turn."""
    lines = ["| key | where | does |", "|---|---|---|"]
    for title, rows in sections:
        for row in rows:
            keys = " ".join(f"`{key}`" for key in row.keys.split(" "))
            lines.append(f"| {keys} | {title.lower()} | {row.text} |")
    return "\n".join(lines)


PALETTE = Binding(
    App.COMMAND_PALETTE_BINDING,
    "app.command_palette",
    "palette",
    tooltip="Command palette: every action by name",
)


def dashboard_sections(screen: type[DOMNode]) -> list[KeySection]:
    """Every key of the dashboard ``screen``, grouped where it works."""
    return [
        ("Dashboard", key_help(screen.BINDINGS)),
        ("Task list", key_help(TaskList.BINDINGS)),
        ("Command bar", key_help([*SpecInput.BINDINGS, *CommandBar.BINDINGS])),
        ("Anywhere", key_help([PALETTE, *App.BINDINGS])),
    ]


if __name__ == "__main__":  # the README's keys table: python -m loopscope.tui.keymap
    from loopscope.tui.screens.main import MainScreen

    print(markdown_table(dashboard_sections(MainScreen)))
