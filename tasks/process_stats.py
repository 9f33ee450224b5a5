"""The process's own figures from psutil, sampled off the event loop.

psutil reads /proc; with thousands of sockets ``net_connections`` is slow enough to show up as
loop lag, so each sample runs in a one-thread executor of its own.
"""

from __future__ import annotations

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor
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
        self.version = 0
        self._process = psutil.Process(os.getpid())
        self._sockets: frozenset[str] | None = None
        self._connections = 0
        self._executor: ThreadPoolExecutor | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="loopscope-psutil")
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="loopscope-psutil"
            )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._prime)
        while True:
            await asyncio.sleep(self.interval)
            self.latest = await loop.run_in_executor(self._executor, self.sample)
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
