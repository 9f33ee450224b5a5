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


class ProcessMonitor:
    """Takes a ProcessSnapshot every ``interval`` seconds while started."""

    def __init__(self, *, interval: float = 1.0):
        self.interval = interval
        self.latest: ProcessSnapshot | None = None
        self.version = 0
        self._process = psutil.Process(os.getpid())
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
            try:
                connections = len(process.net_connections(kind="inet"))
            except psutil.Error:
                connections = 0
            try:
                children = len(process.children())
            except psutil.Error:
                children = 0
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
