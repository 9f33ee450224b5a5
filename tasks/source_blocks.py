"""The source code a scenario runs: its coroutine and the module's helpers it calls.

The scenario picker shows it beside the list, so a learner reads the real code while it runs
(and sees, on each ``await`` line, how many tasks wait there: ``Introspector.suspended_lines``).
"""

from __future__ import annotations

import dis
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType, FunctionType
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceBlock:
    """One function's source, where it sits in its file."""

    name: str
    filename: str
    first_line: int
    lines: tuple[str, ...]
    """The source lines, without their newlines."""

    def line_numbers(self) -> range:
        return range(self.first_line, self.first_line + len(self.lines))


def _names(code: CodeType) -> set[str]:
    """Global names a function and the functions nested in it load (not attribute names)."""
    names = {
        str(op.argval) for op in dis.get_instructions(code) if op.opname == "LOAD_GLOBAL"
    }
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names(const)
    return names


def _block(function: FunctionType) -> SourceBlock | None:
    try:
        lines, first = inspect.getsourcelines(function)
    except (OSError, TypeError):
        return None
    return SourceBlock(
        function.__qualname__, function.__code__.co_filename, first,
        tuple(line.rstrip("\n") for line in lines),
    )


def source_blocks(run: Callable[..., Any], *, limit: int = 6) -> tuple[SourceBlock, ...]:
    """``run``'s source first, then the functions of its own module it calls (at most
    ``limit`` blocks in all, in file order); empty when the source cannot be read."""
    if not isinstance(run, FunctionType):
        return ()
    first = _block(run)
    if first is None:
        return ()
    module_globals = run.__globals__
    filename = run.__code__.co_filename
    seen = {run}
    helpers: list[FunctionType] = []
    queue = [run]
    while queue and len(helpers) < limit - 1:
        function = queue.pop()
        for name in sorted(_names(function.__code__)):
            value = module_globals.get(name)
            if (
                isinstance(value, FunctionType)
                and value not in seen
                and value.__code__.co_filename == filename
            ):
                seen.add(value)
                helpers.append(value)
                queue.append(value)
    blocks = [b for b in (_block(h) for h in helpers[: limit - 1]) if b is not None]
    return (first, *sorted(blocks, key=lambda b: b.first_line))
