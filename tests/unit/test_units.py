"""One time format everywhere (issue 10 saw ``9.013 s``, ``10.0 s``, ``4m29s`` and ``260m55s``)."""

from __future__ import annotations

import pytest

from loopscope.tasks.units import human_bytes, human_seconds, plural


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "–"),
        (0.0, "0.000 s"),
        (0.1044, "0.104 s"),
        (9.013, "9.013 s"),
        (9.9996, "10.0 s"),  # never "10.000 s"
        (12.34, "12.3 s"),
        (59.96, "1m00s"),  # never "60.0 s"
        (269.0, "4m29s"),
        (3599.6, "1h00m"),  # never "60m00s"
        (3720.0, "1h02m"),
        (15655.0, "4h21m"),  # was "260m55s"
        (-0.5, "-0.500 s"),
    ],
)
def test_human_seconds(seconds: float | None, shown: str) -> None:
    assert human_seconds(seconds) == shown


def test_minutes_never_reach_sixty_and_hours_always_show() -> None:
    for whole in range(0, 5 * 3600, 7):
        text = human_seconds(float(whole))
        if "m" in text and "h" not in text:
            assert int(text.split("m")[0]) < 60, text
        if whole >= 3600:
            assert "h" in text, text


@pytest.mark.parametrize(
    ("count", "word", "many", "shown"),
    [
        (0, "task", None, "0 tasks"),
        (1, "task", None, "1 task"),
        (1200, "task", None, "1,200 tasks"),
        (1, "chunk", None, "1 chunk"),
        (2, "fetch", "fetches", "2 fetches"),
        (1, "fetch", "fetches", "1 fetch"),
    ],
)
def test_plural(count: int, word: str, many: str | None, shown: str) -> None:
    assert plural(count, word, many) == shown


def test_human_bytes() -> None:
    assert human_bytes(None) == ""
    assert human_bytes(34) == "34 B"
    assert human_bytes(1536) == "1.5 KiB"
