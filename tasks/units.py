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
    """A duration in one format everywhere, on screen and in the CLI.

    Precision shrinks as the duration grows, and the unit always shows:

    ==============  ===========  =====================================
    duration        looks like   why
    ==============  ===========  =====================================
    under 10 s      ``0.104 s``  to the millisecond: the figures people compare
    10 s to 1 min   ``12.3 s``   a tenth of a second is enough
    1 min to 1 h    ``4m29s``    minutes and seconds
    1 h or more     ``1h02m``    hours and minutes (never ``260m55s``)
    ==============  ===========  =====================================

    Each step is chosen after rounding, so 9.9996 s reads ``10.0 s`` and 59.96 s reads
    ``1m00s``, never ``10.000 s`` or ``60.0 s``. None (not measured) is an en dash.
    """
    if seconds is None:
        return "–"
    if seconds < 0:
        return "-" + human_seconds(-seconds)
    if round(seconds, 3) < 10:
        return f"{seconds:.3f} s"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours}h{minutes:02d}m"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``plural(1, "task")`` → ``1 task``; ``plural(1200, "task")`` → ``1,200 tasks``.

    ``many`` is the plural when adding an s is wrong (``plural(2, "process", "processes")``).
    """
    return f"{count:,} {word if count == 1 else (many or word + 's')}"
