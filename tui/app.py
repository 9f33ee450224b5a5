"""The Textual app. It shares its event loop with the TaskManager: the manager, its demo
server and monitors start when the app mounts and close before it exits."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import psutil
from textual import events
from textual.app import App
from textual.driver import Driver

from loopscope.tasks.gc_tuning import tune_garbage_collector
from loopscope.tasks.kinds import Kind, register
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tui.commands import LoopscopeCommands
from loopscope.tui.hangup import HangupExit
from loopscope.tui.launch_keys import DEFAULT_BATCH_SIZE
from loopscope.tui.notices import NoticeApp
from loopscope.tui.screens.main import MainScreen

HANGUP_GRACE_S = 5.0
"""After the terminal closed, how long closing the engine may take before loopscope leaves
anyway (its process-pool workers killed)."""
WIDE_COLUMNS = 120
"""Where the wide layout starts (``HORIZONTAL_BREAKPOINTS``): narrower, no room for a panel
docked beside the dashboard."""
LAG_IDLE_INTERVAL_S = 1.0
"""The lag probe's sleep while the engine is idle (50 ms while busy, after a key, a spike or
a batch's end: tasks/lag.py). Each wake-up of an idle process costs CPU: at 20 Hz the probe
and its watchdog were a third of the idle dashboard's cost."""
WAKING_EVENTS = (events.InputEvent, events.Paste, events.Resize)
"""What the person does: the screen pulls at 10 Hz again and the lag probe samples closely,
since what follows (a launch, a big redraw) may hold the loop."""


class LoopscopeApp(NoticeApp):
    """loopscope: make Python concurrency visible."""

    CSS_PATH = "loopscope.tcss"
    TITLE = "loopscope"
    COMMANDS = App.COMMANDS | {LoopscopeCommands}
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (WIDE_COLUMNS, "-wide"),
    ]
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        manager_factory: Callable[[], TaskManager],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        scenario_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager_factory()
        self.manager.lag.idle_interval = LAG_IDLE_INTERVAL_S
        self.manager.on_notice(self._notice_arrived)
        self._main: MainScreen | None = None
        self.batch_size = batch_size
        self.scenario_options = scenario_options
        self._notices_shown = 0
        self._engine_closed = False
        self._hangup = HangupExit(closed=lambda: self._engine_closed, stop=self._stop_on_signal,
                                  leave_if_stuck=self._leave_if_stuck)

    async def on_mount(self) -> None:
        manager = self.manager
        began = manager.clock()
        await manager.start()
        self._main = MainScreen(
            manager, batch_size=self.batch_size, scenario_options=self.scenario_options
        )
        await self.push_screen(self._main)
        tune_garbage_collector()

        def started() -> None:  # building and first drawing the screen is loopscope's own work
            manager.note_own_work(began, manager.clock(), "start-up (building the screen)")

        self.call_after_refresh(started)
        self._handle_stop_signals()
        self._show_notices()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, WAKING_EVENTS):
            self.manager.lag.wake()
            if self._main is not None:
                self._main.wake()
        await super().on_event(event)

    def _notice_arrived(self) -> None:
        """The engine has a new notice (from any thread): shown from the app's own loop."""
        self.call_later(self._show_notices)

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, except on Linux: the same driver without its input thread's
        10 Hz poll (tui/quiet_driver.py)."""
        driver = super().get_driver_class()
        if sys.platform.startswith("linux"):
            from textual.drivers.linux_driver import LinuxDriver

            from loopscope.tui.quiet_driver import QuietLinuxDriver

            if driver is LinuxDriver:
                return QuietLinuxDriver
        return driver

    def _show_notices(self) -> None:
        """The engine's one-line notices (a worker died, too many open files), once each."""
        notices = self.manager.notices
        for text in notices[self._notices_shown :]:
            self.notify(text, severity="warning", timeout=8)
        self._notices_shown = len(notices)

    def _handle_stop_signals(self) -> None:
        """SIGTERM (``kill``) and SIGHUP (the terminal closed) quit like ``q``: the engine
        closes, its process-pool workers end, its temporary folder goes."""
        loop = asyncio.get_running_loop()
        signums = (signal.SIGTERM, signal.SIGHUP) if self.is_headless else (signal.SIGTERM,)
        for signum in signums:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._stop_on_signal, signum)
        if not self.is_headless:  # closing the terminal (tui/hangup.py)
            self._hangup.install()

    def _leave_if_stuck(self) -> None:
        """After the hangup: the process pool's workers killed, and out."""
        time.sleep(HANGUP_GRACE_S)
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process().children(recursive=True):  # the process pool
                with contextlib.suppress(psutil.Error):
                    child.kill()
        os._exit(128 + signal.SIGHUP)

    def _stop_on_signal(self, signum: int) -> None:
        async def stop() -> None:
            await self._close_engine()
            if self._hangup.terminal_gone:
                os._exit(128 + signum)
            self.exit(128 + signum, return_code=128 + signum)

        self.call_later(stop)

    async def _close_engine(self) -> None:
        await self.manager.aclose()
        self._engine_closed = True

    def action_show_help_panel(self) -> None:
        """The palette's "Keys". Textual docks a keys panel on the right; at 80 columns that
        squeezed the task list to a strip, so below the wide layout the screen's own help
        (every key at full width, escape closes) opens instead. Wide, Textual's panel."""
        help_screen = getattr(self.screen, "action_help", None)
        if self.size.width < WIDE_COLUMNS and help_screen is not None:
            help_screen()
            return
        super().action_show_help_panel()

    def on_resize(self, event: events.Resize) -> None:
        """A terminal made narrow closes the keys panel rather than squeeze the screen."""
        if event.size.width < WIDE_COLUMNS:
            self.action_hide_help_panel()

    async def action_quit(self) -> None:
        """Cancel everything, close the engine, then leave."""
        await self._close_engine()
        self.exit(0)

    async def on_unmount(self) -> None:
        await self._close_engine()  # any other way out (ctrl+q, an error) closes it too


def make_app(
    *,
    options: EngineOptions | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    clock: Callable[[], float] | None = None,
    scenario_options: dict[str, dict[str, Any]] | None = None,
    kinds: Sequence[Kind[Any]] = (),
) -> LoopscopeApp:
    """The one way to build the app: the CLI, the tests and the screenshot script use it.

    ``options`` configures the engine (tasks/options.py); ``clock`` replaces its clock (tests
    freeze time with it). ``kinds`` are users' own kinds (``--kinds FILE``), registered if they
    are not yet; the command bar, help and palette then offer them like the built-in ones.
    """
    for declared in kinds:
        register(declared)
    engine_options = options or EngineOptions()

    def new_manager() -> TaskManager:
        if clock is None:
            return TaskManager(engine_options)
        return TaskManager(engine_options, clock=clock)

    return LoopscopeApp(new_manager, batch_size=batch_size, scenario_options=scenario_options)
