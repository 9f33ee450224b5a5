"""Turning one word of a spec into a typed value: seconds, sizes, counts, booleans, choices.

Each parser takes the word as the user typed it and returns the value, or raises
:class:`~loopscope.tasks.errors.SpecError` with a message that says what would be right. The
parser of a spec attaches the word and its position, so these need not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from loopscope.tasks.errors import SpecError

MAX_SECONDS = 86_400.0
MAX_BLOCK_SECONDS = 60.0
"""``block`` freezes the event loop on purpose; longer than a minute is never a demo."""
MAX_CPU_N = 10**10
MAX_WRITE_BYTES = 64 * 2**30
MAX_INT = 10**18
"""The largest whole number a user kind's ``int`` parameter takes."""

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_INT = re.compile(r"^[+-]?\d[\d_]*$")


def parse_seconds(word: str, *, what: str = "seconds", maximum: float = MAX_SECONDS) -> float:
    """Seconds from ``0.5``, ``2s`` or ``200ms``: finite, 0 or more, at most ``maximum``."""
    text = word[:-1] if word.endswith("s") and not word.endswith("ms") else word
    scale = 1.0
    if word.endswith("ms"):
        text, scale = word[:-2], 0.001
    try:
        value = float(text) * scale
    except ValueError:
        raise SpecError(f"{what} must be a number like 0.5", word=word) from None
    if not math.isfinite(value) or value < 0:
        raise SpecError(f"{what} must be a number of seconds, 0 or more", word=word)
    if value > maximum:
        raise SpecError(f"{what} must be at most {maximum:g}", word=word)
    return value


def parse_timeout(word: str) -> float:
    """A timeout: more than 0. ``timeout=0`` would mean "none" to aiohttp, and a hung server
    would then hang the task forever, so it is refused rather than guessed at."""
    value = parse_seconds(word, what="timeout")
    if value <= 0:
        raise SpecError(
            "timeout must be more than 0 (leave it out for the default, 30 s)", word=word
        )
    return value


def parse_size(word: str) -> int:
    """Bytes from ``4096``, ``64K``, ``1.5MiB``, ``2G``."""
    match = _SIZE.match(word.strip())
    if not match:
        raise SpecError("a size must be a number of bytes like 4096, 64K or 10M", word=word)
    number, unit, _ = match.groups()
    value = int(float(number) * _SIZE_UNITS[unit.upper()])
    if value > MAX_WRITE_BYTES:
        raise SpecError("a size must be at most 64G", word=word)
    return value


def parse_count(word: str, *, what: str = "N", maximum: int = MAX_CPU_N) -> int:
    """A whole number from ``3000000``, ``3_000_000``, ``3e6`` or ``3M``: 1 or more."""
    text = word.replace("_", "")
    multiplier = 1
    if text[-1:] in ("k", "K", "M", "G"):
        multiplier = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9}[text[-1]]
        text = text[:-1]
    try:
        value = float(text) * multiplier
    except ValueError:
        raise SpecError(f"{what} must be a whole number like 3000000", word=word) from None
    if not math.isfinite(value) or value != int(value) or value < 1:
        raise SpecError(f"{what} must be a whole number, 1 or more", word=word)
    if value > maximum:
        raise SpecError(f"{what} must be at most {maximum:,}", word=word)
    return int(value)


def count_text(count: int) -> str:
    """A count for display, short as the spec language may write it (``3M``, ``2.5M``,
    ``500k``: ``parse_count`` reads these back), or in full with separators when no suffix
    says it exactly (``1,234,567``)."""
    for suffix, unit in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if count >= unit:
            return f"{count / unit:g}{suffix}" if count % (unit // 10) == 0 else f"{count:,}"
    return f"{count:,}"


def parse_int(word: str, *, what: str = "the value") -> int:
    """Any whole number (``-3``, ``1_000``) of at most 18 digits."""
    if not _INT.match(word) or len(word) > 24:
        raise SpecError(f"{what} must be a whole number like 3", word=word)
    value = int(word.replace("_", ""))
    if abs(value) > MAX_INT:
        raise SpecError(f"{what} must be at most {MAX_INT:.0e} either side of 0", word=word)
    return value


def parse_float(word: str, *, what: str = "the value") -> float:
    """A finite number such as ``0.5`` or ``-2e3``."""
    try:
        value = float(word)
    except ValueError:
        raise SpecError(f"{what} must be a number like 0.5", word=word) from None
    if not math.isfinite(value):
        raise SpecError(f"{what} must be a finite number", word=word)
    return value


def parse_bool(word: str) -> bool:
    """``true/yes/on/1`` or ``false/no/off/0``, in any case."""
    lowered = word.lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise SpecError("must be true or false", word=word)


def bool_text(word: str) -> str:
    """How a boolean is written back: ``true`` or ``false``."""
    return "true" if parse_bool(word) else "false"


def choice(choices: tuple[str, ...], key: str) -> Callable[[str], str]:
    """A parser that accepts one of ``choices`` in any case and returns it as listed."""
    by_lower = {option.lower(): option for option in choices}

    def parse(word: str) -> str:
        found = by_lower.get(word.lower())
        if found is None:
            raise SpecError(f"{key} must be one of {', '.join(choices)}", word=word)
        return found

    return parse


def text(word: str) -> str:
    """Any word, as typed."""
    return word
