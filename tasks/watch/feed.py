"""What the watch screen reads about a watched program, as protocols.

The agent inside the program (``loopscope.tasks.agent``) defines the real records and the wire;
this module names only the attributes the dashboard reads, so the screen works the same on the
real stream, on a recording, or on the deterministic fake the snapshot tests use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

TASK_STATES = ("pending", "ready", "running", "suspended", "done", "exception", "cancelled")
"""Every state a watched task can be in, in the order of its life."""
FINISHED = frozenset({"done", "exception", "cancelled"})


class Frame(Protocol):
    """One place in the program's source."""

    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def function(self) -> str: ...


class TaskSnapshot(Protocol):
    """One task of the watched program, as the agent last saw it."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def coro(self) -> str:
        """The coroutine's qualified name."""
    @property
    def created_at(self) -> Frame | None: ...
    @property
    def parent(self) -> int | None:
        """The id of the task that created it, None for a root task."""
    @property
    def state(self) -> str:
        """One of TASK_STATES."""
    @property
    def busy_s(self) -> float: ...
    @property
    def scheduled_s(self) -> float: ...
    @property
    def idle_s(self) -> float: ...
    @property
    def steps(self) -> int: ...
    @property
    def longest_step_s(self) -> float: ...
    @property
    def longest_step_at(self) -> Frame | None: ...
    @property
    def await_chain(self) -> Sequence[Frame]:
        """Where it is suspended: outermost frame first, innermost last."""
    @property
    def awaiting(self) -> str:
        """The innermost awaited object, e.g. ``Event.wait()``, ``sleep(1.0)``."""
    @property
    def result(self) -> str | None: ...
    @property
    def exception(self) -> str | None:
        """``Type: message`` when it raised."""
    @property
    def traceback(self) -> str | None: ...


class LagSpike(Protocol):
    """A step that held the loop, and who held it."""

    @property
    def at_s(self) -> float:
        """Seconds since the program started."""
    @property
    def duration_s(self) -> float: ...
    @property
    def task_id(self) -> int | None: ...
    @property
    def task_name(self) -> str: ...
    @property
    def where(self) -> Frame | None: ...


class WatchWarning(Protocol):
    """Something the agent noticed: a long step, a stuck task, an unretrieved exception."""

    @property
    def at_s(self) -> float: ...
    @property
    def kind(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def task_id(self) -> int | None: ...


def where(frame: Frame | None) -> str:
    """``crawler.py:42`` (file name only: the part that differs between frames)."""
    if frame is None:
        return ""
    return f"{frame.file.rsplit('/', 1)[-1]}:{frame.line}"
