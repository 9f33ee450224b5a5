"""Files: nothing lost, nothing hung (issue 11, items 1, 2, 4 and 8).

Everything here works as root (CI runs as root, which ignores file permissions): FIFOs from
``os.mkfifo``, symlinks, a pty for a device with no data, a file-size limit
(``RLIMIT_FSIZE``) in a subprocess for a disk that refuses more bytes, and a real tiny tmpfs
only where it can be mounted (the test says when it skips).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopscope.tasks import samples as samples_module
from loopscope.tasks.kinds import read as read_kind
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskState
from tests.unit.test_kinds import run_one

ORIGINAL = b"the user's precious data\n"


def loopscope_run(*args: str, cwd: Path, limit_bytes: int | None = None) -> dict[str, object]:
    """``loopscope run --json ...`` in a child (with a file-size limit if asked: a write past
    it fails with EFBIG, the way a full disk fails with ENOSPC). Never waits forever."""

    def limit() -> None:
        if limit_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    out = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", "--json", *args],
        capture_output=True, text=True, timeout=90, cwd=cwd, preexec_fn=limit,
        env={**os.environ, "TMPDIR": str(cwd)},
    )
    assert out.returncode == 0, out.stderr
    report: dict[str, object] = json.loads(out.stdout)
    return report


def names(directory: Path, pattern: str = "*") -> list[str]:
    """What is in ``directory`` (hidden files included), sorted."""
    return sorted(str(p.relative_to(directory)) for p in directory.glob(pattern))


def tasks_of(report: dict[str, object]) -> list[dict[str, object]]:
    tasks = report["tasks"]
    assert isinstance(tasks, list)
    return tasks


@contextlib.contextmanager
def fifo(path: Path) -> Iterator[Path]:
    """A FIFO; on the way out, anything stuck opening it (the bug) is let go."""
    os.mkfifo(path)
    try:
        yield path
    finally:
        for flags in (os.O_RDONLY | os.O_NONBLOCK, os.O_WRONLY | os.O_NONBLOCK):
            with contextlib.suppress(OSError):
                os.close(os.open(path, flags))


# --- 1. write never overwrites unasked, never through a link, never half-written -------------


async def test_write_refuses_an_existing_file(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(ORIGINAL)
    record = await run_one(manager, f"write {path} 10K")
    assert record.state is TaskState.EXCEPTION
    assert record.error == f"FileRefused: exists; add overwrite=true to replace it: {path}"
    assert path.read_bytes() == ORIGINAL


async def test_write_zero_bytes_does_not_truncate(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(ORIGINAL)
    record = await run_one(manager, f"write {path} 0")
    assert record.state is TaskState.EXCEPTION
    assert path.read_bytes() == ORIGINAL


async def test_overwrite_true_replaces_and_keeps_the_mode(
    manager: TaskManager, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(ORIGINAL)
    path.chmod(0o640)
    record = await run_one(manager, f"write {path} 10K overwrite=true")
    assert record.state is TaskState.DONE, record.error
    assert path.stat().st_size == 10 * 1024
    assert path.stat().st_mode & 0o777 == 0o640
    assert names(tmp_path) == ["notes.txt"]  # no temp file left


async def test_a_new_file_gets_the_usual_mode(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "new.bin"
    record = await run_one(manager, f"write {path} 1K")
    assert record.state is TaskState.DONE, record.error
    umask = os.umask(0o22)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("overwrite", ["", " overwrite=true"])
async def test_write_never_goes_through_a_symlink(
    manager: TaskManager, tmp_path: Path, overwrite: str
) -> None:
    target = tmp_path / "precious.txt"
    target.write_bytes(ORIGINAL)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    record = await run_one(manager, f"write {link} 10K{overwrite}")
    assert record.state is TaskState.EXCEPTION
    assert record.error == f"FileRefused: never writes through a symbolic link: {link}"
    assert target.read_bytes() == ORIGINAL
    assert link.is_symlink()


async def test_write_refuses_a_directory_and_a_device(
    manager: TaskManager, tmp_path: Path
) -> None:
    directory = await run_one(manager, f"write {tmp_path} 1K overwrite=true")
    assert directory.error == f"FileRefused: cannot write to a directory: {tmp_path}"
    device = await run_one(manager, "write /dev/null 1K overwrite=true")
    assert device.error == "FileRefused: cannot write to a character device: /dev/null"


async def test_a_missing_folder_names_the_users_path(
    manager: TaskManager, tmp_path: Path
) -> None:
    path = tmp_path / "no-such-folder" / "out.bin"
    record = await run_one(manager, f"write {path} 1K")
    assert record.error == f"FileNotFoundError: No such file or directory: {path}"


async def test_cancelling_a_write_leaves_nothing(manager: TaskManager, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    batch = manager.launch(f"write {path} 8G")
    await asyncio.sleep(0)
    (record,) = batch.records

    async def some_bytes_written() -> None:
        while record.bytes_done == 0 and not record.state.finished:
            await asyncio.sleep(0.001)

    await asyncio.wait_for(some_bytes_written(), 30)
    assert manager.cancel(record.id)
    await asyncio.wait_for(batch.wait(), 30)
    assert record.state is TaskState.CANCELLED
    assert names(tmp_path) == []


async def test_cancelling_while_the_file_opens_leaves_nothing(
    manager: TaskManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled while a worker is making the temporary file: the worker finishes, then the
    file is closed and removed (no leaked descriptor, no stray temporary file)."""
    entered, release, created = threading.Event(), threading.Event(), threading.Event()
    real_open = os.open

    def slow_open(name: object, flags: int, *args: object, **kwargs: object) -> int:
        if not (str(name).startswith(str(tmp_path)) and flags & os.O_CREAT):
            return real_open(name, flags, *args, **kwargs)  # type: ignore[arg-type]
        entered.set()
        release.wait(10)
        try:
            return real_open(name, flags, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            created.set()

    monkeypatch.setattr(os, "open", slow_open)
    batch = manager.launch(f"write {tmp_path}/a.bin 1K")
    await asyncio.wait_for(asyncio.to_thread(entered.wait, 10), 15)
    assert manager.cancel(batch.records[0].id)
    await asyncio.wait_for(batch.wait(), 10)
    release.set()
    await asyncio.wait_for(asyncio.to_thread(created.wait, 10), 15)

    async def nothing_left() -> None:
        while names(tmp_path):
            await asyncio.sleep(0.005)

    await asyncio.wait_for(nothing_left(), 10)


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    """The disk refuses bytes past 1 MiB: the 4 MiB write fails and leaves nothing."""
    path = tmp_path / "out.bin"
    report = loopscope_run(f"write {path} 4M", cwd=tmp_path, limit_bytes=2**20)
    (task,) = tasks_of(report)
    assert task["state"] == "exception"
    assert task["error"] == f"OSError: File too large: {path}"  # the user's file, not a temp
    assert names(tmp_path) == []


def test_a_failed_overwrite_keeps_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(ORIGINAL)
    report = loopscope_run(f"write {path} 4M overwrite=true", cwd=tmp_path, limit_bytes=2**20)
    assert tasks_of(report)[0]["state"] == "exception"
    assert path.read_bytes() == ORIGINAL
    assert names(tmp_path) == ["out.bin"]


# --- 2. one scratch folder per manager, no partial files, removed on exit ---------------------


def _failing_samples(directory: Path) -> list[Path]:
    """What a full disk does to the sample generator: a partial file, then ENOSPC."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sample-8MiB.part").write_bytes(b"x" * 100)
    raise OSError(28, "No space left on device")


async def test_one_scratch_folder_per_manager_even_when_samples_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopscope.tasks import samples
    from loopscope.tasks import scratch as scratch_module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real = samples.write_samples
    monkeypatch.setattr(scratch_module, "write_samples", _failing_samples)
    async with TaskManager(EngineOptions(demo_server=False, monitors=False)) as manager:
        batch = manager.launch("read x3; write 1K x2")
        await asyncio.wait_for(batch.wait(), 30)
        assert batch.counts[TaskState.EXCEPTION] == 3
        assert batch.counts[TaskState.DONE] == 2
        assert len(names(tmp_path, "loopscope-*")) == 1
        monkeypatch.setattr(scratch_module, "write_samples", real)
        again = manager.launch("read")
        await asyncio.wait_for(again.wait(), 30)
        assert again.counts[TaskState.DONE] == 1  # the next task tries again, same folder
        assert len(names(tmp_path, "loopscope-*")) == 1
    assert names(tmp_path) == []


def test_a_failed_sample_leaves_no_partial_file(tmp_path: Path) -> None:
    """write_samples under a 100 KiB file-size limit: the 1 MiB sample fails, and only the
    complete small samples remain (a child process carries the limit)."""
    code = (
        "import resource, signal, sys; from pathlib import Path\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100 * 1024, 100 * 1024))\n"
        "from loopscope.tasks.samples import write_samples\n"
        "try:\n    write_samples(Path(sys.argv[1]))\n"
        "except OSError as error:\n    print(error.errno)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "27", out.stderr  # EFBIG
    assert names(tmp_path) == ["sample-4KiB.txt", "sample-64KiB.txt"]
    assert samples_module.SAMPLE_SIZES[:2] == (4 * 1024, 64 * 1024)


def test_the_scratch_folder_goes_even_when_the_program_dies(tmp_path: Path) -> None:
    """A script that crashes before ``aclose`` still leaves no loopscope folder behind."""
    code = (
        "import asyncio\n"
        "from loopscope.tasks.manager import TaskManager\n"
        "from loopscope.tasks.options import EngineOptions\n"
        "async def main():\n"
        "    manager = TaskManager(EngineOptions(demo_server=False, monitors=False))\n"
        "    await manager.start()\n"
        "    await manager.launch('read; write 1K').wait()\n"
        "    print(manager.scratch.directory, flush=True)\n"
        "    raise RuntimeError('the program dies here')\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert "the program dies here" in out.stderr
    assert out.stdout.strip().startswith(str(tmp_path))
    assert names(tmp_path) == []


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB filesystem (needs root and a kernel that allows tmpfs mounts)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a 2 MiB tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


async def test_a_full_disk_leaves_nothing_behind(
    tiny_tmpfs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tiny_tmpfs))
    async with TaskManager(EngineOptions(demo_server=False, monitors=False)) as manager:
        batch = manager.launch(f"read x3; write 3M; write {tiny_tmpfs}/user.bin 3M")
        await asyncio.wait_for(batch.wait(), 30)
        errors = [r.error or "" for r in batch.records]
        assert all("No space left on device" in e for e in errors), errors
        assert len(names(tiny_tmpfs, "loopscope-*")) == 1
        assert not names(tiny_tmpfs, "**/*.part")
        assert not names(tiny_tmpfs, "**/*-part")
        assert "user.bin" not in names(tiny_tmpfs)
    assert names(tiny_tmpfs) == []


# --- 4. a FIFO or a silent device never hangs a read or a write -------------------------------


async def test_reading_a_fifo_is_refused_at_once(manager: TaskManager, tmp_path: Path) -> None:
    with fifo(tmp_path / "pipe") as path:
        record = await asyncio.wait_for(run_one(manager, f"read {path}"), 20)
    assert record.state is TaskState.EXCEPTION
    assert record.error == f"FileRefused: cannot read a FIFO (named pipe): {path}"


async def test_writing_a_fifo_is_refused_at_once(manager: TaskManager, tmp_path: Path) -> None:
    with fifo(tmp_path / "pipe") as path:
        record = await asyncio.wait_for(run_one(manager, f"write {path} 1K overwrite=true"), 20)
    assert record.state is TaskState.EXCEPTION
    assert record.error == f"FileRefused: cannot write to a FIFO (named pipe): {path}"


def test_32_fifo_reads_do_not_use_up_the_workers(tmp_path: Path) -> None:
    """Before: every worker stuck in open() on the FIFO, the thread job pending forever."""
    with fifo(tmp_path / "pipe") as path:
        report = loopscope_run(
            f"read {path} x32; write {path} 1K x4 overwrite=true; thread 0.01; read",
            "--workers", "32", cwd=tmp_path,
        )
    assert report["counts"] == {
        "pending": 0, "running": 0, "done": 2, "exception": 36, "cancelled": 0,
    }


async def test_a_silent_device_ends_the_read_instead_of_waiting(manager: TaskManager) -> None:
    """A terminal with nothing typed: the read ends with what was ready (nothing)."""
    controller, terminal = os.openpty()
    try:
        record = await asyncio.wait_for(run_one(manager, f"read {os.ttyname(terminal)}"), 20)
    finally:
        os.write(controller, b"let a stuck read go\n")
        os.close(controller)
        os.close(terminal)
    assert record.state is TaskState.DONE, record.error
    assert record.result == "read 0 B at once"


# --- 8. whole-mode reads are capped -----------------------------------------------------------


async def test_a_whole_read_over_the_cap_is_refused_before_reading(
    manager: TaskManager, tmp_path: Path
) -> None:
    path = tmp_path / "huge.bin"
    with path.open("wb") as handle:
        handle.truncate(300 * 2**20)  # sparse: no disk used
    record = await run_one(manager, f"read {path}")
    assert record.state is TaskState.EXCEPTION
    assert record.error == (
        "ReadTooLarge: use mode=chunks: mode=whole holds at most 256.0 MiB in memory, "
        f"this is 300.0 MiB: {path}"
    )
    assert record.bytes_done == 0


async def test_reading_dev_zero_stops_at_the_cap(
    manager: TaskManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_kind, "MAX_WHOLE_READ", 2**20)
    monkeypatch.setattr(read_kind, "MAX_DEVICE_READ", 2**20)
    whole = await asyncio.wait_for(run_one(manager, "read /dev/zero"), 30)
    assert whole.error is not None
    assert whole.error == (
        "ReadTooLarge: use mode=chunks: mode=whole holds at most 1.0 MiB in memory, "
        "this is more than 1.0 MiB: /dev/zero"
    )
    chunks = await asyncio.wait_for(run_one(manager, "read /dev/zero mode=chunks"), 30)
    assert chunks.result == "read 1.0 MiB in 16 chunks (a device: stopped at the 1.0 MiB cap)"
    assert chunks.bytes_total is None  # a device has no size: no made-up total
    lines = await asyncio.wait_for(run_one(manager, "read /dev/zero mode=lines"), 30)
    assert lines.result == "read 1 line, 1.0 MiB (a device: stopped at the 1.0 MiB cap)"

