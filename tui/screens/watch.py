"""The watch screen: the user's own program, live.

Its tasks (a list or a parent/child tree, sorted by any column, filtered with ``/``), the
selected task in detail (await chain, source around the line it waits on), the program's
output, lag spikes blamed on a task and line, warnings, and how the program is doing or how it
exited. The screen stays after the program exits so the user can look at what happened.

Every widget pulls from the session's store on one 10 Hz timer inside ``app.batch_update()``;
no message is posted per task event. While the program streams thousands of changes a frame
costs tens of milliseconds, and the timer then skips pulls as ``FramePacer`` says: the screen
takes about a fifteenth of a core, and leaves the rest to the program it watches.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Size
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input

from loopscope.tasks.watch.output import ProgramOutput
from loopscope.tasks.watch.session import WatchSession
from loopscope.tasks.watch.store import CancelUnavailable
from loopscope.tui.frame_pacing import FramePacer
from loopscope.tui.screens.watch_modals import (
    WatchDetailScreen,
    WatchEventsScreen,
    WatchHelpScreen,
    help_text,
    help_text_width,
)
from loopscope.widgets.notice_line import NoticeLine
from loopscope.widgets.program_output import ProgramOutputView
from loopscope.widgets.watch_columns import COLUMNS
from loopscope.widgets.watch_detail import WatchDetail
from loopscope.widgets.watch_events import WatchEvents
from loopscope.widgets.watch_jobs import WatchJobs
from loopscope.widgets.watch_status import WatchStatus
from loopscope.widgets.watch_task_list import WatchTaskList

REFRESH_S = 0.1
WATCH_MAX_WAIT_S = 1.0
"""However costly its frames, the watch screen shows what changed at least once a second."""
HELP_SCREEN = "watch-help"
HELP_AHEAD_S = 1.0
"""After the first frame (and after a resize settles), the help's text is rendered for the
screen's width this much later, in one go, so the first ``?`` only looks it up."""


