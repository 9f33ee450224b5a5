"""The footer: every key when the screen is wide enough for all of them, the most used when not.

Textual's Footer shows every binding marked ``show`` and lets the rest scroll out of sight; at
80 columns that cut the keys people need most (quit, help) off the right edge. This footer
measures what it would show: if everything fits it shows everything, otherwise only the
bindings whose id is in ``essential``. Bindings sharing a ``Binding.Group`` are drawn as one
item (``f r s t p x b launch``), which is how every key fits at 160 columns.
"""

from __future__ import annotations

from itertools import groupby

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.keys import format_key, key_to_character
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

Item = tuple[Binding, bool, str]
"""A binding, whether it is enabled now, and its tooltip."""


def _character(key: str) -> str | None:
    """The character a key types, if any (Textual's key_to_character misses ``plus``)."""
    character = key_to_character(key)
    if character is None:
        shown = format_key(key)
        character = shown if len(shown) == 1 else None
    return character


class KeyFooter(Footer):
    """A compact footer that falls back to the essential keys when all of them do not fit."""

    DEFAULT_CSS = """
    KeyFooter.-compact {
        KeyGroup.-compact { margin: 0; padding-left: 0; }
        KeyGroup.-compact FooterKey.-grouped { margin: 0 1 0 0; }
        FooterLabel { margin: 0 1 0 0; }
    }
    """

    def __init__(
        self,
        *,
        essential: frozenset[str] = frozenset(),
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
            show_command_palette=False,
            compact=True,
        )
        self.essential = essential
        """Ids of the bindings kept when not every key fits."""
        self._showing_all: bool | None = None

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        items = self._items()
        self._showing_all = self._width_of(items) <= self._available()
        if not self._showing_all:
            items = [item for item in items if item[0].id in self.essential]
        for group, grouped in groupby(items, lambda item: item[0].group):
            members = list(grouped)
            if group is not None and len(members) > 1:
                with KeyGroup(classes="-compact"):
                    for binding, enabled, tooltip in members:
                        yield self._key(binding, enabled, tooltip, "", "-grouped")
                yield FooterLabel(group.description)
            else:
                for binding, enabled, tooltip in members:
                    yield self._key(binding, enabled, tooltip, binding.description)

    def _key(
        self, binding: Binding, enabled: bool, tooltip: str, description: str, classes: str = ""
    ) -> FooterKey:
        return FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            description,
            binding.action,
            disabled=not enabled,
            tooltip=tooltip or binding.tooltip or binding.description,
            classes=classes,
        ).data_bind(compact=Footer.compact)

    def _items(self) -> list[Item]:
        """The bindings to show, one per action, in the order they are declared."""
        items: list[Item] = []
        actions: set[str] = set()
        focused = self.screen.focused
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if focused is not None and focused.check_consume_key(
                binding.key, _character(binding.key)
            ):
                continue  # typed into the focused input (``-`` in the command bar), not a key
            if binding.show and binding.action not in actions:
                actions.add(binding.action)
                items.append((binding, enabled, tooltip))
        return items

    def _width_of(self, items: list[Item]) -> int:
        """Columns the items take, as compose lays them out (key, space, label, margin)."""
        width = 0
        for group, grouped in groupby(items, lambda item: item[0].group):
            members = list(grouped)
            if group is not None and len(members) > 1:
                width += sum(cell_len(self.app.get_key_display(b)) + 1 for b, _, _ in members)
                width += cell_len(group.description) + 1
            else:
                width += sum(
                    cell_len(self.app.get_key_display(b)) + 1 + cell_len(b.description) + 1
                    for b, _, _ in members
                )
        return width

    def _available(self) -> int:
        return self.size.width or self.app.size.width

    def _on_resize(self, event: events.Resize) -> None:
        if self._showing_all is not None:
            fits = self._width_of(self._items()) <= event.size.width
            if fits != self._showing_all:
                self.call_after_refresh(self.recompose)

    def shows_every_key(self) -> bool:
        """True when every binding marked ``show`` is in the footer now."""
        return bool(self._showing_all)
