"""Every lag spike and warning of the watched program, each whole: the ``w`` pop-up's body.

The panel on the watch screen shows the newest events that fit; at 80x24 it has six rows, and
a spike blamed on a long path and a long task name needs more (its end, the task and the
probe's figure, was cut off). Here nothing is cut: each event wraps with its later rows
indented (``text_wrap.hanging``), the oldest first, and the pop-up scrolls.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from loopscope.tasks.watch.store import WatchStore
from loopscope.widgets.text_wrap import hanging
from loopscope.widgets.watch_events import event_texts


class WatchEventsWhole(Widget):
    """All the store's lag spikes and warnings, each wrapped whole, oldest first."""

    DEFAULT_CSS = """
    WatchEventsWhole {
        height: auto;
    }
    """

    def __init__(self, store: WatchStore, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None, disabled: bool = False) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.store = store
        self._version: object = None

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Text:
        return Text("\n").join(self.lines(self.content_size.width))

    def lines(self, width: int) -> list[Text]:
        """The rows at ``width``: every event, wrapped."""
        events = event_texts(self.store)
        if not events:
            return [Text("no lag spike or warning", style="dim")]
        return [row for text in events for row in hanging(text, width)]

    def sync(self) -> bool:
        """Redraw if events came since the last look; True if they did."""
        version = self.store.events_version
        if version == self._version:
            return False
        self._version = version
        self.refresh(layout=True)
        return True
