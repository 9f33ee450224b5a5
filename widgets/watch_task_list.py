"""Every task of the watched program, as a flat list or as a parent/child tree.

A Line-API list (a ScrollView whose ``render_line`` draws only the rows on screen) with a row
cache keyed by the task's snapshot: the agent replaces a snapshot when the task changes, so an
unchanged row is never drawn twice. ``sync()`` pulls the ids changed since the last call; the
flat order moves changed rows (``FlatOrder``), the tree is re-walked at most once a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from loopscope.tasks.agent.model import TaskSnapshot, TaskState
from loopscope.tasks.watch.store import WatchStore
from loopscope.widgets.watch_columns import (
    DESCENDING,
    SORT_ORDER,
    fit_location,
    layout,
    remember_locations,
)
from loopscope.widgets.watch_lanes import axis_text, fit, lane
from loopscope.widgets.watch_order import MOVE_AT_MOST, OrderUpkeep, kept_order
from loopscope.widgets.watch_row_styles import RowKind, RowLooks, RowStyles, row_styles
from loopscope.widgets.watch_rows import next_match, tree_rows

BIG = 5_000
"""Above this many rows a tree walk, or a re-sort for a batch of many changes, waits for every
tenth sync (~1 s)."""


class WatchTaskList(ScrollView, can_focus=True):
    """The watched program's tasks: sortable by any column, filtered by text, list or tree."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        # as on the dashboard's task list: n/N find the next/previous match, and belong to
        # the list only while there is something to match (the footer shows them then)
        Binding("n", "find(1)", "next", id="watch.find-next",
                tooltip="after a / filter: the next matching task (in the tree, matches are "
                "shown under their ancestors; n skips those)"),
        Binding("N", "find(-1)", "prev", id="watch.find-previous",
                tooltip="after a / filter: the previous matching task"),
    ]

    COMPONENT_CLASSES = {
        "watch-list--header",
        "watch-list--sorted",
        "watch-list--cursor",
        "watch-list--pending",
        "watch-list--ready",
        "watch-list--running",
        "watch-list--suspended",
        "watch-list--done",
        "watch-list--exception",
        "watch-list--cancelled",
        "watch-list--tree",
    }

    DEFAULT_CSS = """
    WatchTaskList {
        background: $surface;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        & > .watch-list--header { text-style: bold; color: $text-muted; }
        & > .watch-list--sorted { text-style: bold underline; color: $text; }
        & > .watch-list--cursor { background: $block-cursor-background; }
        &:focus > .watch-list--cursor { background: $block-cursor-background; text-style: bold; }
        & > .watch-list--pending { color: $text-muted; }
        & > .watch-list--ready { color: $text-warning; }
        & > .watch-list--running { color: $text-primary; text-style: bold; }
        & > .watch-list--suspended { color: $text-accent; }
        & > .watch-list--done { color: $text-success; }
        & > .watch-list--exception { color: $text-error; text-style: bold; }
        & > .watch-list--cancelled { color: $text-warning; }
        & > .watch-list--tree { color: $text-muted; }
    }
    """

    sort_key: reactive[str] = reactive("id")
    """The column the rows are sorted by."""
    sort_reverse: reactive[bool] = reactive(False)
    """Largest first."""
    filter_text: reactive[str] = reactive("")
    """Show only tasks whose name, coroutine, state or location contains this."""
    tree_view: reactive[bool] = reactive(False)
    """Parents with their children indented under them, instead of a flat list."""
    lanes: reactive[bool] = reactive(False)
    """A lane per row: the task's lifetime on the program's time axis."""

    class Selected(Message):
        """The user chose a task (enter or double click)."""

        def __init__(self, task_id: int) -> None:
            super().__init__()
            self.task_id = task_id

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
        self._rows: Sequence[int] = []
        self._depth: dict[int, int] = {}
        self._context_rows: set[int] = set()
        """Tree rows shown only as the ancestors of a match (drawn muted, skipped by n/N)."""
        self._version = -1
        self._structure = -1
        self._stale = True
        self._dirty = False
        """The tree must be walked again (held back while there are many rows)."""
        self._order = kept_order()  # every column in order, from many tasks on
        self._upkeep = OrderUpkeep(self._order, store.tasks, self._later)
        self._pending: set[int] = set()
        """Tasks changed since the flat order last took them in (held back while a batch is
        too large to move row by row)."""
        self._ticks = 0
        self._cursor = 0
        self._selected: int | None = None
        self._follow = False
        self._cache: LRUCache[int, tuple[TaskSnapshot, tuple[object, ...], Strip]] = LRUCache(2048)
        self._styles: dict[RowKind, RowStyles] = {}
        self._looks = RowLooks()
        self._axis: tuple[float, float] = (0.0, 1.0)
        """The time the lanes span: the agent's clock at the first batch and at the latest."""

    def _later(self, delay: float, callback: Callable[[], None]) -> None:
        _ = self.is_mounted and self.set_timer(delay, callback)

    # --- rendering ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._header(width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        task_id = self._rows[index]
        task = self.store.get(task_id)
        if task is None:
            return Strip.blank(width, self.rich_style)
        is_cursor = index == self._cursor
        depth = self._depth.get(task_id, 0) if self.tree_view else 0
        context = task_id in self._context_rows
        # focus styles only the cursor's row: another row drawn with or without it is the same
        key = (is_cursor, width, depth, is_cursor and self.has_focus,
               self._axis if self.lanes else None, context)
        cached = self._cache.get(task_id)
        # The snapshot itself, compared by identity: the cache holds it, so its memory cannot
        # be reused by a newer snapshot (an ``id()`` key could be, and then showed a stale row).
        if cached is not None and cached[0] is task and cached[1] == key:
            return cached[2]
        strip = self._render_row(task, width, is_cursor, depth)
        self._cache[task_id] = (task, key, strip)
        return strip

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("watch-list--header")
        sorted_style = self.get_component_rich_style("watch-list--sorted")
        segments = []
        for column, column_width in layout(width, lanes=self.lanes):
            if column.key == "lane":
                segments.append(Segment(axis_text(self._axis, self.store.spikes, column_width),
                                            style))
                segments.append(Segment(" ", style))
                continue
            title = column.title
            if column.key == self.sort_key:
                title += " ▼" if self.sort_reverse else " ▲"
            text = fit(title, column_width, column.right)
            segments.append(Segment(text, sorted_style if column.key == self.sort_key else style))
            segments.append(Segment(" ", style))
        return Strip(segments).adjust_cell_length(width, style).crop(0, width)

    def _render_row(self, task: TaskSnapshot, width: int, is_cursor: bool, depth: int) -> Strip:
        context = task.id in self._context_rows
        base, tree_style, state_style = row_styles(self, self._styles, is_cursor, context,
                                                  task.state)
        segments: list[Segment] = []
        for column, column_width in layout(width, lanes=self.lanes):
            if column.key == "lane":
                segments.extend(lane(task, self._axis, column_width, base, state_style))
                segments.append(Segment(" ", base))
                continue
            style: Style = base
            text = fit_location(task, column_width) if column.key == "where" else column.text(task)
            failed = task.state is TaskState.EXCEPTION
            if column.key == "state" or (column.key == "where" and failed):
                style = state_style
            if column.key == "name" and depth:
                indent = "  " * min(depth - 1, 8) + "└ "
                indent = indent[: max(0, column_width - 4)]
                segments.append(Segment(indent, tree_style))
                column_width -= cell_len(indent)
            segments.append(Segment(fit(text, column_width, column.right), style))
            segments.append(Segment(" ", base))
        # one segment per run of one style: fewer for every later pass (filters, the
        # compositor, the dimmed copy behind a pop-up) to walk
        return Strip(segments).adjust_cell_length(width, base).crop(0, width).simplify()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._looks.changed(self, self.COMPONENT_CLASSES):  # not for a move of focus
            self._cache.clear()
            self._styles.clear()

    # --- reactives --------------------------------------------------------------------------

    def _watch_sort_key(self) -> None:
        self._invalidate()

    def _watch_sort_reverse(self) -> None:
        self._invalidate()

    def _watch_filter_text(self) -> None:
        self._invalidate()
        self.refresh_bindings()  # n/N come and go with the filter

    def _watch_tree_view(self) -> None:
        self._invalidate()

    def _watch_lanes(self) -> None:
        self.refresh()

    def _invalidate(self) -> None:
        self._stale = True
        if self.is_mounted:
            self._rebuild()
            self._place_cursor()
            self.refresh()

    # --- keys -------------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + max(1, self.size.height - 2))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._rows) - 1)
        self._follow = True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Without a filter, ``n``/``N`` are not this list's (as on the dashboard's list)."""
        if action == "find":
            return bool(self.filter_text.strip())
        return True

    def action_find(self, step: int) -> None:
        """The next (1) or previous (-1) row that matches the filter, wrapping around."""
        context = self._context_rows
        index = next_match(self._rows, self._cursor, step, lambda i: i not in context)
        if index is None:
            self.notify(f"no task matches {self.filter_text.strip()!r}", severity="warning")
        else:
            self.move_cursor(index)

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = 0
            for column, column_width in layout(self.size.width, lanes=self.lanes):
                if x <= event.x < x + column_width + 1:
                    self.sort_by(column.key)
                    break
                x += column_width + 1
            return
        self.move_cursor(self.scroll_offset.y + event.y - 1)
        if event.chain == 2 and self._selected is not None:
            self.post_message(self.Selected(self._selected))

    # --- public -----------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def rows(self) -> Sequence[int]:
        """The task ids shown, in order (read only)."""
        return self._rows

    @property
    def synced_version(self) -> int:
        """The store version the list has taken in (tests wait for it to reach the store's)."""
        return self._version

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def selected_id(self) -> int | None:
        return self._selected

    @property
    def selected(self) -> TaskSnapshot | None:
        return None if self._selected is None else self.store.get(self._selected)

    def sort_by(self, key: str) -> None:
        """Sort by ``key``; the same key again flips the order."""
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            # the order first, quietly, then the key: one new order, not two
            self.set_reactive(WatchTaskList.sort_reverse, key in DESCENDING)
            self.sort_key = key

    def next_sort(self) -> None:
        """Sort by the next column (``s``, ``>``)."""
        self.step_sort(1)

    def step_sort(self, step: int) -> None:
        """Sort by the column ``step`` places on: ``>`` is +1, ``<`` is -1 (the dashboard's
        keys), each column in its natural order (largest first for times and counts)."""
        order = SORT_ORDER
        self.sort_by(order[(order.index(self.sort_key) + step) % len(order)])

    def move_cursor(self, row: int) -> None:
        row = max(0, min(row, len(self._rows) - 1))
        old = self._cursor
        self._cursor = row
        self._selected = self._rows[row] if self._rows else None
        self._follow = False
        self._scroll_to_cursor()
        if old != row:
            self.refresh()

    def select(self, task_id: int) -> bool:
        """Put the cursor on ``task_id`` if it is shown."""
        try:
            row = self._rows.index(task_id)
        except ValueError:
            return False
        self.move_cursor(row)
        return True

    def sync(self) -> None:
        """Pull what changed in the store and redraw the visible rows that changed."""
        store = self.store
        version, changed = store.changes_since(self._version)
        self._version = version
        self._ticks += 1
        if self.lanes:
            axis = (store.origin or 0.0, store.state.agent_time)
            if axis != self._axis:
                self._axis = axis
                self.refresh()  # every lane is drawn against the new span
        if changed:
            remember_locations(store.tasks, changed)
        if self.tree_view:
            self._order.take(store.tasks, changed)  # every column's order, whatever is shown
            self._sync_tree(changed)
        else:
            self._sync_flat(changed)
        self._upkeep.pulled()

    # --- internals --------------------------------------------------------------------------

    def _sync_tree(self, changed: list[int]) -> None:
        """The tree is walked again when a task came or went (at most once a second beyond
        ``BIG`` tasks); otherwise the same rows stay where they are and are redrawn."""
        if changed and self.store.structure_version != self._structure:
            self._dirty = True
        if self._stale or self._dirty:
            if len(self._rows) > BIG and not self._stale and self._ticks % 10:
                self._refresh_visible(changed)
                return  # many rows: re-walk once a second, redraw what is seen meanwhile
            self._rebuild()
            self._place_cursor()
            self.refresh()
        elif changed:
            self._refresh_visible(changed)

    def _sync_flat(self, changed: list[int]) -> None:
        """Changed rows move to their new places (``FlatOrder``); beyond ``BIG`` rows, a batch
        of changes too large to move row by row waits for a re-sort once a second."""
        pending = self._pending
        pending.update(changed)
        if self._stale:
            self._rebuild()
            self._place_cursor()
            self.refresh()
            return
        if not pending:
            return
        if (len(pending) > MOVE_AT_MOST and len(self._rows) > BIG and self._ticks % 10
                and not self._order.indexed):
            self._refresh_visible(changed)  # the columns' orders get these with the rest
            return
        top = self.scroll_offset.y
        seen = self._rows[top : top + self.size.height]
        moved = self._order.update(self.store.tasks, pending)
        pending.clear()
        if moved:
            self._rows = self._order.rows
            self.virtual_size = Size(self.size.width, len(self._rows) + 1)
            self._place_cursor(follow=True)
        now = self.scroll_offset.y
        if moved and (now != top or self._rows[now : now + self.size.height] != seen):
            self.refresh()  # rows on screen came, went or moved
        else:
            self._refresh_visible(changed)

    def _refresh_visible(self, changed: list[int]) -> None:
        """Redraw the rows on screen whose task changed, and only those lines."""
        top = self.scroll_offset.y
        visible = self._rows[top : top + self.size.height]
        if not visible:
            return
        changed_ids = set(changed)
        for offset, task_id in enumerate(visible):
            if task_id in changed_ids:
                self.refresh_line(top + offset + 1)  # the header is line 0

    def _rebuild(self) -> None:
        store = self.store
        self._stale = self._dirty = False
        self._structure = store.structure_version
        needle = self.filter_text.lower().strip()
        if self.tree_view:
            self._rows, self._depth, self._context_rows = tree_rows(store.tasks, store.children,
                                                                    needle)
            self._order.forget()  # not kept up to date meanwhile
        else:
            self._order.reset(store.tasks, self.sort_key, self.sort_reverse, needle,
                              changed=self._pending)
            self._rows = self._order.rows
            self._context_rows = set()
        self._pending.clear()
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)

    def _place_cursor(self, *, follow: bool = False) -> None:
        """Keep the selected task selected; pick the first row when there is none."""
        rows = self._rows
        if not rows:
            self._cursor, self._selected = 0, None
            return
        if follow and self._follow:
            self._cursor = len(rows) - 1
        elif self._selected is not None:
            if self.tree_view:
                index = rows.index(self._selected) if self._selected in rows else None
            else:  # a binary search in the order, not a walk through 100,000 rows
                index = self._order.index(self._selected)
            self._cursor = index if index is not None else min(self._cursor, len(rows) - 1)
        else:
            self._cursor = 0
        self._selected = rows[self._cursor]
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        height = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        row = self._cursor
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def iter_shown(self) -> Iterator[TaskSnapshot]:
        """The tasks shown, in order (for tests and the headless view)."""
        for task_id in self._rows:
            task = self.store.get(task_id)
            if task is not None:
                yield task
