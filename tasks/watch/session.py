"""One watch session: the program (when loopscope started it), the link to its agent, and the
store the screen reads. The dashboard starts it on mount and closes it on quit; closing stops
the program and the link, whatever way the dashboard leaves.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from loopscope.tasks.agent.model import ProgramState as AgentProgramState
from loopscope.tasks.watch.store import WatchStore
from loopscope.tasks.watch.supervisor import ExitStatus, ProgramState, ProgramSupervisor


class AgentFeed(Protocol):
    """Something that fills a store from an agent: the real stream reader, or a fake."""

    async def start(self, store: WatchStore) -> None:
        """Begin filling ``store`` (return at once; the filling goes on in the background)."""

    async def aclose(self) -> None: ...


class WatchSession:
    """What the watch screen shows, and what must be stopped when it closes."""

    def __init__(
        self,
        *,
        label: str,
        program: ProgramSupervisor | None = None,
        feed: AgentFeed | None = None,
        store: WatchStore | None = None,
    ) -> None:
        self.label = label
        """What is watched, as the user named it: ``crawler.py``, ``-m pkg``, an address."""
        self.program = program
        self.feed = feed
        self.store = store or WatchStore()
        self._closing: asyncio.Task[None] | None = None
        if program is not None:
            program.on_exit = self._program_exited

    def _program_exited(self, status: ExitStatus) -> None:
        """Record the exit even when the agent could not (killed, crashed before it ran)."""
        store = self.store
        store.state.mark_exited(status.returncode)
        if store.link.startswith("waiting"):
            store.set_link("never connected: the program ended first")

    @property
    def ended(self) -> bool:
        """The program has ended (exited, or never started): panels say "none", not "yet"."""
        program = self.program
        if program is not None and program.state in (
            ProgramState.EXITED, ProgramState.FAILED_TO_START
        ):
            return True
        told = self.store.state.status
        return told is not None and told.state is AgentProgramState.EXITED

    async def start(self) -> None:
        if self.feed is not None:
            await self.feed.start(self.store)
        else:
            self.store.set_link("not connected")
        if self.program is not None:
            await self.program.start()

    async def aclose(self) -> None:
        """Stop the program (SIGINT, SIGTERM, SIGKILL) and the link. A second call (``q``
        pressed twice, then the app's unmount) waits for the first instead of cutting it short."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        if self.program is not None:
            await self.program.stop()
        if self.feed is not None:
            await self.feed.aclose()