class WatchScreen(Screen[None]):
    """A watched program's tasks, output, lag and warnings on one screen."""

    BINDINGS = [
        # priority: the app runs it before it hands on the keys typed right after it, so
        # "/work" typed fast lands whole in the filter box
        Binding("slash", "filter", "filter", id="watch.filter", priority=True,
                tooltip="filter by name, coroutine, state or file:line; enter keeps it, "
                "escape clears it"),
        # the dashboard's sort keys (< > I), and s / S as before
        Binding("less_than_sign", "sort_step(-1)", "sort ◀", id="watch.sort-left", show=False,
                tooltip="sort by the previous column (as on the dashboard)"),
        Binding("greater_than_sign", "sort_step(1)", "sort ▶", id="watch.sort-right",
                show=False, tooltip="sort by the next column (as on the dashboard)"),
        Binding("I", "reverse", "invert sort", id="watch.sort-invert", show=False,
                tooltip="invert the sort order (as on the dashboard)"),
        Binding("s", "sort", "sort", id="watch.sort", tooltip="sort by the next column (like >)"),
        Binding("S", "reverse", "reverse", id="watch.reverse", show=False,
                tooltip="reverse the order (like I)"),
        Binding("t", "tree", "tree", id="watch.tree",
                tooltip="the task tree: each task under the task that created it"),
        Binding("enter", "details", "details", id="watch.details", show=False,
                tooltip="the selected task full screen, still live"),
        Binding("c", "cancel", "cancel task", id="watch.cancel",
                tooltip="cancel the selected task in the watched program"),
        Binding("L", "lanes", "lanes", id="watch.lanes",
                tooltip="lanes: each task's lifetime on the program's time axis, ! where the "
                "loop was held"),
        Binding("w", "events", "spikes", id="watch.events", show=False,
                tooltip="every lag spike and warning whole, newest last (the panel shows "
                "the newest that fit, and says w when one is cut)"),
        Binding("J", "jobs", "jobs", id="watch.jobs", show=False,
                tooltip="executor jobs (run_in_executor) in place of lag & warnings, and back"),
        Binding("o", "focus_output", "output", id="watch.output", show=False,
                tooltip="move to the program's output (end follows the newest line)"),
        Binding("escape", "back", "back", id="watch.back", show=False,
                tooltip="clear the filter"),
        Binding("question_mark", "help", "help", id="watch.help", tooltip="this help"),
        Binding("q", "app.quit", "quit", id="watch.quit",
                tooltip="quit: stops the program loopscope started (SIGINT, SIGTERM, SIGKILL); "
                "attached, only detaches"),
    ]

    def __init__(self, session: WatchSession) -> None:
        super().__init__()
        self.session = session
        self.pacer = FramePacer(max_wait=WATCH_MAX_WAIT_S)
        """When the timer's next pull is due, from what the last frame cost."""
        self._titles: dict[tuple[str, str], str] = {}
        """The border titles as last set (by widget id and which border)."""
        # the list's own keys with an id (n/N) go right after the filter they belong to
        own = [b for b in WatchTaskList.BINDINGS if isinstance(b, Binding) and b.id]
        self.help_text = help_text([self.BINDINGS[0], *own, *self.BINDINGS[1:]])
        """The ``?`` screen's text, rendered per width ahead of time (``prepare_help``)."""
        self._help_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        session = self.session
        store = session.store
        with Horizontal(id="watch-top"):
            tasks = WatchTaskList(store, id="watch-tasks")
            tasks.border_title = "Tasks"
            yield tasks
            detail = WatchDetail(store, id="watch-detail")
            detail.border_title = "Task"
            yield detail
        with Horizontal(id="watch-bottom"):
            output = ProgramOutputView(
                session.program.output if session.program is not None else _no_output(),
                id="watch-output",
            )
            output.border_title = "Output"
            yield output
            events = WatchEvents(store, id="watch-events")
            events.border_title = "Lag & warnings"
            yield events
            jobs = WatchJobs(store, id="watch-jobs")
            jobs.border_title = "Executor jobs"
            yield jobs
        yield Input(placeholder="filter: name, coroutine, state or file:line — "
                    "enter keeps it, escape clears", id="watch-filter")
        yield WatchStatus(store, session.program, label=session.label, id="watch-status")
        yield Footer(compact=True, show_command_palette=False)
        yield NoticeLine(id="notice")  # messages, in the footer's place (tui/notices.py)

    def on_mount(self) -> None:
        self.query_one(WatchTaskList).focus()
        self.sync()
        self.set_interval(REFRESH_S, self._pull)
        self.call_after_refresh(self._prepare_help_later)

    def on_resize(self) -> None:
        self._prepare_help_later()

    def _prepare_help_later(self) -> None:
        """One timer, not one per resize event: a window dragged wider sends dozens."""
        if self._help_timer is not None:
            self._help_timer.stop()
        self._help_timer = self.set_timer(HELP_AHEAD_S, self.prepare_help)

    def prepare_help(self) -> None:
        """Build the help screen and render its text for this screen's width now, if they are
        not yet: a one-off (15-30 ms here) while the user is not pressing ``?``, instead of
        at the key (the first ``?`` took 100-130 ms at 100,000 tasks, later ones 30 ms)."""
        self._help_timer = None
        width = help_text_width(self.app.size)
        if not self.help_text.has(width):
            self.help_text.at(width, self.app.console)
        if not self.app.is_screen_installed(HELP_SCREEN):
            self.app.install_screen(WatchHelpScreen(self.help_text), HELP_SCREEN)
            # Compose and style it now, off the screen stack: Textual does this for an
            # installed screen when it is first pushed (``App._get_screen``, Textual 8.2.8).
            # Without that private method it is built at the first ``?``, as before.
            get_screen = getattr(self.app, "_get_screen", None)
            if callable(get_screen):
                get_screen(HELP_SCREEN)

    def _pull(self) -> None:
        """The timer's pull, when the pacer says a frame is due."""
        pacer = self.pacer
        start = pacer.clock()
        if pacer.due(start):
            self.sync()
            pacer.pulled(start)

    # Textual's own drawing passes, timed so the pull can pace itself (see _pull).
    def _compositor_refresh(self) -> None:
        self.pacer.timed_draw(super()._compositor_refresh)

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        self.pacer.timed_draw(lambda: super(WatchScreen, self)._refresh_layout(size, scroll))

    def sync(self) -> None:
        """Pull the store's changes into every widget, as one screen update."""
        with self.app.batch_update():
            tasks = self.query_one(WatchTaskList)
            tasks.sync()
            detail = self.query_one(WatchDetail)
            if detail.task_id == tasks.selected_id:
                detail.sync()
            self._show_view(tasks)
            self.query_one(ProgramOutputView).sync()
            ended = self.session.ended
            events = self.query_one(WatchEvents)
            events.ended = ended
            events.sync()
            jobs = self.query_one(WatchJobs)
            jobs.ended = ended
            jobs.sync()
            self.query_one(WatchStatus).sync()

    def _show_view(self, tasks: WatchTaskList | None = None) -> None:
        """The list's titles and the detail of its selected task, after the list changed (a
        sort or filter key: the rest of the screen waits for its next pull, a tenth of a
        second while the program is quiet, so the key's answer is drawn at once)."""
        if tasks is None:
            tasks = self.query_one(WatchTaskList)
        total = len(self.session.store.tasks)
        shown = tasks.row_count
        title = "Task tree" if tasks.tree_view else "Tasks"
        self._title(tasks, "border_title", f"{title} {total:,}" if shown == total
                    else f"{title} {shown:,} of {total:,}")
        self._title(tasks, "border_subtitle", self._view_text(tasks))
        detail = self.query_one(WatchDetail)
        if detail.task_id != tasks.selected_id:
            detail.show(tasks.selected_id)
        self._title(detail, "border_title",
                    "Task" if tasks.selected_id is None else f"Task #{tasks.selected_id}")

    def _title(self, widget: Widget, which: str, text: str) -> None:
        """Set a border title or subtitle only when it changed: every assignment repaints the
        whole widget (ten times a second the list's 50 rows and the detail, for nothing)."""
        key = (widget.id or "", which)
        if self._titles.get(key) != text:
            self._titles[key] = text
            setattr(widget, which, text)

    def _view_text(self, tasks: WatchTaskList) -> str:
        order = "▼" if tasks.sort_reverse else "▲"
        text = f"sorted by {COLUMNS[tasks.sort_key].title} {order}"
        if tasks.filter_text:
            text += f" · filter “{tasks.filter_text}”"
        return text

    # --- actions -------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#watch-filter", Input)
        if box.has_focus:  # a "/" inside the filter text, e.g. a path
            box.insert_text_at_cursor("/")
            return
        box.add_class("-open")
        box.value = self.query_one(WatchTaskList).filter_text
        self.set_focus(box)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "watch-filter":
            self.query_one(WatchTaskList).filter_text = event.value
            self._show_view()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "watch-filter":
            self._close_filter()

    def _close_filter(self) -> None:
        self.query_one("#watch-filter", Input).remove_class("-open")
        self.query_one(WatchTaskList).focus()

    def action_back(self) -> None:
        """Escape: close and clear the filter."""
        box = self.query_one("#watch-filter", Input)
        tasks = self.query_one(WatchTaskList)
        if box.has_class("-open") or tasks.filter_text:
            box.value = ""
            tasks.filter_text = ""
            self._close_filter()
            self._show_view()

    def action_sort(self) -> None:
        self.query_one(WatchTaskList).next_sort()
        self._show_view()

    def action_sort_step(self, step: int) -> None:
        self.query_one(WatchTaskList).step_sort(step)
        self._show_view()

    def action_reverse(self) -> None:
        tasks = self.query_one(WatchTaskList)
        tasks.sort_reverse = not tasks.sort_reverse
        self._show_view()

    def action_tree(self) -> None:
        tasks = self.query_one(WatchTaskList)
        tasks.tree_view = not tasks.tree_view
        self._show_view()

    def action_details(self) -> None:
        task_id = self.query_one(WatchTaskList).selected_id
        if task_id is not None:
            self.app.push_screen(WatchDetailScreen(self.session.store, task_id))

    def on_watch_task_list_selected(self, event: WatchTaskList.Selected) -> None:
        self.app.push_screen(WatchDetailScreen(self.session.store, event.task_id))

    def action_cancel(self) -> None:
        task = self.query_one(WatchTaskList).selected
        if task is None:
            self.notify("no task selected", severity="warning")
            return
        if task.state.finished:
            self.notify(f"task #{task.id} {task.name} has already ended ({task.state})")
            return
        try:
            self.session.store.cancel(task.id)
        except CancelUnavailable as error:
            self.notify(str(error), severity="warning")
        else:
            self.notify(f"asked the program to cancel task #{task.id} {task.name}", timeout=3)

    def action_lanes(self) -> None:
        tasks = self.query_one(WatchTaskList)
        tasks.lanes = not tasks.lanes
        self.sync()  # the lanes' time axis too

    def action_events(self) -> None:
        self.app.push_screen(WatchEventsScreen(self.session.store))

    def action_jobs(self) -> None:
        self.query_one(WatchEvents).toggle_class("-hidden")
        self.query_one(WatchJobs).toggle_class("-shown")

    def action_focus_output(self) -> None:
        self.query_one(ProgramOutputView).focus()

    def action_help(self) -> None:
        # Installed once and kept (built ahead of the key by ``prepare_help``): opened again,
        # it is shown as it was laid out and drawn, not built anew.
        if not self.app.is_screen_installed(HELP_SCREEN):
            self.app.install_screen(WatchHelpScreen(self.help_text), HELP_SCREEN)
        self.app.push_screen(HELP_SCREEN)


def _no_output() -> ProgramOutput:
    output = ProgramOutput()
    output.note("attached: the program's output stays where it was started")
    return output
