"""What the command bar takes besides specs: ``set NAME=VALUE ...`` and ``clear``.

``set`` changes the engine's limits while it runs (``set limit=5 per_host=2 workers=8
processes=2``); ``clear`` drops the finished rows and resets the session totals. Any other line
is a spec. A mistake raises :class:`SpecError` pointing at the word, so the bar shows it the
way it shows a bad spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loopscope.tasks.errors import SpecError

SETTINGS: dict[str, str] = {
    "limit": "connector_limit",
    "per_host": "limit_per_host",
    "workers": "thread_workers",
    "processes": "process_workers",
}
"""The names a user types → the engine's option names."""

LOWEST = {"limit": 0, "per_host": 0, "workers": 1, "processes": 1}
"""The smallest value each setting takes (0 connections means no limit; pools need one)."""

SETTING_HELP = "set limit=N per_host=N workers=N processes=N (limit=0, per_host=0: no limit)"


@dataclass(frozen=True, slots=True)
class SetLimits:
    """``set ...``: the engine options to change, by the engine's names."""

    changes: dict[str, int]


@dataclass(frozen=True, slots=True)
class ClearFinished:
    """``clear``: drop the finished rows, reset the session totals."""


Command = SetLimits | ClearFinished


def without_colon(text: str) -> str:
    """The line without a leading ``:`` typed out of habit (``:set limit=5``): a space takes
    its place, so positions in error messages still point into the line as typed."""
    stripped = text.lstrip()
    if stripped.startswith(":"):
        at = len(text) - len(stripped)
        return text[:at] + " " + text[at + 1 :]
    return text


def parse_command(text: str) -> Command | None:
    """The command on this line, or None when the line is a spec. Raises SpecError.

    A leading ``:`` is ignored (see ``without_colon``)."""
    text = without_colon(text)
    words = [(m.group(), m.start()) for m in re.finditer(r"\S+", text)]
    if not words:
        return None
    first = words[0][0]
    if first == "clear":
        if len(words) > 1:
            word, at = words[1]
            raise SpecError("clear takes nothing after it", word=word, position=at)
        return ClearFinished()
    if first != "set":
        return None
    if len(words) == 1:
        raise SpecError(f"what to set? {SETTING_HELP}", word="set", position=words[0][1])
    changes: dict[str, int] = {}
    for word, at in words[1:]:
        name, equals, value = word.partition("=")
        if name not in SETTINGS:
            known = ", ".join(SETTINGS)
            raise SpecError(f"unknown setting {name!r}: one of {known}", word=word, position=at)
        if not equals or not value.isdigit() or int(value) < LOWEST[name]:
            raise SpecError(
                f"{name} needs a whole number, {LOWEST[name]} or more, e.g. {name}=5",
                word=word, position=at,
            )
        changes[SETTINGS[name]] = int(value)
    return SetLimits(changes)


def set_line(connector_limit: int, limit_per_host: int, workers: int, processes: int) -> str:
    """The ``set`` line for the current values, for the user to edit (the ``L`` key)."""
    return (
        f"set limit={connector_limit} per_host={limit_per_host} workers={workers} "
        f"processes={processes}"
    )
