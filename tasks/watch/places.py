"""Places in the watched program's source, written for a screen."""

from __future__ import annotations

from loopscope.tasks.agent.model import Frame


def where(frame: Frame | None) -> str:
    """``crawler.py:42``: the file name and line, the parts that differ between frames."""
    if frame is None:
        return ""
    return f"{frame.file.rsplit('/', 1)[-1]}:{frame.line}"
