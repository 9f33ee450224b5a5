"""Measure where the screen cannot touch the measurement: a clean process per job.

Why: anything timed inside the dashboard's process shares the GIL and the event loop with the
screen. A sequential lane in a worker thread waits for the GIL every time the screen draws,
and a replay of CPU-bound thread jobs measured 2.3x on the dashboard where the same replay
headless measured 0.9x. So the race's lanes and ``R``'s replay run in a fresh Python process
(``python -m loopscope.tasks.isolated_child``) that does exactly what a headless run does, and
stream their task events back (tasks/protocol.py) so the dashboard still shows them live. The
screen only mirrors those events into its ledger (``Mirror``), stamped with the child's times.

Chosen over a ``multiprocessing`` child: a subprocess is started with a clean interpreter (no
Textual state inherited, nothing to pickle but one line of JSON), its stdout is an ordinary
pipe the event loop reads without a helper thread, and its process group can be ended as a
whole, pool workers included, when the user presses ``C``. Its cost: ~0.2-0.5 s to start an
interpreter, which is never inside a timed region.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from loopscope.tasks.batch import Batch
from loopscope.tasks.errors import LoopscopeError
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.protocol import decode
from loopscope.tasks.records import TaskRecord, TaskState

CHILD = "loopscope.tasks.isolated_child"
STREAM_LIMIT = 1 << 20


class Stopwatches:
    """How many clean processes are timing their work right now, and what this process
    spent meanwhile.

    Why: a timed lane that needs both cores (a process pool) is slowed by anything else that
    runs, the screen that watches it included. While ``timing`` is true a screen should do as
    little as it can (the dashboard then redraws at a low rate); ``totals`` says how much CPU
    this process still used inside the timed windows, so the race can print it beside its
    figures instead of guessing. One per process (``STOPWATCHES``): the cores are shared by
    the whole process, whichever screen or scenario started the clean process.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self.clock = clock
        self.cpu_clock = cpu_clock
        self.running = 0
        """Clean processes whose stopwatch runs now."""
        self._wall = 0.0
        self._cpu = 0.0
        self._since: tuple[float, float] | None = None

    @property
    def timing(self) -> bool:
        """True while any clean process times its work: the moment to stay quiet."""
        return self.running > 0

    def start(self) -> None:
        if self.running == 0:
            self._since = (self.clock(), self.cpu_clock())
        self.running += 1

    def stop(self) -> None:
        if self.running == 0:
            return
        self.running -= 1
        if self.running == 0 and self._since is not None:
            wall, cpu = self._since
            self._wall += self.clock() - wall
            self._cpu += self.cpu_clock() - cpu
            self._since = None

    def totals(self) -> tuple[float, float]:
        """(wall seconds inside timed windows, this process's CPU seconds meanwhile), so far
        (a window still open counts up to now)."""
        wall, cpu = self._wall, self._cpu
        if self._since is not None:
            wall += self.clock() - self._since[0]
            cpu += self.cpu_clock() - self._since[1]
        return wall, cpu


STOPWATCHES = Stopwatches()
"""This process's: every CleanProcess reports its child's timed windows here."""


