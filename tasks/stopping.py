"""Stopping a headless run on a signal: Ctrl-C, ``kill`` (SIGTERM) and a closed terminal
(SIGHUP) all end it the same way, by cancelling the run so the manager closes cleanly:
process-pool workers end, the temporary folder is removed, nothing is left behind.

The first signal cancels the run. Later ones only say that closing is under way: the close is
bounded (see ``TaskManager.aclose``), and raising KeyboardInterrupt in the middle of it (what
``asyncio.run`` does on a second Ctrl-C) left futures half-resolved and printed
``InvalidStateError`` tracebacks.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from loopscope.tasks.errors import LoopscopeError

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(LoopscopeError):
    """The run was stopped by a signal; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        """The shell's convention: 128 + the signal's number (130 for Ctrl-C)."""
        return 128 + self.signum


async def await_to_the_end(task: asyncio.Task[T]) -> T:
    """Await ``task`` to its end even if the caller is cancelled meanwhile (a second Ctrl-C),
    then pass the cancellation on: half a close would leave workers behind."""
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return task.result()


def run_until_stopped(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, stopped cleanly by SIGINT, SIGTERM or SIGHUP (raises Stopped)."""
    return asyncio.run(_guarded(main))


async def _guarded(main: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            task.cancel()
        elif len(received) == 2:
            print("loopscope: closing, a moment...", file=sys.stderr, flush=True)

    installed = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append(signum)
    try:
        return await main
    except asyncio.CancelledError:
        if received:
            raise Stopped(received[0]) from None
        raise
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
