"""A Line-API list with a fixed header line: where its scrollbar goes, and how a row is
scrolled into view.

Both task lists (the dashboard's and the watch screen's) draw their header as line 0 of a
``ScrollView`` and their rows below it. Textual places the vertical scrollbar over the whole
height, so its thumb would sit on the header, and it only recomputes the scrollbar at the next
layout, so a list that just grew past the screen would refuse to scroll to its last row.
This base class deals with both, once.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.widget import Widget


class HeaderScrollView(ScrollView):
    """A ScrollView whose line 0 is a header that does not scroll."""

    def _arrange_scrollbars(self, region: Region) -> Iterable[tuple[Widget, Region]]:
        """The vertical scrollbar runs beside the rows only: the header does not scroll, so
        the thumb never sits on it (textual places the bar over the whole height)."""
        for widget, bar in super()._arrange_scrollbars(region):
            if widget is self.vertical_scrollbar and bar.height > 1:
                bar = Region(bar.x, bar.y + 1, bar.width, bar.height - 1)
                self.vertical_scrollbar.window_virtual_size = max(0, self.virtual_size.height - 1)
                self.vertical_scrollbar.window_size = bar.height
            yield widget, bar

    def scroll_row_into_view(self, row: int) -> None:
        """Scroll so that row ``row`` (0 is the first row under the header) is on screen."""
        height = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        # force: the scrollbars are recomputed only at the next layout; until then Textual
        # would refuse to scroll a list that just grew past the screen (the row hidden)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True, force=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True, force=True)
        else:
            return
        if not self.show_vertical_scrollbar:
            # the scrollbar appears at the next layout, with its thumb at the top: place it
            self.call_after_refresh(self._place_scrollbar_thumb)

    def _place_scrollbar_thumb(self) -> None:
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = self.scroll_y
