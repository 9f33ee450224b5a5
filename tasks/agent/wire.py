"""The stream between the agent (inside the watched program) and a viewer (dashboard, headless).

Protocol, version 1
-------------------
A connection carries one byte stream in each direction. Each direction starts with the
6-byte preamble ``b"LSCP"`` + the protocol version as a big-endian unsigned 16-bit number,
followed by frames. A frame is a 4-byte big-endian length N, then N bytes of UTF-8 compact
JSON holding one object with a ``"kind"``. Frames over ``MAX_FRAME`` bytes, a wrong magic or
another version end the connection with ``ProtocolError`` (a clear message, no guessing).

The side that connected speaks first: preamble, then a ``hello``. The listening side checks
it (a loopback TCP listener requires the right ``token``; a Unix socket is protected by its
0600 mode in a 0700 directory) and answers with its own preamble and ``hello``. Then:

agent → viewer
    ``{"kind": "hello", "role": "agent", "pid": 123, "argv": [...], "python": "3.11.7",
    "version": 1, "task_fields": [...]}``, then ``batch`` frames, about 20 a second while
    anything changed::

        {"kind": "batch", "seq": 7, "t": 12.5, "full": false, "final": false,
         "tasks": [ROW, ...],     # tasks that changed since the last batch (rows, below)
         "gone": [ID, ...],       # finished tasks the agent no longer keeps (retention)
         "jobs": [ROW, ...], "lag": [ROW, ...], "spikes": [ROW, ...],
         "warnings": [ROW, ...], "loops": [ROW, ...],
         "status": ROW, "counts": {...}}

    The first batch after a viewer connects is ``"full": true``: every task the agent keeps.
    Task rows are snapshots, so a slow viewer loses nothing by receiving fewer batches: the
    agent merges changes into the next batch. Samples (lag, spikes, warnings, jobs) wait in
    bounded queues; when one overflows the oldest are dropped and counted in
    ``counts["dropped"]``. The last batch of a program has ``"final": true``.

viewer → agent
    ``{"kind": "hello", "role": "viewer", "token": "..." | null}``, then commands:
    ``{"kind": "cancel", "task": ID}`` cancels that task in the watched program.

Rows are JSON arrays in a fixed field order (``TASK_FIELDS`` and friends) to keep batches
small; a frame (source place) is ``[function, file, line]``, with a fourth element ``1``
when it is library code (standard library, site-packages). ``decode_*`` turns rows back into
the dataclasses of ``model``. ``WatchState`` (``store``) applies batches for a screen.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Sequence
from typing import Any

from loopscope.tasks.agent.model import (
    AgentWarning,
    Counts,
    ExecutorJob,
    Frame,
    JobState,
    LagSample,
    LagSpike,
    LoopInfo,
    ProgramState,
    ProgramStatus,
    TaskError,
    TaskSnapshot,
    TaskState,
    WarningKind,
)

MAGIC = b"LSCP"
VERSION = 1
PREAMBLE = MAGIC + struct.pack(">H", VERSION)
MAX_FRAME = 64 * 2**20
"""No frame may be larger (64 MiB): a full batch of 10,000 tasks is about 5 MiB."""
BATCH_INTERVAL = 0.05
"""Seconds between batches while something changes (about 20 a second)."""

_LENGTH = struct.Struct(">I")
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=repr).encode

TASK_FIELDS = (
    "id", "name", "coro", "loop", "parent", "created_at", "state", "created_t", "ended_t",
    "busy_s", "scheduled_s", "idle_s", "steps", "longest_step_s", "longest_step_line",
    "blocked_at", "await_chain", "awaiting", "awaiting_task", "suspended_t", "result", "error",
)
JOB_FIELDS = (
    "id", "function", "task", "loop", "executor", "state", "submitted_t", "started_t",
    "ended_t", "error",
)
SPIKE_FIELDS = ("at", "lag_ms", "loop", "task", "task_name", "line", "step_s")
WARNING_FIELDS = ("kind", "at", "task", "line", "message")
LOOP_FIELDS = (
    "id", "thread", "running", "closed", "tasks", "step_s", "step_task", "step_line",
)


class ProtocolError(Exception):
    """The peer does not speak this protocol (or this version of it)."""


# -- framing -----------------------------------------------------------------------------


def encode_frame(message: dict[str, Any]) -> bytes:
    """One message as a length-prefixed frame of compact JSON."""
    body = _dumps(message).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body):,} bytes exceeds {MAX_FRAME:,}")
    return _LENGTH.pack(len(body)) + body


def check_preamble(data: bytes) -> None:
    if data[:4] != MAGIC:
        raise ProtocolError("not a loopscope agent stream (bad magic)")
    (version,) = struct.unpack(">H", data[4:6])
    if version != VERSION:
        raise ProtocolError(f"protocol version {version}; this loopscope speaks {VERSION}")


def _decode_body(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProtocolError(f"malformed frame: {error}") from None
    if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
        raise ProtocolError("malformed frame: not an object with a kind")
    return message


class FrameDecoder:
    """Sans-IO decoder: feed it bytes as they arrive, get whole messages back."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._preamble_seen = False

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buffer += data
        messages: list[dict[str, Any]] = []
        if not self._preamble_seen:
            if len(self._buffer) < len(PREAMBLE):
                return messages
            check_preamble(bytes(self._buffer[: len(PREAMBLE)]))
            del self._buffer[: len(PREAMBLE)]
            self._preamble_seen = True
        while len(self._buffer) >= 4:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if length > MAX_FRAME:
                raise ProtocolError(f"frame of {length:,} bytes exceeds {MAX_FRAME:,}")
            if len(self._buffer) < 4 + length:
                break
            body = bytes(self._buffer[4 : 4 + length])
            del self._buffer[: 4 + length]
            messages.append(_decode_body(body))
        return messages


