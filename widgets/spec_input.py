"""A one-line Input that never reorders or loses what the user types.

Textual inserts a printable key the moment the focused Input receives it, but runs a key's
*binding* (backspace, ``ctrl+u``, enter, ...) only after the key has bubbled up to the App and
come back. Typed fast (or pasted by a terminal without bracketed paste), the characters that
followed a binding key were inserted first: ``ctrl+u`` then typing then enter emptied the line
and launched nothing, and backspaces landed after the next character. Here every key that this
widget or one of its parents below the screen binds runs the moment it arrives, in order.

Enter clears the line at once (like a shell), so whatever is typed next starts the next line
even before the app has answered; :meth:`restore` puts a rejected line back.

A paste launches what was pasted when it ends in a newline. Several lines become one line of
specs joined by ``; ``: the spec language's own separator, so a pasted list of specs launches
as one batch.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input


def paste_as_line(text: str) -> tuple[str, bool]:
    """The one line a paste becomes, and whether it ends in a newline (then it is submitted)."""
    lines = [line.strip() for line in text.splitlines()]
    return "; ".join(line for line in lines if line), text.endswith(("\n", "\r"))


class SpecInput(Input):
    """An Input whose editing keys act in the order they were typed."""

    BINDINGS = [
        Binding("enter", "submit", "launch", show=False, id="command-bar.submit",
                tooltip="Launch the line; a paste ending in a newline launches at once"),
        Binding("ctrl+u", "delete_left_all", "clear line", show=False,
                id="command-bar.clear-line", tooltip="Clear the line left of the cursor"),
    ]

    def __init__(
        self,
        *,
        placeholder: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        # Selecting everything on focus would let the next key wipe a line the user was fixing
        # (focus comes back to the bar whenever a help or detail screen closes).
        super().__init__(
            placeholder=placeholder,
            select_on_focus=False,
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
        )

    async def _on_key(self, event: events.Key) -> None:
        # Textual then calls Input._on_key too (handlers run down the MRO) unless prevented.
        if self.screen.focused is not self:  # has_focus lags: it waits for the Blur event
            # Queued here before an earlier key (escape) moved the focus away: hand it back to
            # the app, in order, so ``escape s`` typed fast launches sleeps, not an "s" here.
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        if not event.is_printable and await self._run_binding_now(event.key):
            event.stop()
            event.prevent_default()

    async def _run_binding_now(self, key: str) -> bool:
        """Run the first binding for ``key`` on this widget or a parent below the screen."""
        node: DOMNode | None = self
        while node is not None and not isinstance(node, Screen):
            # textual has no public map of one node's own bindings (App dispatches from it)
            for binding in node._bindings.key_to_bindings.get(key, ()):  # noqa: SLF001
                # Priority bindings already ran at the App before the key reached us.
                if not binding.priority and await self.app.run_action(binding.action, node):
                    return True
            node = node.parent
        return False

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()  # Input._on_paste would insert the first line a second time
        line, submit = paste_as_line(event.text)
        if line:
            if self.selection.is_empty:
                self.insert_text_at_cursor(line)
            else:
                self.replace(line, *self.selection)
        if submit:
            self._submit_now()

    async def action_submit(self) -> None:
        """Hand the line over and start an empty one, before anything else is typed."""
        self._submit_now()

    def _submit_now(self) -> None:
        text = self.value
        self.value = ""
        self.post_message(self.Submitted(self, text))

    def restore(self, text: str, cursor: int | None = None) -> None:
        """Put back a line the app rejected, unless the user has started a new one since."""
        if self.value:
            return
        self.value = text
        self.cursor_position = len(text) if cursor is None else cursor
