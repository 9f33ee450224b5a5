"""The command bar's own commands: ``set`` and ``clear``; anything else is a spec."""

from __future__ import annotations

import pytest

from loopscope.tasks.errors import SpecError
from loopscope.tui.bar_commands import (
    ClearFinished,
    SetLimits,
    parse_command,
    set_line,
    without_colon,
)


def test_a_spec_is_not_a_command() -> None:
    assert parse_command("sleep 1 x3") is None
    assert parse_command("   ") is None


def test_set_names_map_to_engine_options() -> None:
    assert parse_command("set limit=5 per_host=2 workers=8 processes=2") == SetLimits(
        {"connector_limit": 5, "limit_per_host": 2, "thread_workers": 8, "process_workers": 2}
    )
    assert parse_command("  set limit=0") == SetLimits({"connector_limit": 0})


def test_clear() -> None:
    assert parse_command("clear") == ClearFinished()


@pytest.mark.parametrize(
    ("text", "word", "fragment"),
    [
        ("set", "set", "what to set"),
        ("set limt=5", "limt=5", "unknown setting 'limt'"),
        ("set limit=abc", "limit=abc", "whole number"),
        ("set limit", "limit", "whole number"),
        ("set limit=-1", "limit=-1", "whole number"),
        ("clear now", "now", "nothing after"),
    ],
)
def test_mistakes_point_at_the_word(text: str, word: str, fragment: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_command(text)
    assert caught.value.word == word
    assert caught.value.position == text.index(word)
    assert fragment in caught.value.message


def test_set_line_round_trips() -> None:
    line = set_line(100, 0, 32, 2)
    assert parse_command(line) == SetLimits(
        {"connector_limit": 100, "limit_per_host": 0, "thread_workers": 32, "process_workers": 2}
    )


def test_a_leading_colon_is_ignored() -> None:
    """Trial: ``:set limit=5`` typed with its colon said ``unknown kind``."""
    assert parse_command(":set limit=5") == SetLimits({"connector_limit": 5})
    assert parse_command(" :clear") == ClearFinished()
    assert parse_command(":sleep 1") is None
    assert without_colon(":sleep 1") == " sleep 1"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("set limit=-3", "limit needs a whole number, 0 or more"),
        ("set workers=0", "workers needs a whole number, 1 or more"),
        (":set processes=-1", "processes needs a whole number, 1 or more"),
    ],
)
def test_a_negative_number_says_what_is_allowed(text: str, fragment: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_command(text)
    assert fragment in caught.value.message
    assert text[caught.value.position :].startswith(caught.value.word or "")