async def read_preamble(reader: asyncio.StreamReader) -> None:
    """Read and check the peer's preamble (``ProtocolError`` if wrong, EOFError if none)."""
    try:
        data = await reader.readexactly(len(PREAMBLE))
    except asyncio.IncompleteReadError:
        raise EOFError("the peer closed the connection before speaking") from None
    check_preamble(data)


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message from an asyncio stream, or None at a clean end of stream."""
    try:
        header = await reader.readexactly(4)
    except asyncio.IncompleteReadError as error:
        if error.partial:
            raise ProtocolError("stream ended inside a frame header") from None
        return None
    (length,) = _LENGTH.unpack(header)
    if length > MAX_FRAME:
        raise ProtocolError(f"frame of {length:,} bytes exceeds {MAX_FRAME:,}")
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise ProtocolError("stream ended inside a frame") from None
    return _decode_body(body)


# -- rows ---------------------------------------------------------------------------------

FrameRow = list[Any] | None


def frame_row(frame: Frame | None) -> FrameRow:
    if frame is None:
        return None
    row: list[Any] = [frame.function, frame.file, frame.line]
    if frame.library:
        row.append(1)
    return row


FRAMES_KEPT = 50_000
"""How many distinct frames (and await chains) the decoder shares before it starts afresh."""
_FRAMES: dict[tuple[Any, ...], Frame] = {}
_CHAINS: dict[tuple[Frame, ...], tuple[Frame, ...]] = {}
"""Frames and await chains decoded so far, shared between snapshots (they are immutable).
100,000 tasks parked on a few lines then hold a few frames, not 300,000 copies: the viewer's
memory, and the objects its garbage collector walks while the screen waits, are the tasks'."""


def decode_frame(row: Sequence[Any] | None) -> Frame | None:
    if row is None:
        return None
    key = tuple(row)
    try:
        frame = _FRAMES.get(key)
    except TypeError:  # not a frame row the agent writes: decoded, not shared
        frame = None
        key = ()
    if frame is None:
        frame = Frame(str(row[0]), str(row[1]), int(row[2]), len(row) > 3 and bool(row[3]))
        if key:
            if len(_FRAMES) >= FRAMES_KEPT:
                _FRAMES.clear()
            _FRAMES[key] = frame
    return frame


def _shared_chain(chain: tuple[Frame, ...]) -> tuple[Frame, ...]:
    if not chain:
        return ()
    if len(_CHAINS) >= FRAMES_KEPT:
        _CHAINS.clear()
    return _CHAINS.setdefault(chain, chain)


