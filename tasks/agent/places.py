"""Places in the program's source: lines from instruction offsets, library or not, short reprs.

Small helpers shared by the recorder (in the loop's thread) and the row builder (in the
sender's thread); each is cached or bounded, since they run once per task or per row.
"""

from __future__ import annotations

import os
from types import CodeType

_AGENT_DIR = os.path.dirname(__file__) + os.sep


_LINES: dict[tuple[int, int], tuple[CodeType, int]] = {}


def line_at(code: CodeType, lasti: int) -> int:
    """The source line of instruction offset ``lasti`` in ``code`` (what ``f_lineno`` says)."""
    key = (id(code), lasti)
    known = _LINES.get(key)
    if known is not None and known[0] is code:
        return known[1]
    line = code.co_firstlineno
    for start, end, number in code.co_lines():
        if start <= lasti < end:
            line = number if number is not None else line
            break
    if len(_LINES) > 100_000:
        _LINES.clear()
    _LINES[key] = (code, line)
    return line


_STDLIB = os.path.dirname(os.__file__) + os.sep
_LIBRARY_CACHE: dict[str, bool] = {}


def is_library_file(filename: str) -> bool:
    """True for the standard library, installed packages and loopscope's agent itself."""
    known = _LIBRARY_CACHE.get(filename)
    if known is None:
        known = (
            filename.startswith((_STDLIB, _AGENT_DIR, "<frozen"))
            or "site-packages" in filename
            or "dist-packages" in filename
        )
        _LIBRARY_CACHE[filename] = known
    return known


def short_repr(value: object, limit: int = 80) -> str:
    """A repr a row can show: never long, never raising."""
    try:
        text = repr(value) if isinstance(value, int | float | bool) else _bounded_repr(value)
    except Exception:
        text = f"<{type(value).__qualname__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounded_repr(value: object) -> str:
    if isinstance(value, str | bytes):
        return repr(value[:100])
    if isinstance(value, list | tuple | set | dict | frozenset):
        return f"<{type(value).__name__} of {len(value)}>"
    return repr(value)
