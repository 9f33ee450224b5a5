"""``loopscope watch --json``: run a program under the agent to the end, and report.

The program runs in a child process with the same interpreter
(``python -m loopscope.agent --connect unix:PATH script.py ARGS``) in its own process group;
its stdout and stderr are forwarded to loopscope's stderr (so the JSON on stdout stays
clean), counted, and their last lines kept for the report. The agent's batches are applied
to a ``WatchState``; when the program ends (or ``timeout`` runs out: SIGINT, then SIGTERM,
then SIGKILL to the group, each after ``grace`` seconds) the state becomes the report.

``attach_snapshot`` is the headless ``loopscope attach --json``: connect, gather batches for
a moment, report.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import deque
from collections.abc import Sequence
from typing import Any, BinaryIO

from loopscope.tasks.agent.store import WatchState
from loopscope.tasks.agent.viewer import AgentConnection, AgentListener, connect
from loopscope.tasks.watch.supervisor import GRACE_S

CONNECT_TIMEOUT = 30.0
"""How long a starting program may take to reach the agent (imports on a busy machine)."""


def agent_command(target: Sequence[str], address: str, *, module: bool = False) -> list[str]:
    """The command that runs ``target`` under an agent connecting to ``address``."""
    program = ["-m", *target] if module else list(target)
    return [sys.executable, "-m", "loopscope.agent", "--connect", address, *program]


def exit_status(returncode: int | None) -> int | None:
    """A shell's view of a return code: killed by signal N is 128 + N."""
    if returncode is None:
        return None
    return 128 - returncode if returncode < 0 else returncode


class _Output:
    """The program's output: forwarded, counted, the last lines kept."""

    def __init__(self, sink: BinaryIO | None, lines: int = 20) -> None:
        self.sink = sink
        self.bytes = 0
        self.tail: deque[str] = deque(maxlen=lines)
        self._partial = b""

    async def pump(self, stream: asyncio.StreamReader) -> None:
        while True:
            data = await stream.read(65536)
            if not data:
                break
            self.bytes += len(data)
            if self.sink is not None:
                with contextlib.suppress(OSError, ValueError):
                    self.sink.write(data)
                    self.sink.flush()
            *lines, self._partial = (self._partial + data).split(b"\n")
            self.tail.extend(line.decode("utf-8", "replace")[:300] for line in lines[-20:])
            self._partial = self._partial[-4096:]

    def report(self) -> dict[str, Any]:
        tail = list(self.tail)
        if self._partial:
            tail.append(self._partial.decode("utf-8", "replace")[:300])
        return {"bytes": self.bytes, "tail": tail[-self.tail.maxlen:] if self.tail.maxlen else []}


async def watch_headless(target: Sequence[str], *, module: bool = False,
                         timeout: float | None = None, grace: float = GRACE_S,
                         output: BinaryIO | None = None,
                         env: dict[str, str] | None = None) -> tuple[dict[str, Any], int]:
    """Run ``target`` under the agent to completion; (the report, the program's exit status)."""
    state = WatchState()
    listener = AgentListener()
    await listener.start()
    sink = output if output is not None else getattr(sys.stderr, "buffer", None)
    out = _Output(sink)
    stopped_by: str | None = None
    connected = False
    process = await asyncio.create_subprocess_exec(
        *agent_command(target, listener.address, module=module),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, start_new_session=True, env=env,
    )
    assert process.stdout is not None
    pump = asyncio.create_task(out.pump(process.stdout))
    exited = asyncio.create_task(process.wait())
    try:
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        connection = await _first_connection(listener, exited, deadline)
        if connection is not None:
            connected = True
            reading = asyncio.create_task(_read_all(connection, state))
            await asyncio.wait({reading, exited}, timeout=_left(deadline),
                               return_when=asyncio.FIRST_COMPLETED)
            if exited.done() and not reading.done():
                # The process ended: the rest of the stream is in the socket buffer.
                await asyncio.wait({reading}, timeout=5.0)
            if not reading.done() and not exited.done():
                stopped_by = "timeout"
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            await connection.close()
        elif not exited.done():
            stopped_by = "timeout"
        if stopped_by is not None:
            await _stop(process, exited, grace)
        await exited
    except asyncio.CancelledError:
        stopped_by = "interrupt"
        await asyncio.shield(_stop(process, exited, grace))
        raise
    finally:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(pump), 2.0)
        pump.cancel()
        await listener.close()
    code = exit_status(process.returncode)
    state.mark_exited(code)
    report = state.report()
    program = report["program"] or {}
    program.update(exit_code=code, stopped_by=stopped_by, agent_connected=connected)
    if not connected:
        program["error"] = program.get("error") or "the agent never connected"
    report["program"] = program
    report["output"] = out.report()
    return report, code if code is not None else 1


async def _first_connection(listener: AgentListener, exited: asyncio.Task[int],
                            deadline: float | None) -> AgentConnection | None:
    accepting = asyncio.create_task(listener.accept())
    limit = CONNECT_TIMEOUT if deadline is None else min(CONNECT_TIMEOUT, _left(deadline) or 0)
    await asyncio.wait({accepting, exited}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    if accepting.done():
        return accepting.result()
    accepting.cancel()
    await asyncio.gather(accepting, return_exceptions=True)
    return None


async def _read_all(connection: AgentConnection, state: WatchState) -> None:
    async for message in connection:
        state.apply(message)


def _left(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - asyncio.get_running_loop().time())


async def _stop(process: asyncio.subprocess.Process, exited: asyncio.Task[int],
                grace: float) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to the program's process group, each after
    ``grace`` seconds; returns when it is gone."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if exited.done():
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(exited), grace)


async def attach_snapshot(address: str, token: str | None = None,
                          seconds: float = 1.0) -> dict[str, Any]:
    """Connect to a listening agent, apply batches for ``seconds``, and report."""
    state = WatchState()
    connection = await connect(address, token)
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_read_all(connection, state), seconds)
    finally:
        await connection.close()
    return state.report()