def task_row(task: TaskSnapshot) -> list[Any]:
    """A snapshot as a row (the agent builds rows directly; this is for tests and replays)."""
    error = task.error
    return [
        task.id, task.name, task.coro, task.loop, task.parent, frame_row(task.created_at),
        task.state.value, task.created_t, task.ended_t, task.busy_s, task.scheduled_s,
        task.idle_s, task.steps, task.longest_step_s, frame_row(task.longest_step_line),
        frame_row(task.blocked_at), [frame_row(frame) for frame in task.await_chain],
        task.awaiting, task.awaiting_task, task.suspended_t, task.result,
        None if error is None else [error.type, error.message, error.traceback],
    ]


def decode_task(row: Sequence[Any]) -> TaskSnapshot:
    (
        id_, name, coro, loop, parent, created_at, state, created_t, ended_t, busy_s,
        scheduled_s, idle_s, steps, longest_step_s, longest_step_line, blocked_at,
        await_chain, awaiting, awaiting_task, suspended_t, result, error,
    ) = row
    return TaskSnapshot(
        id=id_, name=name, coro=coro, loop=loop, parent=parent,
        created_at=decode_frame(created_at), state=TaskState(state), created_t=created_t,
        ended_t=ended_t, busy_s=busy_s, scheduled_s=scheduled_s, idle_s=idle_s, steps=steps,
        longest_step_s=longest_step_s, longest_step_line=decode_frame(longest_step_line),
        blocked_at=decode_frame(blocked_at),
        await_chain=_shared_chain(
            tuple(f for f in map(decode_frame, await_chain) if f is not None)),
        awaiting=awaiting, awaiting_task=awaiting_task, suspended_t=suspended_t, result=result,
        error=None if error is None else TaskError(*error),
    )


def job_row(job: ExecutorJob) -> list[Any]:
    return [
        job.id, job.function, job.task, job.loop, job.executor, job.state.value,
        job.submitted_t, job.started_t, job.ended_t, job.error,
    ]


def decode_job(row: Sequence[Any]) -> ExecutorJob:
    id_, function, task, loop, executor, state, submitted_t, started_t, ended_t, error = row
    return ExecutorJob(
        id_, function, task, loop, executor, JobState(state), submitted_t, started_t, ended_t,
        error,
    )


def decode_lag(row: Sequence[Any]) -> LagSample:
    at, lag_ms, loop = row
    return LagSample(at, lag_ms, loop)


def spike_row(spike: LagSpike) -> list[Any]:
    return [
        spike.at, spike.lag_ms, spike.loop, spike.task, spike.task_name, frame_row(spike.line),
        spike.step_s,
    ]


def decode_spike(row: Sequence[Any]) -> LagSpike:
    at, lag_ms, loop, task, task_name, line, step_s = row
    return LagSpike(at, lag_ms, loop, task, task_name, decode_frame(line), step_s)


def warning_row(warning: AgentWarning) -> list[Any]:
    return [
        warning.kind.value, warning.at, warning.task, frame_row(warning.line), warning.message,
    ]


def decode_warning(row: Sequence[Any]) -> AgentWarning:
    kind, at, task, line, message = row
    return AgentWarning(WarningKind(kind), at, task, decode_frame(line), message)


def decode_loop(row: Sequence[Any]) -> LoopInfo:
    id_, thread, running, closed, tasks, step_s, step_task, step_line = row
    return LoopInfo(
        id_, thread, bool(running), bool(closed), tasks, step_s, step_task,
        decode_frame(step_line),
    )


def status_row(status: ProgramStatus) -> dict[str, Any]:
    return {
        "state": status.state.value, "pid": status.pid, "argv": list(status.argv),
        "python": status.python, "exit_code": status.exit_code, "error": status.error,
    }


def decode_status(row: dict[str, Any]) -> ProgramStatus:
    return ProgramStatus(
        ProgramState(row["state"]), row["pid"], tuple(row["argv"]), row["python"],
        row.get("exit_code"), row.get("error"),
    )


def decode_counts(row: dict[str, Any]) -> Counts:
    return Counts(
        row.get("created", 0), dict(row.get("finished", {})), dict(row.get("dropped", {}))
    )
