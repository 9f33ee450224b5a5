"""What a task kind may ask of the manager that runs it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from loopscope.tasks.fetch_deadlines import FetchDeadlines
from loopscope.tasks.records import TaskRecord
from loopscope.tasks.slots import FetchSlot


class TaskContext(Protocol):
    gil_jobs_running: int

    @property
    def thread_pool(self) -> Executor: ...

    @property
    def default_fetch_timeout(self) -> float: ...

    @property
    def session(self) -> aiohttp.ClientSession: ...

    @property
    def fetch_deadlines(self) -> FetchDeadlines: ...

    def clock(self) -> float: ...

    def mark_running(self, record: TaskRecord, at: float | None = None) -> None: ...

    def mark_pending(self, record: TaskRecord) -> None: ...

    def progress(self, record: TaskRecord, done: int, total: int | None = None) -> None: ...

    def resolve_url(self, url: str) -> str: ...

    def fetch_slot(self, url: str) -> FetchSlot: ...

    def expect_process_start(self, record: TaskRecord) -> None: ...

    def run_in_process(self, function: Callable[..., Any], *args: Any) -> asyncio.Future[Any]: ...

    def note_on_loop(self, start: float, end: float, label: str) -> None: ...

    async def sample_file(self) -> Path: ...

    async def scratch_path(self) -> Path: ...
