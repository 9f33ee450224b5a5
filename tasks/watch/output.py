"""The watched program's stdout and stderr, kept in a bounded buffer.

A program that prints megabytes must cost the dashboard a fixed amount of memory: the buffer
keeps the newest ``max_lines`` lines, cuts any line longer than ``max_line_chars``, and counts
what it dropped so the screen can say so. Bytes are decoded incrementally (a UTF-8 character
split across two reads is not mangled); undecodable bytes become U+FFFD.
"""

from __future__ import annotations

import codecs
from collections import deque
from dataclasses import dataclass
from typing import Literal

Stream = Literal["stdout", "stderr", "loopscope"]

MAX_LINES = 5_000
MAX_LINE_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class OutputLine:
    """One line the program wrote, and where it wrote it."""

    number: int
    """1 for the first line ever received; keeps counting when old lines are dropped."""
    stream: Stream
    text: str


class ProgramOutput:
    """The newest lines of a program's output, with a change counter for the screen."""

    def __init__(self, *, max_lines: int = MAX_LINES, max_line_chars: int = MAX_LINE_CHARS) -> None:
        self.lines: deque[OutputLine] = deque(maxlen=max_lines)
        self.max_line_chars = max_line_chars
        self.total_lines = 0
        """Every complete line received, including those dropped from the buffer."""
        self.total_bytes = 0
        self.version = 0
        """Bumped whenever a line is added; the screen redraws only when it changed."""
        self._partial: dict[str, str] = {}
        self._decoders = {
            name: codecs.getincrementaldecoder("utf-8")(errors="replace")
            for name in ("stdout", "stderr")
        }

    @property
    def dropped_lines(self) -> int:
        """Lines received but no longer kept."""
        return self.total_lines - len(self.lines)

    def feed(self, stream: Stream, data: bytes) -> None:
        """Add bytes read from ``stream``; complete lines go into the buffer."""
        self.total_bytes += len(data)
        text = self._partial.pop(stream, "") + self._decoders[stream].decode(data)
        parts = text.split("\n")
        rest = parts.pop()
        for part in parts:
            self._add(stream, part)
        if len(rest) > self.max_line_chars:  # a line with no end in sight: show what came
            self._add(stream, rest)
            rest = ""
        if rest:
            self._partial[stream] = rest

    def close(self, stream: Stream) -> None:
        """The stream ended: a last line without a newline still counts."""
        rest = self._partial.pop(stream, "") + self._decoders[stream].decode(b"", final=True)
        if rest:
            self._add(stream, rest)

    def note(self, text: str) -> None:
        """A line from loopscope itself (the program started, exited...)."""
        self._add("loopscope", text)

    def tail(self, count: int) -> list[OutputLine]:
        """The newest ``count`` lines, oldest first."""
        if count <= 0:
            return []
        lines = self.lines
        start = max(0, len(lines) - count)
        return [lines[i] for i in range(start, len(lines))]

    def _add(self, stream: Stream, text: str) -> None:
        text = text.removesuffix("\r")
        if len(text) > self.max_line_chars:
            cut = len(text) - self.max_line_chars
            text = text[: self.max_line_chars] + f"… ({cut:,} more characters)"
        self.total_lines += 1
        self.lines.append(OutputLine(self.total_lines, stream, text))
        self.version += 1