def cpu_share(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    """This process's CPU over the timed windows between two ``totals()`` readings, as a
    fraction of one core (None when no window was open in between)."""
    wall = after[0] - before[0]
    return (after[1] - before[1]) / wall if wall > 0 else None


class CleanProcessError(LoopscopeError):
    """The clean process failed: its own message, or the last lines it wrote on stderr."""


class CleanProcess:
    """One job in a fresh interpreter; ``run`` feeds its events to a callback."""

    def __init__(self, job: dict[str, Any], *, stopwatches: Stopwatches | None = None):
        self.job = job
        self.stopwatches = STOPWATCHES if stopwatches is None else stopwatches
        self._timing = False
        self._process: asyncio.subprocess.Process | None = None
        self._stderr: deque[str] = deque(maxlen=5)

    @property
    def pid(self) -> int | None:
        """The process's id, which is also its process group's (None before ``start``)."""
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        # stderr is a pipe, never inherited: Textual draws on the terminal's stderr
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", CHILD,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: ``stop`` ends its pool too
            limit=STREAM_LIMIT,
        )
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(self.job).encode() + b"\n")
        await self._process.stdin.drain()

    async def events(self, on_event: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Pass every event to ``on_event`` until the result, which is returned.

        ``timing`` events (the child's stopwatch starting and stopping) are kept here: they
        open and close a window on ``stopwatches``.
        """
        process = self._process
        assert process is not None
        assert process.stdout is not None
        reader = asyncio.get_running_loop().create_task(self._read_stderr())
        try:
            while line := await process.stdout.readline():
                event = decode(line)
                if event is None:
                    continue
                if event["e"] == "timing":
                    self._set_timing(bool(event.get("on")))
                    continue
                if event["e"] == "result":
                    return event
                if event["e"] == "error":
                    raise CleanProcessError(f"the clean process failed: {event['message']}")
                on_event(event)
            await process.wait()
            await reader
            tail = " / ".join(self._stderr) or f"exit status {process.returncode}"
            raise CleanProcessError(f"the clean process ended without a result: {tail}")
        finally:
            self._set_timing(False)
            reader.cancel()

    def _set_timing(self, on: bool) -> None:
        if on and not self._timing:
            self.stopwatches.start()
        elif self._timing and not on:
            self.stopwatches.stop()
        self._timing = on

    async def _read_stderr(self) -> None:
        process = self._process
        assert process is not None
        assert process.stderr is not None
        while line := await process.stderr.readline():
            if text := line.decode(errors="replace").strip():
                self._stderr.append(text)

    def close_stdin(self) -> None:
        if self._process is not None and self._process.stdin is not None:
            self._process.stdin.close()

    async def stop(self) -> None:
        """End the process and every process it started; wait for it."""
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            await process.wait()
        if process.stdin is not None:
            process.stdin.close()

    async def __aenter__(self) -> CleanProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def run_clean(
    job: dict[str, Any], on_event: Callable[[dict[str, Any]], None] = lambda _: None
) -> dict[str, Any]:
    """Run ``job`` in a clean process, passing its events on; return its result."""
    async with CleanProcess(job) as child:
        return await child.events(on_event)


class Mirror:
    """Records in one of the manager's batches that show jobs run in a clean process.

    They are ordinary records (the task list and timeline draw them), stamped with the
    child's own start and end times rather than the moment the screen heard about them, so a
    sequential lane never appears to overlap itself.
    """

    def __init__(self, manager: TaskManager, batch: Batch):
        self.manager = manager
        self.batch = batch
        self.records: dict[int, TaskRecord] = {}
        self._expected: tuple[int, str, str] | None = None

    def expect(self, count: int, kind: str, target: str) -> None:
        """Jobs 0..count-1 will run: their records appear when the other process starts its
        stopwatch (not while its interpreter starts, which nothing here waits for)."""
        self._expected = (count, kind, target)

    def add(self, job: int, kind: str, target: str, at: float | None = None) -> TaskRecord:
        record = self.manager.add_record(self.batch, kind, target, created=at)
        self.records[job] = record
        return record

    def apply(self, event: dict[str, Any]) -> None:
        """Move the mirrored record as the child's event says."""
        name = event["e"]
        if name == "launch":
            self.launched(event["at"])
            return
        if name == "new":
            self.add(event["job"], event["kind"], event["target"], event.get("at"))
            return
        record = self.records.get(event.get("job", -1))
        if record is None:
            return
        if name == "start":
            self.manager.mark_running(record, event["at"])
        elif name == "end":
            self.manager.end_record(
                record, TaskState(event.get("state", "done")), at=event["at"],
                result=event.get("result") or ("ok" if event.get("state") == "done" else ""),
                error=event.get("error"),
            )

    def launched(self, at: float) -> None:
        """The other process started its stopwatch at ``at``: the batch's wall runs from
        there, not from when this process asked for it (an interpreter start earlier)."""
        if self.manager.clock is time.perf_counter:
            at = min(at, self.manager.clock())
            self.batch.created = at
        if self._expected is not None:
            count, kind, target = self._expected
            self._expected = None
            for job in range(count):
                self.add(job, kind, target, at)

    def cancel_rest(self, reason: str = "stopped") -> None:
        """Every record still pending or running ends cancelled (the child was stopped)."""
        for record in self.records.values():
            if not record.state.finished:
                self.manager.end_record(record, TaskState.CANCELLED, error=reason)
