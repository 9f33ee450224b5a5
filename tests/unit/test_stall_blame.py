"""Where the stall watchdog says the loop's thread is held: at a line of code a user wrote,
not inside code made at run time (a namedtuple's ``__new__``, a dataclass's ``__init__``)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from loopscope.tasks.lag import StallWatchdog

MADE_AT_RUN_TIME: dict[str, Any] = {}
exec("def spin(done):\n    while not done:\n        pass\n", MADE_AT_RUN_TIME)
"""A function whose file is ``<string>``, as namedtuple and dataclass methods are."""


def holds_the_loop(done: list[int], entered: threading.Event) -> None:
    entered.set()
    MADE_AT_RUN_TIME["spin"](done)  # THE CALLER


def test_code_made_at_run_time_is_named_by_the_line_that_called_it() -> None:
    done: list[int] = []
    entered = threading.Event()
    watchdogs: list[StallWatchdog] = []

    def loop_thread() -> None:
        watchdogs.append(StallWatchdog(threshold=0.0))  # made on "the loop's" thread
        holds_the_loop(done, entered)

    thread = threading.Thread(target=loop_thread, daemon=True)
    thread.start()
    try:
        assert entered.wait(30)
        caught = watchdogs[0].catch()
        assert caught is not None
        source = Path(__file__).read_text().splitlines()
        line = next(n for n, text in enumerate(source, 1) if "# THE CALLER" in text)
        assert caught[0] == f"holds_the_loop (test_stall_blame.py:{line})"
    finally:
        done.append(1)
        thread.join(5)
