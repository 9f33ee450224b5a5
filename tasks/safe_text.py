"""Text from outside, made safe to show on a terminal, and text made to fit an output encoding.

A server chooses its reason phrase, headers and body; a file name can hold any byte but ``/``;
an exception message repeats both. Written raw to a terminal, an ``ESC ] 0 ; … BEL`` in any of
them retitles the window and an ``ESC [ 31 m`` recolours everything after it (worse sequences
exist). :func:`printable` escapes every control character so the text is shown, never obeyed.
The engine applies it when it stores text on a task record, so every screen (the CLI table,
JSON, the dashboard) gets safe text without doing anything itself.

:func:`fit_encoding` is for the other end: a stdout that can only encode ASCII
(``PYTHONIOENCODING=ascii``, a C locale) gets ``-`` for an en dash rather than a
``UnicodeEncodeError``.
"""

from __future__ import annotations

import codecs
import re

_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0 controls, DEL, C1 controls (\x9b is a one-byte CSI)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional overrides ("Trojan source")
    "\u2028\u2029]"  # line and paragraph separators
)
_CONTROL_KEEPING_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, keep_lines: bool = False) -> str:
    """``text`` with every control character written as an escape (``ESC`` → ``\\x1b``).

    With ``keep_lines`` newlines and tabs stay as they are (a body preview, a traceback) and
    ``CRLF`` becomes a newline; otherwise they are escaped too, so the text stays on one row.
    Escaping is idempotent: escaped text has no control characters left to escape.
    """
    if keep_lines:
        return _CONTROL_KEEPING_LINES.sub(_escape, text.replace("\r\n", "\n"))
    return _CONTROL.sub(_escape, text)


def printable_or_none(text: str | None, *, keep_lines: bool = False) -> str | None:
    return None if text is None else printable(text, keep_lines=keep_lines)


_ASCII_STAND_INS = str.maketrans(
    {
        "–": "-",
        "—": "-",
        "…": "...",
        "×": "x",
        "→": "->",
        "←": "<-",
        "≈": "~",
        "µ": "u",
        "²": "^2",
        "·": ".",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "█": "#",
        "▏": "|",
        "│": "|",
        "─": "-",
        "▶": ">",
        "■": "#",
        "✗": "x",
        "✓": "v",
        "°": "deg",
    }
)


STAND_INS = "loopscope-stand-ins"
"""The name of a codec error handler: a character the stream cannot encode is written as its
ASCII stand-in (``-`` for ``–``), else as a ``\\u`` escape."""


def _stand_in(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start : error.end].translate(_ASCII_STAND_INS)
    return chunk.encode("ascii", "backslashreplace").decode("ascii"), error.end


codecs.register_error(STAND_INS, _stand_in)


def fit_encoding(text: str, encoding: str | None) -> str:
    """``text`` as it can be written to a stream in ``encoding``: unchanged when it fits,
    else with stand-ins (see :data:`STAND_INS`). Never raises."""
    if not encoding:
        return text
    try:
        return text.encode(encoding, STAND_INS).decode(encoding)
    except LookupError:
        return text


def fit_stream(stream: object) -> None:
    """Make a text stream that cannot encode typographic characters (an ASCII locale,
    ``PYTHONIOENCODING=ascii``) write stand-ins instead of raising ``UnicodeEncodeError``:
    every print, argparse's help included, then works. A UTF-8 stream is left alone."""
    encoding = getattr(stream, "encoding", None)
    reconfigure = getattr(stream, "reconfigure", None)
    if not encoding or reconfigure is None:
        return
    try:
        "–…".encode(encoding)
    except UnicodeEncodeError:
        reconfigure(errors=STAND_INS)
    except LookupError:
        return
