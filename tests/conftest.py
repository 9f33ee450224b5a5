"""Shared fixtures: a started TaskManager on the test's loop, closed after the test."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions

TEST_OPTIONS = EngineOptions(demo_seed=1, thread_workers=8, process_workers=2)
"""Small pools and a seeded demo server: what most engine tests run on."""


@pytest.fixture
async def manager() -> AsyncIterator[TaskManager]:
    async with TaskManager(TEST_OPTIONS) as running:
        yield running


@pytest.fixture
def refused_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
