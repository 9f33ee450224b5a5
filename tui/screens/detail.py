"""The detail screen: one task's timings, error, traceback and result preview."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.timer import Timer

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskRecord
from loopscope.widgets.notice_line import NoticeLine
from loopscope.widgets.task_detail import TaskDetail

SAMPLE_S = 0.25
"""How often the view samples a live task (where it waits, its timings)."""


class DetailScreen(ModalScreen[None]):
    """A modal over the dashboard; it follows the task live until it ends."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="detail.close")]

    def __init__(self, manager: TaskManager, record: TaskRecord) -> None:
        super().__init__()
        self.manager = manager
        self.record = record
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        batch = self.manager.batches.get(self.record.batch_id)
        origin = batch.created if batch is not None else self.record.created
        detail = TaskDetail(self.record, clock=self.manager.clock, origin=origin, id="detail")
        detail.border_title = f"task #{self.record.id}: {self.record.kind} {self.record.target}"
        detail.border_subtitle = "escape to close"
        yield detail
        yield NoticeLine()  # a message while this is open: below it, not over it

    def on_mount(self) -> None:
        self.sample()
        if not self.record.state.finished:
            self._timer = self.set_interval(SAMPLE_S, self.sample)

    @property
    def following(self) -> bool:
        """Whether the view still samples its task (it stops once the task has ended)."""
        return self._timer is not None

    def sample(self) -> None:
        """Where the task waits now (sampled only while this view is open), then redraw.
        Once the task has ended and its last state is drawn, the timer stops: an ended task
        changes no more, and an open view must not keep an idle dashboard awake."""
        finished = self.record.state.finished
        if not finished:
            self.manager.sample_insight([self.record.id])
        self.query_one(TaskDetail).sync()
        if finished and self._timer is not None:
            self._timer.stop()
            self._timer = None

    def sync(self, *, force: bool = False) -> None:
        """Show the task's latest state (tests and screenshots call every screen's sync)."""
        self.query_one(TaskDetail).sync()
