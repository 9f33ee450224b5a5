"""The Textual app. It shares its event loop with the TaskManager: the manager, its demo
server and monitors start when the app mounts and close before it exits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.app import App

from loopscope.tasks.gc_tuning import tune_garbage_collector
from loopscope.tasks.kinds import Kind, register
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tui.commands import LoopscopeCommands
from loopscope.tui.launch_keys import DEFAULT_BATCH_SIZE
from loopscope.tui.screens.main import MainScreen


class LoopscopeApp(App[int]):
    """loopscope: make Python concurrency visible."""

    CSS_PATH = "loopscope.tcss"
    TITLE = "loopscope"
    COMMANDS = App.COMMANDS | {LoopscopeCommands}
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (120, "-wide"),
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
        self.batch_size = batch_size
        self.scenario_options = scenario_options

    async def on_mount(self) -> None:
        await self.manager.start()
        await self.push_screen(
            MainScreen(
                self.manager,
                batch_size=self.batch_size,
                scenario_options=self.scenario_options,
            )
        )
        tune_garbage_collector()

    async def action_quit(self) -> None:
        """Cancel everything, close the engine, then leave."""
        await self.manager.aclose()
        self.exit(0)

    async def on_unmount(self) -> None:
        await self.manager.aclose()  # any other way out (ctrl+q, an error) closes it too


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
