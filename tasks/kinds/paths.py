"""Helpers shared by the file kinds (``read``, ``write``)."""

from __future__ import annotations

import os
from pathlib import Path

from loopscope.tasks.errors import SpecError

PREVIEW_BYTES = 400


def user_path(word: str) -> Path:
    """The path a user typed, with ``~`` expanded (a string operation, no I/O)."""
    return Path(os.path.expanduser(word))


def path_word(word: str) -> str:
    """A PATH as typed, refused when empty (``read ""``)."""
    if not word:
        raise SpecError("the path is empty", word='""')
    return word


def preview(data: bytes) -> str:
    """The first few hundred bytes as text, for the detail view."""
    return data[:PREVIEW_BYTES].decode("utf-8", errors="replace")
