"""The event stream from a clean process to the screen: one JSON object per line, on stdout.

Version 1. Every line carries ``"v": 1`` and an event name ``"e"``:

* ``timing`` the job's stopwatch starts (``on``: true) or stops (false): the reader keeps
  quiet in between (tasks/isolated.py, ``Stopwatches``);
* ``launch`` the stopwatch started: ``at`` (a batch's wall runs from its launch);
* ``new``    a task exists, pending: ``job``, ``kind``, ``target``, ``at``;
* ``start``  it is running: ``job``, ``at``;
* ``end``    it ended: ``job``, ``at``, ``state`` (done, exception, cancelled), ``error``,
  ``result``;
* ``result`` the job's figures (a lane's wall time, a replay's walls); the last line;
* ``error``  the job failed: ``message``; the last line.

Times are ``time.perf_counter()`` readings: on Linux, macOS and Windows that clock is
system-wide, so the receiving process can place them on its own timeline.

Lines are written with one ``os.write`` each and kept under ``PIPE_BUF`` (4,096 bytes), so
lines from several threads, or from process-pool workers that inherited the same stdout,
never interleave.

Why not the agent's wire (tasks/agent/wire.py): that protocol serves a viewer attached to a
program it did not start (a handshake with a token, length-prefixed frames, batches of task
snapshots at ~20 Hz). Here the reader starts the writer itself and several writers (a lane's
process-pool workers, which inherit its stdout) must share one pipe without a coordinator;
one atomic line per event is the simplest thing that does that.
"""

from __future__ import annotations

import json
import os
from typing import Any

VERSION = 1
MAX_LINE = 4000
STREAM_FD = 1


def encode(event: str, **fields: Any) -> bytes:
    """One event as a line of JSON, cut to fit in one atomic pipe write."""
    line = json.dumps({"v": VERSION, "e": event, **fields}, separators=(",", ":"))
    if len(line) > MAX_LINE:
        for key in ("result", "error", "target", "message"):
            if isinstance(fields.get(key), str):
                fields[key] = fields[key][:200] + "…"
        line = json.dumps({"v": VERSION, "e": event, **fields}, separators=(",", ":"))
    return (line + "\n").encode()


def emit(event: str, **fields: Any) -> None:
    """Write one event to the stream (stdout), in one write."""
    os.write(STREAM_FD, encode(event, **fields))


def decode(line: bytes) -> dict[str, Any] | None:
    """An event read back, or None for a line that is not one of ours (of another version)."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("v") != VERSION or "e" not in event:
        return None
    return event
