"""The app behind ``loopscope watch`` and ``loopscope attach``: one watch screen on a session.

It starts the session when it mounts (the program, the link to its agent) and closes it before
it exits, whatever way it leaves: ``q``, ctrl+q or an error. Closing stops the program.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Sequence

from textual.app import App

from loopscope.tasks.gc_tuning import FreezeAsItGrows, tune_garbage_collector
from loopscope.tasks.watch.agent_feed import ConnectFeed, ListenerFeed, agent_command
from loopscope.tasks.watch.session import WatchSession
from loopscope.tasks.watch.supervisor import GRACE_S, ExitStatus, ProgramSupervisor
from loopscope.tui.hangup import HangupExit
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
        self._session_closed = False
        """The session is closed: the program loopscope started has been stopped."""
        self._hangup = HangupExit(closed=lambda: self._session_closed,
                                  stop=self._stop_on_signal, leave_if_stuck=self._leave_if_stuck)
        self._freezer = FreezeAsItGrows(step=2_500)
        """Keeps the collector off the snapshots of a program with 100,000 tasks. Every
        2,500 new tasks, not 10,000: what is not yet frozen is what a middle-generation
        collection walks, and a key pressed during one waited for it (``bench.key_latency``:
        worst press 115 ms with 10,000, 100-101 ms with 2,500, one or two runs each)."""

    async def on_mount(self) -> None:
        self._handle_stop_signals()
        await self.session.start()
        await self.push_screen(WatchScreen(self.session))
        tune_garbage_collector()  # 100,000 snapshots must not mean 250 ms collections
        self.set_interval(1.0, self._freeze_snapshots)

    def _freeze_snapshots(self) -> None:
        self._freezer.grown_to(len(self.session.store.tasks))

    def _handle_stop_signals(self) -> None:
        """SIGTERM (``kill``) and SIGHUP (the terminal closed) quit like ``q``: the program runs
        in its own session, so nothing else would stop it, and it must not be left behind."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, self._stop_on_signal, signal.SIGTERM)
        if self.is_headless:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signal.SIGHUP, self._stop_on_signal, signal.SIGHUP)
            return
        self._hangup.install()  # closing the terminal (tui/hangup.py)

    def _leave_if_stuck(self) -> None:
        """After the hangup, if the loop is stuck: the program's process group stopped once
        the gentle stop has had its time, and out."""
        program = self.session.program
        grace = program.grace_s if program is not None else 0.0
        time.sleep(3 * grace + 1.0)  # SIGINT, SIGTERM, SIGKILL a grace apart, then some
        if program is not None and program.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(program.pid, signal.SIGKILL)
        os._exit(128 + signal.SIGHUP)

    def _stop_on_signal(self, signum: int) -> None:
        async def stop() -> None:
            await self._close_session()
            if self._hangup.terminal_gone and not self.is_headless:
                os._exit(128 + signum)
            self.exit(128 + signum, return_code=128 + signum)

        self.call_later(stop)

    async def _close_session(self) -> None:
        await self.session.aclose()
        self._session_closed = True

    async def action_quit(self) -> None:
        """Stop the program (SIGINT, SIGTERM, SIGKILL), then leave; attached, just leave."""
        program = self.session.program
        status = program.exit_status if program is not None else None
        if program is not None and program.running:
            self.notify("stopping the program…")
        await self._close_session()
        self.exit(exit_code(status))

    async def on_unmount(self) -> None:
        await self._close_session()


def exit_code(status: ExitStatus | None) -> int:
    """loopscope's own status when the user quits: the program's, when it had ended by itself
    (128+N for signal N, as a shell says it), so a script can tell that it failed; 0 when it
    was still running (quitting stopped it, as asked) or there was none (attach)."""
    if status is None or status.stopped_by_us is not None:
        return 0
    return status.returncode if status.returncode >= 0 else 128 - status.returncode


def make_watch_app(session: WatchSession) -> WatchApp:
    """The one way to build the watch app: the CLI, the tests and the screenshot script."""
    return WatchApp(session)


def program_session(target: Sequence[str], *, module: bool = False,
                    grace_s: float = GRACE_S) -> WatchSession:
    """A session that starts ``target`` (a script and its arguments, or a module with
    ``module``) under the agent, which connects back to a private socket."""
    label = ("-m " if module else "") + " ".join(target)
    feed = ListenerFeed()
    program = ProgramSupervisor(agent_command(feed.address, target, module=module),
                                grace_s=grace_s)
    return WatchSession(label=label, program=program, feed=feed)


def attach_session(address: str, token: str | None = None) -> WatchSession:
    """A session on a program that runs the agent already (``loopscope.agent.install()``)."""
    return WatchSession(label=address, feed=ConnectFeed(address, token))


def run_watch(target: Sequence[str], *, module: bool = False, grace_s: float = GRACE_S) -> int:
    """``loopscope watch [-m] TARGET ARGS...``: open the dashboard on the program; quitting
    stops it."""
    return make_watch_app(program_session(target, module=module, grace_s=grace_s)).run() or 0


def run_attach(address: str, token: str | None = None) -> int:
    """``loopscope attach ADDRESS``: open the dashboard on a program that opted in."""
    return make_watch_app(attach_session(address, token)).run() or 0
