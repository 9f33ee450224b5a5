"""A one-line command bar that takes the spec language, with errors shown inline.

It does not parse or launch anything itself: it posts ``Submitted`` with the text, and the
app answers with ``show_error`` or ``show_result``. A bad spec never closes the bar or the app.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static


class CommandBar(Vertical):
    """``:`` then a spec, enter to launch, escape to close."""

    BINDINGS = [Binding("escape", "close", "Close", id="command-bar.close")]

    DEFAULT_CSS = """
    CommandBar {
        height: auto;
        display: none;
        background: $panel;
        &.-open { display: block; }
        & > Input { border: none; height: 1; padding: 0 1; background: $panel; }
        & > Input:focus { border: none; }
        & > #command-message { height: auto; padding: 0 1; color: $text-muted; }
        & > #command-message.-error { color: $error; }
    }
    """

    class Submitted(Message):
        """The user pressed enter on a line of specs."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="spec, e.g. fetch /delay/300 x20 timeout=1; sleep 1 x5",
            id="command-input",
        )
        yield Static("", id="command-message")

    @property
    def input(self) -> Input:
        return self.query_one("#command-input", Input)

    @property
    def message(self) -> Static:
        return self.query_one("#command-message", Static)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self) -> None:
        self.add_class("-open")
        self.input.focus()

    def action_close(self) -> None:
        self.remove_class("-open")
        self.message.update("")
        self.screen.focus_next()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.Submitted(event.value))

    def show_error(
        self, message: str, position: int | None = None, word: str | None = None
    ) -> None:
        """Say what is wrong, pointing at the offending word when it is known."""
        text = Text("✗ ", style="bold")
        text.append(message)
        if position is not None and word:
            value = self.input.value
            pointer = Text("\n  ")
            pointer.append(value[:position], style="dim")
            pointer.append(value[position : position + len(word)], style="bold reverse")
            pointer.append(value[position + len(word) :], style="dim")
            text.append(pointer)
        self.message.add_class("-error")
        self.message.update(text)

    def show_result(self, message: str) -> None:
        self.message.remove_class("-error")
        self.message.update(f"✓ {message}")
        self.input.value = ""
