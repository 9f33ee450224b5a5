"""The process's own figures and the event loop's lag, with a sparkline and the last spike.

A spike names the task that blocked the loop when the engine knows it (a ``block`` task, a
launch of thousands of tasks): the question "where is my loop stuck?" answered on screen.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.units import human_bytes

SPARK_SAMPLES = 120


class SystemPanel(Vertical):
    """psutil figures for this process and the machine; event-loop lag over the last seconds."""

    DEFAULT_CSS = """
    SystemPanel {
        height: auto;
        & > .figures { height: 1; }
        & > Horizontal { height: 1; }
        & > Horizontal > #lag-line { width: auto; }
        & > Horizontal > Sparkline { width: 1fr; height: 1; margin: 0 0 0 1; }
        & > #spike { height: auto; max-height: 2; color: $text-muted; }
        & > #spike.-spiked { color: $text-error; }
    }
    """

    def __init__(
        self,
        manager: TaskManager,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.manager = manager
        self._key: tuple[int, int, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="figures", classes="figures")
        yield Static(id="figures-more", classes="figures")
        with Horizontal():
            yield Static(id="lag-line")
            yield Sparkline([], id="lag-spark")
        yield Static("no lag spike yet", id="spike")

    def sync(self) -> None:
        manager = self.manager
        key = (manager.process.version, manager.lag.version, len(manager.lag.spikes))
        if key == self._key:
            return
        self._key = key
        first, second = self._figures()
        self.query_one("#figures", Static).update(first)
        self.query_one("#figures-more", Static).update(second)
        stats = manager.lag.stats()
        self.query_one("#lag-line", Static).update(
            Text.assemble(("lag p99 ", "dim"), f"{stats.p99_ms:.1f} ms")
        )
        self.query_one("#lag-spark", Sparkline).data = manager.lag.recent(SPARK_SAMPLES) or [0.0]
        spike = manager.lag.spikes[-1] if manager.lag.spikes else None
        if spike is not None:
            self.query_one("#spike", Static).add_class("-spiked")
            culprit = spike.culprit or "cause unknown (not a loopscope task)"
            self.query_one("#spike", Static).update(
                Text.assemble(("spike ", "bold"), f"{spike.lag_ms:,.0f} ms: {culprit}")
            )

    def _figures(self) -> tuple[Text, Text]:
        snapshot = self.manager.process.latest
        if snapshot is None:
            return Text("process: measuring…", style="dim"), Text("")
        return (
            Text.assemble(
                ("cpu ", "dim"), f"{snapshot.cpu_percent:.0f}%",
                ("  rss ", "dim"), human_bytes(snapshot.rss_bytes),
                ("  thr ", "dim"), str(snapshot.threads),
                ("  fds ", "dim"), str(snapshot.open_fds),
            ),
            Text.assemble(
                ("conns ", "dim"), str(snapshot.connections),
                ("  procs ", "dim"), str(snapshot.children),
                ("  sys cpu ", "dim"), f"{snapshot.system_cpu_percent:.0f}%",
                ("  mem ", "dim"), f"{snapshot.system_memory_percent:.0f}%",
            ),
        )
