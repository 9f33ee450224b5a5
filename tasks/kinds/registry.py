"""The kinds the spec language knows: the built-in ones, then any a user registered.

Public API::

    from loopscope.tasks.kinds.registry import register, get, all_kinds

The built-in kinds are imported on first use, so importing the parser stays cheap and a kind
module may itself import the parser's helpers.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loopscope.tasks.errors import KindError
from loopscope.tasks.kinds.kind import Kind

BUILTIN_MODULES = ("fetch", "read", "write", "sleep", "thread", "cpu", "fail", "block")
"""Each module under ``loopscope.tasks.kinds`` that declares one built-in ``KIND``."""

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_kinds: dict[str, Kind[Any]] = {}
_loaded = False


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    builtins: dict[str, Kind[Any]] = {}
    for module in BUILTIN_MODULES:
        declared: Kind[Any] = importlib.import_module(f"loopscope.tasks.kinds.{module}").KIND
        builtins[declared.name] = declared
    _kinds.update({**builtins, **_kinds})  # built-ins first, whatever registered before


def register(kind: Kind[Any]) -> Kind[Any]:
    """Add ``kind`` to the language. Registering the same object twice is a no-op; another
    kind with a taken name raises KindError."""
    _load_builtins()
    if not _NAME.match(kind.name):
        raise KindError(
            f"kind name {kind.name!r} must be lowercase letters, digits, - or _, "
            "starting with a letter (at most 32)"
        )
    existing = _kinds.get(kind.name)
    if existing is kind:
        return kind
    if existing is not None:
        where = "a built-in kind" if existing.builtin else f"declared in {existing.source}"
        raise KindError(f"kind {kind.name!r} already exists ({where}); choose another name")
    _kinds[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a user's kind (built-in kinds stay)."""
    _load_builtins()
    found = _kinds.get(name)
    if found is not None and found.builtin:
        raise KindError(f"kind {name!r} is built in and cannot be removed")
    _kinds.pop(name, None)


def get(name: str) -> Kind[Any] | None:
    """The kind called ``name``, or None."""
    _load_builtins()
    return _kinds.get(name)


def all_kinds() -> tuple[Kind[Any], ...]:
    """Every kind, built-in ones first, in the order they were declared."""
    _load_builtins()
    return tuple(_kinds.values())


def names() -> tuple[str, ...]:
    _load_builtins()
    return tuple(_kinds)


@contextmanager
def restoring() -> Iterator[None]:
    """Put the registry back as it was on exit (tests, and a kinds file that failed to load)."""
    _load_builtins()
    saved = dict(_kinds)
    try:
        yield
    finally:
        _kinds.clear()
        _kinds.update(saved)


@contextmanager
def restoring_on_error() -> Iterator[None]:
    """Put the registry back as it was if the block raises (a kinds file that failed half-way)."""
    _load_builtins()
    saved = dict(_kinds)
    try:
        yield
    except BaseException:
        _kinds.clear()
        _kinds.update(saved)
        raise
