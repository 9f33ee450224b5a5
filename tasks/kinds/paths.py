"""Helpers shared by the file kinds (``read``, ``write``): user paths, previews, and opening a
file so that nothing the user names can hang a worker or be overwritten unasked."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import BinaryIO, TypeVar

from loopscope.tasks.errors import FileRefused, SpecError
from loopscope.tasks.safe_text import printable

PREVIEW_BYTES = 400
T = TypeVar("T")


def user_path(word: str) -> Path:
    """The path a user typed, with ``~`` expanded (a string operation, no I/O)."""
    return Path(os.path.expanduser(word))


def path_word(word: str) -> str:
    """A PATH as typed, refused when empty (``read ""``)."""
    if not word:
        raise SpecError("the path is empty", word='""')
    return word


def preview(data: bytes) -> str:
    """The first few hundred bytes as text, for the detail view (control characters escaped:
    a file can hold terminal escapes)."""
    return printable(data[:PREVIEW_BYTES].decode("utf-8", errors="replace"), keep_lines=True)


def what_it_is(mode: int) -> str:
    """``a FIFO``, ``a directory``... for a message that says why a path was refused."""
    for test, words in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return words
    return "something that is not a regular file"


def open_for_reading(path: Path) -> tuple[BinaryIO, os.stat_result]:
    """Open ``path`` to read, in a worker thread, without ever blocking in ``open()``.

    ``O_NONBLOCK`` makes opening a FIFO return at once (a plain open waits for a writer,
    forever, with the worker thread stuck and shutdown waiting on it); then ``fstat`` on the
    open descriptor says what it really is, so a file swapped for a FIFO between a check and
    the open is caught too. Regular files are read; a character device is read only because
    the user named it (``/dev/zero``, ``/dev/urandom``) and stays non-blocking, so one with
    nothing to give (a terminal) ends the read instead of waiting; anything else is refused.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            os.set_blocking(fd, True)
        elif not stat.S_ISCHR(info.st_mode):
            raise FileRefused(f"cannot read {what_it_is(info.st_mode)}: {path}")
        return open(fd, "rb", closefd=True), info
    except BaseException:
        os.close(fd)
        raise


async def open_in_worker(
    executor: Executor, opener: Callable[[], T], discard: Callable[[T], None]
) -> T:
    """``opener()`` in a worker thread. If the task is cancelled while the worker is busy, the
    worker still finishes; what it opened is then passed to ``discard`` (closed, removed)
    instead of leaking a descriptor or leaving a temporary file behind."""
    opening = asyncio.get_running_loop().run_in_executor(executor, opener)
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:

        def clean_up(done: asyncio.Future[T]) -> None:
            if not done.cancelled() and done.exception() is None:
                discard(done.result())

        opening.add_done_callback(clean_up)
        raise


def close_quietly(opened: tuple[BinaryIO, object]) -> None:
    with contextlib.suppress(OSError):
        opened[0].close()


def discard_temporary(opened: tuple[BinaryIO, Path]) -> None:
    close_quietly(opened)
    remove_quietly(opened[1])


def _exists(path: Path) -> FileRefused:
    return FileRefused(f"exists; add overwrite=true to replace it: {path}")


def _check_target(path: Path, overwrite: bool) -> os.stat_result | None:
    """Refuse a path write must not touch; return what is there now (None: nothing)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise FileRefused(f"never writes through a symbolic link: {path}")
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(f"cannot write to {what_it_is(info.st_mode)}: {path}")
    if not overwrite:
        raise _exists(path)
    return info


def open_temporary_beside(path: Path, overwrite: bool) -> tuple[BinaryIO, Path]:
    """Check ``path`` may be written, then create a new temporary file next to it (same
    directory, so the final rename stays on one filesystem and is atomic).

    The file is created with ``O_EXCL`` (never an existing file, never through a link) and
    mode 0666 less the umask, like any new file; replacing a file keeps that file's mode.
    """
    existing = _check_target(path, overwrite)
    for _ in range(100):
        temporary = path.with_name(f".{path.name[:200]}.{secrets.token_hex(4)}.loopscope-part")
        try:
            fd = os.open(
                temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW,
                0o666,
            )
        except FileExistsError:
            continue
        except OSError as error:  # no such folder, permission denied: name the user's path
            raise naming(error, path) from None
        break
    else:
        raise FileRefused(f"cannot make a temporary file next to {path}")
    try:
        if existing is not None:
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))
        return open(fd, "wb", closefd=True), temporary
    except BaseException:
        os.close(fd)
        remove_quietly(temporary)
        raise


def move_into_place(temporary: Path, path: Path, overwrite: bool) -> None:
    """Give the finished temporary file its real name.

    With ``overwrite`` it is ``os.replace``: atomic, and a symbolic link put there meanwhile
    is replaced itself, never written through. Without, it is a hard link, which fails if
    anything appeared at ``path`` since the check, so a file is never replaced unasked
    (a filesystem without hard links falls back to a last check and a rename).
    """
    if overwrite:
        os.replace(temporary, path)
    else:
        _link_without_replacing(temporary, path)
    _sync_directory(path.parent)


def _link_without_replacing(temporary: Path, path: Path) -> None:
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(path):
            raise _exists(path) from None
        os.replace(temporary, path)
        return
    remove_quietly(temporary)


def _sync_directory(directory: Path) -> None:
    """fsync the directory so the new name survives a crash too (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def naming(error: OSError, path: Path) -> OSError:
    """The same error about ``path`` (the user's file, not a temporary name, and a disk-full
    error, which names no file, then says which write failed)."""
    return type(error)(error.errno, error.strerror, str(path))


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
