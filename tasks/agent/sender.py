"""The agent's daemon thread: lag probes, stall sampling, and batches out to one viewer.

Every ``tick`` (50 ms) it posts a lag probe to each running loop, samples the stack of any
loop whose probe is late (that is how a step holding the loop is blamed on a line while it
still holds it), and, when a viewer is connected and the previous batch has left, builds the
next batch from what changed.

It never blocks the program: the socket is non-blocking and a batch is built only when the
last one was fully written, so a slow viewer gets fewer, larger batches (changes merge, since
task rows are snapshots) and the samples queued meanwhile are bounded (``counts.dropped``).
Its own cost is bounded too: after each batch it waits at least ``1/duty`` times what the
batch cost, so it takes at most about ``duty`` of the program's time however busy it gets,
and a batch built while the program works stops at ``batch_budget`` of this thread's CPU
(``batches.py``: what a batch holds), so no single batch holds the program back for long.
When the program itself is idle (its other threads used under ``IDLE_SHARE`` of a core since
the last batch: its loop waits on timers or sockets), a batch costs it nothing, so the sender
may take ``IDLE_DUTY``: a burst of 100,000 tasks that then wait reaches the screen in seconds,
not minutes (at 3% it streamed about 600 rows a second).
"""

from __future__ import annotations

import atexit
import contextlib
import hmac
import os
import select
import socket
import sys
import threading
import time
from typing import Any

from loopscope.tasks.agent import collector, stalls, wire
from loopscope.tasks.agent.address import Address, parse_address
from loopscope.tasks.agent.batches import BATCH_BUDGET, BatchBuilder
from loopscope.tasks.agent.recorder import Recorder
from loopscope.tasks.agent.sender_pacing import duty_for
from loopscope.tasks.agent.sender_socket import HANDSHAKE_TIMEOUT, answers, read_hello, socket_for

TICK = wire.BATCH_INTERVAL
SWEEP_EVERY = 2.0
"""Seconds between looks for tasks collected while pending (a walk over live records), or
more: a look that cost ``c`` seconds waits at least ``c / duty``."""


class AgentError(Exception):
    """The agent cannot listen or connect; the message says why in one line."""


