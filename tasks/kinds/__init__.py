"""The kinds of task: one module per built-in kind, and the registry users add theirs to.

A kind is one :class:`~loopscope.tasks.kinds.kind.Kind` object: its words and options with
types and defaults, its one-line help, how its target is described, and its runner. A runner
gets the manager (as a :class:`~loopscope.tasks.kinds.context.TaskContext`), the task's record
and the spec's parsed arguments (parsed once per launch). It calls ``ctx.mark_running`` when
the task truly starts (a worker picked it up, a connection was free), reports bytes through
``ctx.progress``, and returns a short summary of its result. Raising ends the task in the
``exception`` state.

Users declare their own kinds with :func:`~loopscope.tasks.kinds.user.kind`; see
``examples/my_kinds.py``. This package imports no built-in kind module itself (the registry
does, on first use), so the spec parser can import it cheaply.
"""

from __future__ import annotations

from loopscope.tasks.kinds.kind import Kind, Param
from loopscope.tasks.kinds.registry import all_kinds, get, register, unregister
from loopscope.tasks.kinds.user import KindContext, Seconds, kind

__all__ = [
    "Kind",
    "KindContext",
    "Param",
    "Seconds",
    "all_kinds",
    "get",
    "kind",
    "register",
    "unregister",
]
