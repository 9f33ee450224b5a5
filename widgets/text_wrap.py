"""Wrapping a short styled line (an event, a job) into a narrow panel: between words, a number
never parted from its unit, the rows after the first indented so each item reads as one.

Rich's own wrap breaks at any space, so ``probe lag 0.250 s`` could end a row with ``0.250``
and start the next with ``s``; these panels are narrow at 80 columns, where that happened.
"""

from __future__ import annotations

import re

from rich.text import Text

WORD = re.compile(r"\S+(?: (?:s|ms)(?=\s|$))?\s*")
"""A word and the spaces after it; a number keeps its unit (``0.250 s`` never breaks)."""


def break_points(plain: str, width: int) -> list[int]:
    """Where each row of ``plain`` wrapped to ``width`` starts (after the first): between
    words, a word longer than a row folded. A panel not laid out yet (no width) gets one
    cell a row rather than a loop that never ends."""
    width = max(1, width)
    starts: list[int] = []
    row_start = 0
    for match in WORD.finditer(plain):
        start = match.start()
        word_end = start + len(match.group().rstrip())
        if word_end - row_start > width and start > row_start:  # the word starts a row
            row_start = start
            starts.append(start)
        while word_end - row_start > width:  # a word longer than a row: folded
            row_start += width
            starts.append(row_start)
    return starts


def hanging(text: Text, width: int, indent: int = 2) -> list[Text]:
    """``text`` wrapped to ``width``, its continuation lines indented ``indent`` cells, so each
    event reads as one item and none loses its end (the task, the probe's figure) at the
    edge. Before its panel has a width (``width`` 0, a hidden panel) ``text`` is left whole."""
    if width <= 0:
        return [text]
    first_cut = break_points(text.plain, width)[:1]
    if not first_cut:
        return [text]
    first, rest = text.divide(first_cut)
    first.rstrip()
    rest.rstrip()
    lines = [first]
    for row in rest.divide(break_points(rest.plain, max(1, width - indent))):
        row.rstrip()
        lines.append(Text(" " * indent) + row)
    return lines


def newest_that_fit(items: list[Text], width: int, rows: int) -> list[Text]:
    """The rows of the newest ``items`` (oldest first in the list) that fit in ``rows``: the
    newest whole, each older one whole while it fits, the last of them cut to what is left
    (its start, which names what happened, then "…")."""
    lines: list[Text] = []
    for item in reversed(items):
        left = rows - len(lines)
        if left <= 0:
            break
        wrapped = hanging(item, width)
        if len(wrapped) > left:
            wrapped = wrapped[:left]
            wrapped[-1].truncate(max(0, width - 1))
            wrapped[-1].rstrip()
            wrapped[-1].append("…")
        lines[:0] = wrapped
    return lines
