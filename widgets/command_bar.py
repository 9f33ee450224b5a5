"""A one-line command bar that takes the spec language, with errors shown inline.

It does not parse or launch anything itself: it posts ``Submitted`` with the text, and the
app answers with ``show_error`` or ``show_result``. A bad spec never closes the bar or the app.
The line is typed into a :class:`SpecInput`, which keeps keys in the order they were typed and
empties itself on enter; a rejected line comes back for fixing.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from loopscope.widgets.spec_input import SpecInput


class CommandBar(Vertical):
    """``:`` then a spec, enter to launch, escape to close."""

    BINDINGS = [
        Binding("escape", "close", "close", id="command-bar.close",
                tooltip="Close the command bar; the keys work again"),
    ]

    DEFAULT_CSS = """
    CommandBar {
        height: auto;
        display: none;
        background: $panel;
        &.-open { display: block; }
        & > Input { border: none; height: 1; padding: 0 1; background: $panel; }
        & > Input:focus { border: none; }
        & > #command-message { height: auto; padding: 0 1; color: $text-muted; }
        & > #command-message.-empty { display: none; }
        & > #command-message.-error { color: $error; }
    }
    """

    class Submitted(Message):
        """The user pressed enter on a line of specs."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        yield SpecInput(
            placeholder="spec, e.g. fetch /delay/300 x20 timeout=1; sleep 1 x5  ·  set limit=5",
            id="command-input",
        )
        # hidden until it has something to say: no blank row under the line being typed
        yield Static("", id="command-message", classes="-empty")

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.submitted = ""
        """The last line handed to the app: errors point into it, not into the new line."""
        self._prefilled = False
        """The line was put there by ``open(text)`` (``L``): escape takes it away again, so
        the next ``:`` starts empty instead of appending to it."""

    @property
    def input(self) -> SpecInput:
        return self.query_one("#command-input", SpecInput)

    @property
    def message(self) -> Static:
        return self.query_one("#command-message", Static)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, text: str | None = None) -> None:
        """Show the bar and focus it; ``text`` replaces the line (cursor at its end)."""
        self.add_class("-open")
        if text is not None:
            self._prefilled = True
            self.input.value = text
            self.input.cursor_position = len(text)
        self.input.focus()

    def action_close(self) -> None:
        if self._prefilled:
            self._prefilled = False
            self.input.value = ""
        self.remove_class("-open")
        self.message.update("")
        self.message.add_class("-empty")
        self.screen.focus_next()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self._prefilled = False
            self.submitted = event.value
            self.post_message(self.Submitted(event.value))

    def show_error(
        self, message: str, position: int | None = None, word: str | None = None
    ) -> None:
        """Say what is wrong, pointing at the offending word when it is known.

        The rejected line comes back into the input for fixing (unless the user has already
        started typing another), with the cursor after the offending word.
        """
        value = self.submitted
        text = Text("✗ ", style="bold")
        text.append(message)
        cursor = None
        if position is not None and word:
            cursor = position + len(word)
            pointer = Text("\n  ")
            pointer.append(value[:position], style="dim")
            pointer.append(value[position : position + len(word)], style="bold reverse")
            pointer.append(value[position + len(word) :], style="dim")
            text.append(pointer)
        self.message.add_class("-error")
        self.message.remove_class("-empty")
        self.message.update(text)
        self.input.restore(value, cursor)

    def show_result(self, message: str) -> None:
        self.message.remove_class("-error", "-empty")
        self.message.update(f"✓ {message}")
