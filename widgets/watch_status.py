"""One line about the watched program: is it running or how it exited, its tasks by state,
and the link to its agent. Attached (no program of ours), the agent's own status says it."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from loopscope.tasks.agent.model import ProgramState as AgentProgramState
from loopscope.tasks.agent.model import TaskState
from loopscope.tasks.watch.store import WatchStore
from loopscope.tasks.watch.supervisor import ProgramState, ProgramSupervisor

STATE_STYLES = {
    "running": "bold",
    "suspended": "",
    "ready": "yellow",
    "pending": "dim",
    "done": "green",
    "exception": "bold red",
    "cancelled": "yellow",
}

SHORT_NAMES = {
    "running": "run", "suspended": "susp", "ready": "ready", "pending": "pend", "done": "done",
    "exception": "exc", "cancelled": "canc",
}
"""State names when the full line does not fit (the help screen spells them out)."""
SEPARATOR = " · "
"""Between the line's parts: where it breaks onto a second line when even short names do not
fit (a long script name at 80 columns), never in the middle of a part."""


class WatchStatus(Widget):
    """The status line of the watch screen."""

    DEFAULT_CSS = """
    WatchStatus {
        height: auto;
        max-height: 2;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        store: WatchStore,
        program: ProgramSupervisor | None,
        *,
        label: str = "",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.store = store
        self.program = program
        self.label = label
        """What is watched: ``crawler.py``, ``-m pkg``, or an attach address."""
        self._key: tuple[object, ...] = ()

    def program_text(self) -> Text:
        program = self.program
        text = Text()
        if self.label:
            text.append(self.label + " ", "bold")
        if program is None:  # attached: the agent says how the program is doing
            told = self.store.state.status
            if told is not None and told.state is AgentProgramState.EXITED:
                code = told.exit_code
                text.append(f"exited {code}" if code is not None else "exited",
                            "bold green" if code == 0 else "bold red")
                if told.error:
                    text.append(f" {told.error}", "red")
            elif told is not None:
                text.append(f"{told.state.value} pid {told.pid}", "bold")
            return text
        if program.state is ProgramState.EXITED and program.exit_status is not None:
            status = program.exit_status
            text.append(status.short(), "bold green" if status.ok else "bold red")
            if status.stopped_by_us:
                text.append(" (stopped)", "dim")
        elif program.state is ProgramState.FAILED_TO_START:
            text.append(program.start_error or "failed to start", "bold red")
        else:
            text.append(str(program.state), "bold")
            if program.pid is not None:
                text.append(f" pid {program.pid}", "dim")
        return text

    def render(self) -> Text:
        width = self.content_size.width
        text = self._line(short=False)
        if text.cell_len > width:
            text = self._line(short=True)  # 80 columns: every count still fits
        if text.cell_len > width:  # still too long: a second line, between two of its parts
            parts = text.plain.split(SEPARATOR)
            head = len(parts[0])
            for part in parts[1:-1]:
                if head + len(SEPARATOR) + len(part) > width:
                    break
                head += len(SEPARATOR) + len(part)
            if head < len(text.plain):
                first, rest = text.divide([head])
                rest = rest.divide([len(SEPARATOR)])[-1]
                text = Text("\n").join([first, rest])
        return text

    def _line(self, *, short: bool) -> Text:
        store = self.store
        text = self.program_text()
        text.rstrip()
        total = len(store.tasks)
        text.append(f" · {total:,} task{'s' if total != 1 else ''}" if text else
                    f"{total:,} task{'s' if total != 1 else ''}")
        for state in TaskState:
            count = store.counts.get(state, 0)
            if count:
                name = SHORT_NAMES[state.value] if short else state.value
                text.append(f" {count:,} {name}", STATE_STYLES[state.value])
        if store.link != "connected":  # "agent finished"; "waiting for the agent" as it is
            link = store.link if "agent" in store.link else f"agent {store.link}"
            text.append(f" · {link}", "dim" if self.program is None else "yellow")
        if dropped := store.dropped:
            text.append(f" · {dropped:,} dropped" if short else f" · {dropped:,} samples dropped",
                        "yellow")
        return text

    def sync(self) -> None:
        program = self.program
        key = (
            self.store.version, self.store.link_version,
            program.version if program is not None else None,
        )
        if key != self._key:
            self._key = key
            self.refresh()
