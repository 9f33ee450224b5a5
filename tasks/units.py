"""Small formatting helpers shared by reports and widgets: bytes and durations for people."""

from __future__ import annotations


def human_bytes(count: float | None) -> str:
    """``1536`` → ``1.5 KiB``; None → ``""``."""
    if count is None:
        return ""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def human_seconds(seconds: float | None) -> str:
    """A duration to the millisecond: ``0.204 s``, ``12.3 s``, ``2m05s``."""
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.3f} s"
    if seconds < 100:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"
