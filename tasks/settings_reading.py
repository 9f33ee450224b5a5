"""Read-only views of the engine's settings (the TaskManager's ``options`` and pools)."""

from __future__ import annotations

from loopscope.tasks.options import EngineOptions
from loopscope.tasks.process_records import ProcessRecords


class SettingsReading:
    """The limits and pool sizes a screen shows, read from ``self.options``; changed only
    through ``TaskManager.set_limits``."""

    options: EngineOptions
    _processes: ProcessRecords

    @property
    def connector_limit(self) -> int:
        """Most connections open at once (0: no limit)."""
        return self.options.connector_limit

    @property
    def limit_per_host(self) -> int:
        return self.options.limit_per_host

    @property
    def thread_workers(self) -> int:
        return self.options.thread_workers

    @property
    def process_workers(self) -> int:
        return self.options.process_pool_size

    @property
    def process_workers_busy(self) -> int:
        """Process-pool workers running a job now (cancelled ones included until they end)."""
        return self._processes.jobs.busy

    @property
    def default_fetch_timeout(self) -> float:
        return self.options.fetch_timeout

    @property
    def trace_connections(self) -> bool:
        return self.options.trace_connections