class Sender:
    """Streams a ``Recorder``'s records to a viewer (connecting to it, or accepting it)."""

    def __init__(self, recorder: Recorder, *, status: dict[str, Any], token: str | None = None,
                 max_rows: int = 2000, refresh_rows: int = 200, duty: float = 0.03,
                 batch_budget: float | None = BATCH_BUDGET) -> None:
        self.recorder = recorder
        self.batches = BatchBuilder(recorder, status, max_rows=max_rows,
                                    refresh_rows=refresh_rows)
        self.batch_budget = batch_budget
        """Seconds of this thread's CPU a batch may take while the program works
        (``batches.BATCH_BUDGET``); None: no bound."""
        self.status = status
        """The program status row (``wire.status_row`` shape); the runner updates it."""
        self.token = token
        self.duty = duty
        self.listener: socket.socket | None = None
        self.listen_address: Address | None = None
        self.made_directory: str | None = None
        """The private directory made for the listening socket (``private_socket_path``),
        removed with the socket at close; a directory the user named is left alone."""
        self.connection: socket.socket | None = None
        self._decoder = wire.FrameDecoder()
        self._outgoing = b""
        self._next_batch = 0.0
        self._marks = (0.0, 0.0, 0.0)
        """(wall, process CPU, this thread's CPU) at the last batch: the program's own share
        of a core since then decides the duty (``duty_for``)."""
        self._next_sweep = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.merged_batches = 0
        self.viewers = 0

    # -- setting up ----------------------------------------------------------------------

    def connect(self, address: Address | str) -> None:
        """Connect to a viewer that listens (``loopscope watch``), and say hello."""
        if isinstance(address, str):
            address = parse_address(address)
        try:
            sock = socket_for(address)
            sock.settimeout(HANDSHAKE_TIMEOUT)
            target: Any = address.path if address.kind == "unix" else (address.host, address.port)
            sock.connect(target)
            sock.sendall(wire.PREAMBLE + wire.encode_frame(self._hello()))
            hello = read_hello(sock)
        except (OSError, wire.ProtocolError, EOFError) as error:
            raise AgentError(f"cannot connect to {address}: {error}") from None
        if hello.get("role") != "viewer":
            raise AgentError(f"{address} is not a loopscope viewer")
        self._attach(sock)

    def listen(self, address: Address | str) -> Address:
        """Listen for viewers (``loopscope attach``): a 0600 Unix socket, or loopback TCP."""
        if isinstance(address, str):
            address = parse_address(address)
        try:
            sock = socket_for(address)
            if address.kind == "unix":
                assert address.path is not None
                directory = os.path.dirname(os.path.abspath(address.path))
                os.makedirs(directory, mode=0o700, exist_ok=True)
                if os.path.exists(address.path):
                    if answers(address.path):
                        raise AgentError(f"{address} is in use by another agent")
                    os.unlink(address.path)  # left behind by a program that ended
                old = os.umask(0o177)
                try:
                    sock.bind(address.path)
                finally:
                    os.umask(old)
                os.chmod(address.path, 0o600)
            else:
                if not self.token:
                    raise AgentError("a TCP agent needs a token")
                sock.bind((address.host, address.port))
                host, port = sock.getsockname()[:2]
                address = Address("tcp", host=host, port=port)
            sock.listen(4)
        except OSError as error:
            raise AgentError(f"cannot listen on {address}: {error.strerror or error}") from None
        sock.setblocking(False)
        self.listener = sock
        self.listen_address = address
        return address

    def start(self) -> None:
        # The first sweep comes a period after the start, not at the first tick: a program
        # that starts a burst of tasks at once paid for a walk over all of them (and held
        # each alive meanwhile) 50 ms in, about 5% of a one-second run.
        self._next_sweep = time.perf_counter() + SWEEP_EVERY
        self._thread = threading.Thread(target=self._run, name="loopscope-agent", daemon=True)
        self._thread.start()
        atexit.register(self.close)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        """In a forked child: stop watching, and never write into the parent's stream."""
        self.recorder.disabled = True
        self.recorder.uninstall()
        for sock in (self.connection, self.listener):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.detach()
        self.connection = self.listener = None
        self._stop.set()

    def _hello(self) -> dict[str, Any]:
        return {
            "kind": "hello", "role": "agent", "version": wire.VERSION, "pid": os.getpid(),
            "argv": self.status.get("argv", []), "python": sys.version.split()[0],
            "task_fields": list(wire.TASK_FIELDS), "t": self.recorder.clock(),
        }

    def _attach(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        with self._lock:
            old, self.connection = self.connection, sock
            self._decoder = wire.FrameDecoder()
            self._decoder.feed(wire.PREAMBLE)  # the viewer's preamble was read already
            self._outgoing = b""
            self.batches.full = True
            self.viewers += 1
        if old is not None:
            with contextlib.suppress(OSError):
                old.close()

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            try:
                self._tick()
            except Exception:  # the agent must never take the program down
                continue

    def _tick(self) -> None:
        recorder = self.recorder
        if any(state.probe_t for state in recorder.loops):
            stalls.sample_stalls(recorder, sys._current_frames())
        for state in list(recorder.loops):
            stalls.post_probe(recorder, state)
        now = time.perf_counter()
        if now >= self._next_sweep:
            started = time.thread_time()
            with collector.paused():
                recorder.sweep()
            stalls.prune_loops(recorder)
            # a walk over 100,000 live tasks costs tens of milliseconds: paced like batches
            spent = time.thread_time() - started
            self._next_sweep = now + max(SWEEP_EVERY, spent / self.duty)
        if self.listener is not None:
            self._accept()
        with self._lock:
            if self.connection is None:
                self._discard()
                return
            self._read_commands()
            if self._outgoing:
                self._flush()
                if self._outgoing:
                    self.merged_batches += 1
                    return
            now = time.perf_counter()
            if now < self._next_batch:
                return
            started = time.thread_time()
            duty = self._duty_now(now, started)
            # While the program works, a batch stops at its budget; while it idles, the
            # batch costs it nothing and may be as large as the limit allows.
            budget = self.batch_budget if duty <= self.duty else None
            with collector.paused():  # see collector.py: no collection set off mid-batch
                message = self.batches.build(
                    final=False, budget=budget, merged=self.merged_batches)
                self._outgoing = wire.encode_frame(message)
                del message
            self._flush()
            spent = time.thread_time() - started
            self._next_batch = now + max(TICK, spent / duty) - TICK

    def _duty_now(self, now: float, own_cpu: float) -> float:
        """The duty for this batch, from the program's share of a core since the last one."""
        process_cpu = time.process_time()
        wall0, process0, own0 = self._marks
        self._marks = (now, process_cpu, own_cpu)
        if wall0 == 0.0 or now <= wall0:
            return self.duty
        program_share = ((process_cpu - process0) - (own_cpu - own0)) / (now - wall0)
        return duty_for(program_share, self.duty)

    def _discard(self) -> None:
        """No viewer: keep nothing queued for one (a new viewer gets a full batch)."""
        recorder = self.recorder
        # One clear, not a walk: 100,000 short tasks a second would cost this thread (and
        # the program, through the GIL) a pass over each. Live records keep their changed
        # flag, which only means the next viewer's full batch must send them: it does.
        recorder.dirty.clear()
        recorder.gone.clear()
        recorder.dirty_jobs.clear()
        recorder.lag.clear()
        recorder.spikes.clear()

    def _accept(self) -> None:
        assert self.listener is not None
        try:
            sock, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        try:
            sock.settimeout(HANDSHAKE_TIMEOUT)
            hello = read_hello(sock)
            if self.listen_address is not None and self.listen_address.kind == "tcp":
                offered = str(hello.get("token") or "")
                if not self.token or not hmac.compare_digest(offered, self.token):
                    raise wire.ProtocolError("wrong token")
            sock.sendall(wire.PREAMBLE + wire.encode_frame(self._hello()))
        except (OSError, wire.ProtocolError, EOFError):
            with contextlib.suppress(OSError):
                sock.close()
            return
        self._attach(sock)

    def _read_commands(self) -> None:
        sock = self.connection
        assert sock is not None
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._drop_connection()
                return
            if not data:
                self._drop_connection()
                return
            try:
                messages = self._decoder.feed(data)
            except wire.ProtocolError:
                self._drop_connection()
                return
            for message in messages:
                if message.get("kind") == "cancel":
                    self._cancel(message.get("task"))

    def _cancel(self, seq: Any) -> None:
        for record in list(self.recorder.live.values()):
            if record.seq == seq:
                tasks = self.recorder.tasks_by_id((record.task_id,)) or {}
                task = tasks.get(record.task_id)
                del tasks
                loop = record.loop.ref()
                if task is not None and loop is not None:
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(task.cancel)
                return

    def _flush(self) -> None:
        sock = self.connection
        if sock is None:
            return
        while self._outgoing:
            try:
                sent = sock.send(self._outgoing)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._drop_connection()
                return
            self._outgoing = self._outgoing[sent:]

    def _drop_connection(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError):
                self.connection.close()
        self.connection = None
        self._outgoing = b""

    # -- the end -------------------------------------------------------------------------

    def close(self, timeout: float = 5.0) -> None:
        """Send everything left and a final batch, then hang up (atexit; idempotent)."""
        if os.getpid() != self._pid or (self._stop.is_set() and self.connection is None):
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(1.0)
        if self.status.get("state") != "exited":
            self.status["state"] = "exited"
        deadline = time.monotonic() + timeout
        with self._lock:
            with contextlib.suppress(Exception):
                self.recorder.sweep()
            if self.connection is not None:
                with contextlib.suppress(Exception):
                    self._send_blocking(self._outgoing, deadline)
                    self._outgoing = b""
                    while True:
                        final = not self.recorder.dirty or time.monotonic() > deadline
                        message = self.batches.build(
                            final=final, limit=5000, budget=None, merged=self.merged_batches)
                        if final and self.recorder.dirty:
                            message["final"] = False  # out of time: say so by not finishing
                        self._send_blocking(wire.encode_frame(message), deadline)
                        if final:
                            break
                self._drop_connection()
            if self.listener is not None:
                with contextlib.suppress(OSError):
                    self.listener.close()
                if self.listen_address is not None and self.listen_address.kind == "unix":
                    with contextlib.suppress(OSError):
                        os.unlink(self.listen_address.path or "")
                    if self.made_directory is not None:
                        with contextlib.suppress(OSError):
                            os.rmdir(self.made_directory)
                self.listener = None

    def _send_blocking(self, data: bytes, deadline: float) -> None:
        sock = self.connection
        if sock is None:
            return
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            select.select([], [sock], [], left)
            try:
                sent = sock.send(view)
            except (BlockingIOError, InterruptedError):
                continue
            view = view[sent:]
