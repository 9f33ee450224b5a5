"""The watch screen's pop-ups: one task in full, every lag spike and warning whole, and the keys
(generated from the bindings)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen

from loopscope.tasks.watch.store import WatchStore
from loopscope.widgets.notice_line import NoticeLine
from loopscope.widgets.prerendered_text import LinesByWidth, PrerenderedText
from loopscope.widgets.watch_detail import WatchDetail
from loopscope.widgets.watch_events_whole import WatchEventsWhole

KEY_NAMES = {
    "slash": "/", "question_mark": "?", "enter": "enter", "escape": "escape",
    "less_than_sign": "<", "greater_than_sign": ">",
}

KEYS_WIDTH = 14
"""The widest the help's key column grows (``click a header``)."""
HELP_MAX_WIDTH = 120
"""The help's box at most (``max-width`` of ``#watch-help-body`` in watch.tcss)."""
SCROLLBAR_WIDTH = 2
"""The help's vertical scrollbar, whose gutter it always keeps (watch.tcss)."""
EXTRA_HELP = (
    ("↑ ↓ PgUp PgDn Home End", "move in the list (End follows the newest task)"),
    ("click a header", "sort by that column; again to reverse"),
    ("tab", "move between the task list, the detail and the output"),
)

COLUMN_HELP = Text.from_markup(
    "\n[bold underline]The columns[/]\n"
    "[bold]state[/] pending (created, not yet run) · ready (scheduled, waiting for the loop) · "
    "running · suspended (awaiting something) · done · exception · cancelled\n"
    "[bold]busy[/] time in its own steps on the loop · [bold]sched[/] ready but waiting for the "
    "loop · [bold]idle[/] suspended · [bold]steps[/] how many times the loop ran it · "
    "[bold]longest[/] its longest step (the detail names the line)\n"
    "[bold]waits at / outcome[/] the innermost file:line it waits on and what it awaits; "
    "a finished task's result or exception, or the line it was cancelled at"
)


class WatchDetailScreen(ModalScreen[None]):
    """One watched task, full screen, still live."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="watch-detail.close")]

    def __init__(self, store: WatchStore, task_id: int) -> None:
        super().__init__()
        self.store = store
        self.task_id = task_id

    def compose(self) -> ComposeResult:
        detail = WatchDetail(self.store, id="watch-detail-full")
        detail.border_title = f"Task #{self.task_id}"
        detail.border_subtitle = "escape to close"
        yield detail
        yield NoticeLine()  # a message while this is open: below it, not over it

    def on_mount(self) -> None:
        self.query_one(WatchDetail).show(self.task_id)
        self.set_interval(0.1, self.query_one(WatchDetail).sync)


class WatchEventsScreen(ModalScreen[None]):
    """Every lag spike and warning whole, newest at the bottom, still live."""

    BINDINGS = [Binding("escape,q,w", "dismiss", "Close", id="watch-events.close")]

    def __init__(self, store: WatchStore) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="watch-events-full") as body:
            body.border_title = "Lag spikes & warnings"
            body.border_subtitle = "escape to close"
            yield WatchEventsWhole(self.store)
        yield NoticeLine()  # a message while this is open: below it, not over it

    def on_mount(self) -> None:
        self.query_one(WatchEventsWhole).sync()
        self.call_after_refresh(self._newest)
        self.set_interval(0.5, self._sync)

    def _sync(self) -> None:
        if self.query_one(WatchEventsWhole).sync():
            self.call_after_refresh(self._newest)

    def _newest(self) -> None:
        self.query_one("#watch-events-full", VerticalScroll).scroll_end(animate=False)


class WatchHelpScreen(ModalScreen[None]):
    """Every key of the watch screen, from its bindings, and what the columns mean."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="watch-help.close")]

    def __init__(self, text: LinesByWidth) -> None:
        super().__init__()
        self.text = text
        """The help's lines (``help_text``), rendered ahead of time for the width they need."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="watch-help-body") as body:
            body.border_title = "loopscope watch: keys"
            body.border_subtitle = "escape to close"
            yield PrerenderedText(self.text)
        yield NoticeLine()  # a message while this is open: below it, not over it


def help_text(bindings: Iterable[BindingType]) -> LinesByWidth:
    """The keys (from the bindings, each with its tooltip) and what the columns mean."""
    table = Table.grid(padding=(0, 2))
    # keys wrap past KEYS_WIDTH ("↑ ↓ PgUp PgDn" / "Home End"): one long name squeezed
    # every description at 80 columns
    table.add_column(style="bold", max_width=KEYS_WIDTH)
    table.add_column()
    for binding in bindings:
        if isinstance(binding, Binding):
            keys = " ".join(KEY_NAMES.get(k, k) for k in binding.key.split(","))
            table.add_row(keys, binding.tooltip or binding.description)
    for keys, text in EXTRA_HELP:
        table.add_row(keys, text)
    return LinesByWidth(Group(table, COLUMN_HELP))


def help_text_width(screen: Size) -> int:
    """The width the help's text gets on a screen of this size: the body's 90% (at most 120,
    watch.tcss) less its border, padding and the scrollbar's gutter, which it always keeps so
    that the width does not hang on the height."""
    body = min(screen.width * 9 // 10, HELP_MAX_WIDTH)
    return max(1, body - 2 - 2 - SCROLLBAR_WIDTH)
