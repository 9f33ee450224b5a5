"""The app behind ``loopscope watch`` and ``loopscope attach``: one watch screen on a session.

It starts the session when it mounts (the program, the link to its agent) and closes it before
it exits, whatever way it leaves: ``q``, ctrl+q or an error. Closing stops the program.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App

from loopscope.tasks.watch.session import AgentFeed, WatchSession
from loopscope.tasks.watch.supervisor import ProgramSupervisor, python_command
from loopscope.tui.screens.watch import WatchScreen


class WatchApp(App[int]):
    """loopscope watching a program."""

    CSS_PATH = "watch.tcss"
    TITLE = "loopscope watch"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, session: WatchSession) -> None:
        super().__init__()
        self.session = session

    async def on_mount(self) -> None:
        await self.session.start()
        await self.push_screen(WatchScreen(self.session))

    async def action_quit(self) -> None:
        """Stop the program (SIGINT, SIGTERM, SIGKILL), then leave."""
        self.notify("stopping the program…")
        await self.session.aclose()
        self.exit(0)

    async def on_unmount(self) -> None:
        await self.session.aclose()


def make_watch_app(session: WatchSession) -> WatchApp:
    """The one way to build the watch app: the CLI, the tests and the screenshot script."""
    return WatchApp(session)


def program_session(
    target: Sequence[str], *, module: bool = False, feed: AgentFeed | None = None
) -> WatchSession:
    """A session that starts ``target`` (a script and its arguments, or ``-m`` a module)."""
    label = ("-m " if module else "") + " ".join(target)
    program = ProgramSupervisor(python_command(target, module=module))
    return WatchSession(label=label, program=program, feed=feed)


def run_watch(target: Sequence[str], *, module: bool = False) -> int:
    """``loopscope watch [-m] TARGET ARGS...``: open the dashboard on the program."""
    app = make_watch_app(program_session(target, module=module))
    return app.run() or 0
