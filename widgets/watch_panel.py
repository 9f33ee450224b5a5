"""The base of the watch screen's small text panels (events, executor jobs)."""

from __future__ import annotations

from textual.widget import Widget

from loopscope.tasks.watch.store import WatchStore


class WatchPanel(Widget):
    """A panel that renders lines from the watched program's store, cut at its edge."""

    DEFAULT_CSS = """
    WatchPanel {
        height: 1fr;
        overflow: hidden;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(
        self,
        store: WatchStore,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.store = store
        self._version: object = None
        self.ended = False
        """The program has ended: an empty panel says "none", not "none yet"."""
