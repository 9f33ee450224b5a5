"""The styles of one kind of row of the watch list (its base, its tree guides, its state),
looked up once per kind: each lookup walks the CSS, and a re-sorted screen draws 50 rows."""

from __future__ import annotations

from collections.abc import Iterable

from rich.style import Style
from textual.widget import Widget

from loopscope.tasks.agent.model import TaskState

RowStyles = tuple[Style, Style, Style]
"""A row's base, tree and state styles."""
RowKind = tuple[bool, bool, bool, TaskState]
"""(the list has focus, the row is the cursor's, the row is only context, its state)."""


def row_styles(widget: Widget, cache: dict[RowKind, RowStyles], is_cursor: bool,
               context: bool, state: TaskState) -> RowStyles:
    """The styles of a row of ``widget`` (the watch list), from ``cache`` or looked up once
    into it; the widget forgets its cache on a style update."""
    key = (widget.has_focus, is_cursor, context, state)
    styles = cache.get(key)
    if styles is None:
        base = widget.rich_style
        if is_cursor:
            base = base + widget.get_component_rich_style("watch-list--cursor")
        tree_style = base + widget.get_component_rich_style("watch-list--tree")
        if context:  # an ancestor of a match, not a match: muted throughout
            base = tree_style
        state_style = base + widget.get_component_rich_style(f"watch-list--{state.value}")
        if context:
            state_style = tree_style
        styles = cache[key] = (base, tree_style, state_style)
    return styles


CURSOR = "watch-list--cursor"


class RowLooks:
    """What a list's rows were drawn with: its own style and its components'. Focus moving
    to the filter box restyles the list (its border only): ``changed`` then says the rows
    drawn can stay (all 50 were drawn again for ``/``). The cursor's style depends on focus,
    and its rows and styles are kept by focus: it is compared with how it looked the last
    time the list had (or lacked) focus."""

    def __init__(self) -> None:
        self._rows: tuple[Style, ...] = ()
        self._cursor: dict[bool, Style] = {}

    def changed(self, widget: Widget, components: Iterable[str]) -> bool:
        """True when rows drawn before this style update look different now."""
        try:
            rows = (widget.rich_style, *(widget.get_component_rich_style(name, partial=True)
                                         for name in sorted(set(components) - {CURSOR})))
            cursor = widget.get_component_rich_style(CURSOR, partial=True)
        except KeyError:  # not styled yet (mounting)
            return True
        was = self._cursor.get(widget.has_focus, cursor)
        self._cursor[widget.has_focus] = cursor
        if rows == self._rows and cursor == was:
            return False
        self._rows = rows
        self._cursor = {widget.has_focus: cursor}
        return True
