"""Bad input becomes a readable `exception` task, never a crash or a traceback at the user."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import aiohttp.abc
import pytest

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskState
from tests.unit.test_kinds import run_one


class NowhereResolver(aiohttp.abc.AbstractResolver):
    """Answers every lookup with "not found", the way a resolver does for an unknown host,
    without sending a query anywhere."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        raise OSError(-2, "Name or service not known")

    async def close(self) -> None:
        return None


async def test_refused_port(manager: TaskManager, refused_port: int) -> None:
    record = await run_one(manager, f"fetch http://127.0.0.1:{refused_port}/")
    assert record.state is TaskState.EXCEPTION
    assert record.error == (
        f"ClientConnectorError: Cannot connect to host 127.0.0.1:{refused_port}"
        " (connection refused)"
    )


async def test_unresolvable_host() -> None:
    async with TaskManager(EngineOptions(demo_server=False), resolver=NowhereResolver()) as manager:
        record = await run_one(manager, "fetch http://no-such-host.invalid/")
    assert record.state is TaskState.EXCEPTION
    assert record.error_type is not None
    assert "ClientConnector" in record.error_type
    assert record.error_message is not None
    assert "no-such-host.invalid" in record.error_message
    assert "host name not found" in record.error_message


async def test_http_500(manager: TaskManager) -> None:
    record = await run_one(manager, "fetch /status/500")
    assert record.error == "HTTPStatusError: HTTP 500 Internal Server Error from GET /status/500"


async def test_timeout(manager: TaskManager) -> None:
    record = await run_one(manager, "fetch /delay/5000 timeout=0.1")
    assert record.error_type == "FetchTimeout"
    assert record.error_message is not None
    assert "within 0.1 s" in record.error_message


async def test_missing_file(manager: TaskManager, tmp_path: Path) -> None:
    record = await run_one(manager, f"read {tmp_path / 'nope.txt'}")
    assert record.error == f"FileNotFoundError: No such file or directory: {tmp_path / 'nope.txt'}"


async def test_a_directory(manager: TaskManager, tmp_path: Path) -> None:
    record = await run_one(manager, f"read {tmp_path}")
    assert record.error == f"FileRefused: cannot read a directory: {tmp_path}"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; see the simulated test")
async def test_permission_denied(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("x")
    path.chmod(0)
    record = await run_one(manager, f"read {path}")
    assert record.error == f"PermissionError: Permission denied: {path}"


async def test_permission_denied_simulated(
    manager: TaskManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root (CI) chmod cannot deny a read, so the open itself is made to refuse."""
    path = tmp_path / "secret.txt"
    real_open = os.open

    def refuse(name: object, *args: object, **kwargs: object) -> object:
        if str(name) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    record = await run_one(manager, f"read {path}")
    assert record.error == f"PermissionError: Permission denied: {path}"


async def test_a_url_with_no_demo_server() -> None:
    async with TaskManager(EngineOptions(demo_server=False)) as manager:
        record = await run_one(manager, "fetch /delay/1")
    assert record.error == "TaskFailure: no demo server is running: give a full http:// URL"
