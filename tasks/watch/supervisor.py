"""Start the user's program, keep its output, and stop it without leaving anything behind.

The program runs in its own session (so its own process group): its stdout and stderr come
through pipes into a bounded ``ProgramOutput`` and never reach the terminal the dashboard
draws on; stdin is closed. Stopping walks the escalation a user would: SIGINT (the program's
``KeyboardInterrupt`` and ``finally`` blocks run), SIGTERM, then SIGKILL, each sent to the whole
process group so the program's own children go too, each after a short grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from loopscope.tasks.watch.output import ProgramOutput

GRACE_S = 2.0
"""How long each of SIGINT and SIGTERM gets before the next, stronger signal (``watch
--grace``): long enough for an asyncio program to cancel its tasks and shut down on a busy
machine, short enough that quitting never feels stuck."""


class ProgramState(enum.Enum):
    """Where the watched program is in its life."""

    NOT_STARTED = "not started"
    RUNNING = "running"
    STOPPING = "stopping"
    EXITED = "exited"
    FAILED_TO_START = "failed to start"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """How the program ended, in words a user reads at a glance."""

    returncode: int
    stopped_by_us: str | None = None
    """The signal loopscope sent that ended it (SIGINT...), None when it ended by itself."""

    @property
    def signal_name(self) -> str | None:
        if self.returncode >= 0:
            return None
        try:
            return signal.Signals(-self.returncode).name
        except ValueError:
            return f"signal {-self.returncode}"

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def short(self) -> str:
        """``exited 0``, ``exited 3``, ``killed by SIGKILL``: for a status line."""
        if self.returncode < 0:
            return f"killed by {self.signal_name}"
        return f"exited {self.returncode}"

    def describe(self) -> str:
        if self.returncode < 0:
            text = f"killed by {self.signal_name}"
        else:
            text = f"exited with status {self.returncode}"
        if self.stopped_by_us:
            text += f" (stopped by loopscope with {self.stopped_by_us})"
        return text


class _Pipes(asyncio.SubprocessProtocol):
    """Feeds both pipes into the output buffer and notes the exit, all on the loop."""

    def __init__(self, supervisor: ProgramSupervisor) -> None:
        self.supervisor = supervisor
        self.open_pipes = {1, 2}

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        self.supervisor.output.feed("stdout" if fd == 1 else "stderr", data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.supervisor.output.close("stdout" if fd == 1 else "stderr")
        self.open_pipes.discard(fd)
        if not self.open_pipes:
            self.supervisor.notice_pipes_closed()

    def process_exited(self) -> None:
        self.supervisor.notice_exit()


class ProgramSupervisor:
    """One run of one program: ``start``, read ``state``/``exit_status``/``output``, ``stop``.

    ``argv`` is the full command (the first item is the executable). The screen polls the
    public attributes; nothing here posts messages or calls back into a UI.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        output: ProgramOutput | None = None,
        grace_s: float = GRACE_S,
        on_exit: Callable[[ExitStatus], None] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("PYTHONUNBUFFERED", "1")  # print() shows up at once, not at exit
        self.cwd = cwd
        self.output = output or ProgramOutput()
        self.grace_s = grace_s
        self.on_exit = on_exit
        self.state = ProgramState.NOT_STARTED
        self.exit_status: ExitStatus | None = None
        self.start_error: str | None = None
        self.pid: int | None = None
        self.version = 0
        """Bumped when state or exit status change."""
        self._transport: asyncio.SubprocessTransport | None = None
        self._exited = asyncio.Event()
        self._pipes_closed = asyncio.Event()
        self._stopped = asyncio.Event()
        self._signal_sent: str | None = None

    async def start(self) -> bool:
        """Start the program; False (with ``start_error`` set) when it could not start.

        Only once: a supervisor that already ran (or was staged as run) is left as it is."""
        if self.state is not ProgramState.NOT_STARTED:
            return self.state is not ProgramState.FAILED_TO_START
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.subprocess_exec(
                lambda: _Pipes(self),
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,  # its own process group: we can signal it whole
            )
        except OSError as error:
            self.start_error = f"could not start {self.argv[0]}: {error.strerror or error}"
            self.output.note(self.start_error)
            self._set_state(ProgramState.FAILED_TO_START)
            self._exited.set()
            return False
        self._transport = transport
        self.pid = transport.get_pid()
        self._set_state(ProgramState.RUNNING)
        if transport.get_returncode() is not None:  # it already exited before we looked
            self.notice_exit()
        return True

    @property
    def running(self) -> bool:
        return self.state in (ProgramState.RUNNING, ProgramState.STOPPING)

    async def wait(self) -> ExitStatus | None:
        """Wait until the program has exited (None if it never started)."""
        await self._exited.wait()
        return self.exit_status

    async def stop(self) -> ExitStatus | None:
        """Interrupt, then terminate, then kill the program's process group; wait for it.

        A second call while the first is still escalating waits for the first."""
        if self.state is ProgramState.STOPPING:
            await self._stopped.wait()
            return self.exit_status
        if self.state is ProgramState.RUNNING:
            self._set_state(ProgramState.STOPPING)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
                self._signal_sent = sig.name
                self._signal_group(sig)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._exited.wait(), self.grace_s)
                if self._exited.is_set():
                    break
        # Children the program started may outlive it: they are in its group, end them too.
        self._kill_leftovers()
        if self._transport is not None:
            await self._wait_pipes_closed()
            self._transport.close()
        self._stopped.set()
        return self.exit_status

    async def aclose(self) -> None:
        await self.stop()

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def _kill_leftovers(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)

    async def _wait_pipes_closed(self) -> None:
        """Let the pipes deliver the last bytes the program wrote (bounded: a grandchild that
        escaped the process group could hold them open forever)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._pipes_closed.wait(), self.grace_s)

    def notice_pipes_closed(self) -> None:
        """Both pipes are closed (called by its protocol): the output is complete."""
        self._pipes_closed.set()

    def notice_exit(self) -> None:
        """The process exited (its protocol says so, or ``start`` found it gone): record how."""
        if self._exited.is_set() or self._transport is None:
            return
        code = self._transport.get_returncode()
        if code is None:
            return
        stopped_by = self._signal_sent
        self.exit_status = ExitStatus(code, stopped_by)
        self._set_state(ProgramState.EXITED)
        self.output.note(f"the program {self.exit_status.describe()}")
        self._exited.set()
        if self.on_exit is not None:
            self.on_exit(self.exit_status)

    def _set_state(self, state: ProgramState) -> None:
        self.state = state
        self.version += 1


def python_command(target: Sequence[str], *, module: bool = False) -> list[str]:
    """The command that runs a script (or ``-m module``) with this very interpreter."""
    if module:
        return [sys.executable, "-m", *target]
    return [sys.executable, *target]
