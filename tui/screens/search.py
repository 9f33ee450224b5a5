"""The ``/`` prompt: text to find in the task list (``n``/``N`` then step through matches)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input


class SearchScreen(ModalScreen[str | None]):
    """A one-line prompt at the bottom of the screen; enter finds, escape (or an empty
    search) clears the search."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", id="search.close")]

    DEFAULT_CSS = """
    SearchScreen {
        align: left bottom;
        background: transparent;
    }
    SearchScreen > Input {
        width: 100%;
        margin: 0 0 1 0;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Input(self.text, placeholder="find in tasks: id, kind, target, state, result…",
                    id="search-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
