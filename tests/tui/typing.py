"""Typing as fast as a terminal delivers keys: every key queued before the app handles any.

``pilot.press`` waits for the app to be idle after each key, which hides ordering bugs that a
person typing quickly (or a terminal pasting without bracketed paste) runs into.
"""

from __future__ import annotations

import unicodedata
from typing import TypeVar

from textual import events
from textual.app import App
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

AppResult = TypeVar("AppResult")

SPECIAL = {" ": "space", "\n": "enter", "\b": "backspace"}


def keys_for(text: str) -> list[str]:
    """``"ab c\\n"`` → ``["a", "b", "space", "c", "enter"]``; ``\\b`` is backspace."""
    return [SPECIAL.get(c) or (c if c.isalnum() else _character_to_key(c)) for c in text]


def type_burst(app: App[AppResult], *keys: str) -> None:
    """Queue every key at once, the way a terminal delivers a fast burst of input."""
    for key in keys:
        try:
            char: str | None = unicodedata.lookup(
                _get_unicode_name_from_key(REPLACED_KEYS.get(key, key))
            )
        except KeyError:
            char = key if len(key) == 1 else None
        app.post_message(events.Key(key, char))
