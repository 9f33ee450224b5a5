"""The process's own figures from psutil, sampled off the event loop.

psutil reads /proc; with thousands of sockets ``net_connections`` is slow enough to show up as
loop lag, so the samples are taken by a thread of their own. The thread sleeps, samples and
publishes ``latest`` by itself, once a second: one wake-up a second, where a coroutine that
handed each sample to an executor woke the loop twice and the thread once (on an idle
dashboard every wake-up counts: about a quarter of a millisecond of CPU here).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import psutil


@dataclass(frozen=True, slots=True)
class ProcessSnapshot:
    at: float
    cpu_percent: float
    """This process, percent of one core (can exceed 100 with threads)."""
    rss_bytes: int
    threads: int
    open_fds: int
    connections: int
    system_cpu_percent: float
    system_memory_percent: float
    children: int


def _own_sockets(pid: int) -> frozenset[str] | None:
    """The socket inodes among a process's open files, or None where /proc cannot tell."""
    fds = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fds)
    except OSError:
        return None
    sockets = set()
    for name in names:
        try:
            link = os.readlink(f"{fds}/{name}")
        except OSError:
            continue  # closed since the listing
        if link.startswith("socket:"):
            sockets.add(link)
    return frozenset(sockets)


class ProcessMonitor:
    """Takes a ProcessSnapshot every ``interval`` seconds while started."""

    def __init__(self, *, interval: float = 1.0):
        self.interval = interval
        self.latest: ProcessSnapshot | None = None
        """The newest sample (written by the sampling thread: one assignment, then
        ``version`` is bumped; readers compare versions)."""
        self.version = 0
        self._process = psutil.Process(os.getpid())
        self._sockets: frozenset[str] | None = None
        self._connections = 0
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stopped = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stopped,), name="loopscope-psutil", daemon=True
            )
            self._thread.start()

    async def stop(self) -> None:
        """Stop sampling. Not waited for: a sample in flight (``net_connections`` with
        thousands of sockets) ends on its own and is the thread's last."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopped.set()

    def _run(self, stopped: threading.Event) -> None:
        self._prime()
        while not stopped.wait(self.interval):
            try:
                snapshot = self.sample()
            except (psutil.Error, OSError):  # the process is going away: try again later
                continue
            if stopped.is_set():
                return
            self.latest = snapshot
            self.version += 1

    def _prime(self) -> None:
        # cpu_percent compares with the previous call; the first call only sets the baseline.
        self._process.cpu_percent(None)
        psutil.cpu_percent(None)

    def _count_connections(self) -> int:
        """Internet connections of this process. psutil reads the whole machine's socket
        tables for it (~10 ms here, most of an idle dashboard's cost), so the count is kept
        while the process's own set of sockets (cheap to list in /proc) has not changed."""
        sockets = _own_sockets(self._process.pid)
        if sockets is not None and sockets == self._sockets:
            return self._connections
        try:
            count = len(self._process.net_connections(kind="inet"))
        except psutil.Error:
            count = 0
        self._sockets, self._connections = sockets, count
        return count

    def _count_children(self) -> int:
        """Direct child processes. Linux lists them per thread in /proc (microseconds);
        psutil's ``children()`` reads every process on the machine (~2 ms, most of a sample)."""
        tasks = f"/proc/{self._process.pid}/task"
        try:
            total = 0
            for thread in os.listdir(tasks):
                with open(f"{tasks}/{thread}/children") as listing:
                    total += len(listing.read().split())
            return total
        except OSError:
            try:
                return len(self._process.children())
            except psutil.Error:
                return 0

    def sample(self) -> ProcessSnapshot:
        process = self._process
        with process.oneshot():
            cpu = process.cpu_percent(None)
            rss = process.memory_info().rss
            threads = process.num_threads()
            try:
                fds = process.num_fds()
            except (psutil.Error, AttributeError):
                fds = 0
            connections = self._count_connections()
            children = self._count_children()
        return ProcessSnapshot(
            at=time.perf_counter(),
            cpu_percent=cpu,
            rss_bytes=rss,
            threads=threads,
            open_fds=fds,
            connections=connections,
            system_cpu_percent=psutil.cpu_percent(None),
            system_memory_percent=psutil.virtual_memory().percent,
            children=children,
        )
