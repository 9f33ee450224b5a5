"""The detail screen: one task's timings, error, traceback and result preview."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskRecord
from loopscope.widgets.notice_line import NoticeLine
from loopscope.widgets.task_detail import TaskDetail


class DetailScreen(ModalScreen[None]):
    """A modal over the dashboard; it follows the task live until it ends."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close", id="detail.close")]

    def __init__(self, manager: TaskManager, record: TaskRecord) -> None:
        super().__init__()
        self.manager = manager
        self.record = record

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
        self.set_interval(0.25, self.sample)

    def sample(self) -> None:
        """Where the task waits now (sampled only while this view is open), then redraw."""
        if not self.record.state.finished:
            self.manager.sample_insight([self.record.id])
        self.query_one(TaskDetail).sync()

    def sync(self, *, force: bool = False) -> None:
        """Show the task's latest state (tests and screenshots call every screen's sync)."""
        self.query_one(TaskDetail).sync()
