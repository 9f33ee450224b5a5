"""The spec language: what parses, what it means, and the errors a user sees."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopscope.tasks.errors import SpecError
from loopscope.tasks.kinds.registry import names
from loopscope.tasks.kinds.values import count_text, parse_count, parse_size
from loopscope.tasks.spec import (
    MAX_REPEAT,
    TaskSpec,
    describe_target,
    format_spec,
    parse_spec,
    parse_specs,
)


def test_the_issue_examples_parse() -> None:
    assert parse_spec("fetch /delay/300 x20 timeout=1") == TaskSpec(
        "fetch", ("/delay/300",), 20, (("timeout", "1"),)
    )
    assert parse_spec("read ~/big.log mode=chunks") == TaskSpec(
        "read", ("~/big.log",), 1, (("mode", "chunks"),)
    )
    assert parse_spec("cpu 3000000 x4 in=thread") == TaskSpec(
        "cpu", ("3000000",), 4, (("in", "thread"),)
    )


def test_several_specs_on_one_line() -> None:
    specs = parse_specs("sleep 1 x3; fail boom ;thread 0.5")
    assert [s.kind for s in specs] == ["sleep", "fail", "thread"]
    assert specs[0].repeat == 3
    assert specs[1].args == ("boom",)


def test_a_quoted_semicolon_is_a_word_not_a_separator() -> None:
    assert parse_specs("fail ';'; read 'a;b'") == [
        TaskSpec("fail", (";",)),
        TaskSpec("read", ("a;b",)),
    ]


def test_a_query_string_is_not_an_option() -> None:
    spec = parse_spec("fetch /flaky?p=0.3 x10")
    assert spec.args == ("/flaky?p=0.3",)
    assert spec.repeat == 10


def test_headers_repeat_and_method_is_normalised() -> None:
    spec = parse_spec('fetch https://h.test/ method=post header=A:1 "header=B: two words"')
    assert spec.option("method") == "POST"
    assert spec.option_all("header") == ["A:1", "B: two words"]


def test_the_password_is_masked_when_shown() -> None:
    spec = parse_spec("fetch https://me:secret@h.test/x auth=alice:hunter2")
    shown = format_spec(spec)
    assert "hunter2" not in shown
    assert "secret" not in shown
    assert "alice:***" in shown
    assert "me:***@" in shown
    assert "secret" not in describe_target(spec)
    assert parse_spec(format_spec(spec, mask_secrets=False)) == spec


@pytest.mark.parametrize(
    ("text", "word", "fragment"),
    [
        ("fetc /x", "fetc", "unknown kind"),
        ("fetch example.com", "example.com", "http://"),
        ("fetch", None, "needs URL"),
        ("sleep soon", "soon", "number"),
        ("sleep -1", "-1", "0 or more"),
        ("sleep 1 x0", "x0", "x1"),
        (f"sleep 1 x{MAX_REPEAT + 1}", f"x{MAX_REPEAT + 1}", "100,000"),
        ("sleep 1 x2 x3", "x3", "twice"),
        ("sleep 1 colour=red", "colour=red", "unknown option"),
        ("fetch /x method=FETCH", "method=FETCH", "GET"),
        ("fetch /x header=nocolon", "header=nocolon", "Name:value"),
        ("read a b", "b", "unexpected word"),
        ("cpu 1.5", "1.5", "whole number"),
        ("block 600", "600", "at most"),
        ("write lots", "lots", "size"),
        ("sleep 1 x2 extra", "extra", "unexpected"),
        ("sleep 'unclosed", None, "quotation"),
        ("", None, "empty"),
        (" ; ", None, "empty"),
    ],
)
def test_bad_specs_name_the_offending_word(text: str, word: str | None, fragment: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_specs(text)
    assert caught.value.word == word
    assert fragment in str(caught.value)
    if word is not None:
        assert caught.value.position == text.find(word)


def test_sizes() -> None:
    assert parse_size("4096") == 4096
    assert parse_size("64K") == 65536
    assert parse_size("1.5MiB") == 1572864


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_garbage_raises_only_spec_errors(text: str) -> None:
    try:
        specs = parse_specs(text)
    except SpecError as error:  # may or may not come (any text): pytest.raises does not fit
        assert str(error)  # noqa: PT017
    else:
        assert all(spec.kind in names() for spec in specs)


_word = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(["sleep", "thread", "block"]),
    seconds=st.floats(min_value=0, max_value=60, allow_nan=False).map(lambda f: f"{f:g}"),
    repeat=st.integers(1, MAX_REPEAT),
)
def test_round_trip_timed_kinds(kind: str, seconds: str, repeat: int) -> None:
    spec = TaskSpec(kind, (seconds,), repeat)
    assert parse_spec(format_spec(spec)) == spec


@settings(max_examples=300, deadline=None)
@given(message=st.lists(_word, max_size=3), path=_word, repeat=st.integers(1, 50))
def test_round_trip_words_that_need_quoting(message: list[str], path: str, repeat: int) -> None:
    for spec in (
        TaskSpec("fail", tuple(w for w in message if not _looks_special(w)), repeat),
        TaskSpec("read", () if _looks_special(path) else (path,), repeat, (("mode", "lines"),)),
    ):
        assert parse_spec(format_spec(spec)) == spec


def _looks_special(word: str) -> bool:
    """Words the grammar reads as a count or an option rather than a positional."""
    import re

    return bool(re.match(r"^x\d+$", word) or re.match(r"^[A-Za-z_][A-Za-z0-9_-]*=", word))


# --- bounds (issue 11: 5, 9, 10) -------------------------------------------------------------


@pytest.mark.parametrize("timeout", ["0", "0.0", "0ms", "0s"])
def test_a_zero_timeout_is_refused_not_read_as_none(timeout: str) -> None:
    with pytest.raises(SpecError, match="more than 0") as caught:
        parse_specs(f"fetch /delay/100 timeout={timeout}")
    assert caught.value.word == f"timeout={timeout}"


def test_no_timeout_keeps_the_session_default() -> None:
    spec = parse_spec("fetch /delay/100")
    assert spec.bound is not None
    assert spec.bound.args.timeout_s is None  # the 30 s default
    assert parse_spec("fetch /x timeout=0.25").bound.args.timeout_s == 0.25  # type: ignore[union-attr]


def test_the_whole_launch_is_capped_not_just_each_spec() -> None:
    with pytest.raises(SpecError, match="at most 100,000 tasks; these specs ask for 4,000,000"):
        parse_specs("sleep 0 x100000;" * 40)
    assert len(parse_specs("sleep 0 x50000; sleep 0 x50000")) == 2


def test_an_overlong_line_is_refused_before_it_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import loopscope.tasks.spec as spec_module

    def no_scan(text: str) -> list[tuple[int, str]]:
        raise AssertionError("the parser scanned the overlong line")

    monkeypatch.setattr(spec_module, "split_statements", no_scan)
    line = "fetch /" + "a" * 1_000_000
    with pytest.raises(SpecError) as caught:
        parse_specs(line)
    message = str(caught.value)
    assert "1,000,007 characters" in message
    assert "at most 10,000" in message
    assert len(message) < 120


def test_an_error_quotes_at_most_a_few_dozen_characters() -> None:
    word = "z" * 5000
    with pytest.raises(SpecError) as caught:
        parse_specs(f"sleep {word}")
    assert caught.value.word == word
    assert caught.value.position == 6
    assert len(str(caught.value)) < 120


def test_the_cli_caps_the_launch_over_all_its_arguments() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", *["sleep 0 x100000"] * 3],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "these specs ask for 300,000" in lines[0]
    assert "Traceback" not in out.stderr
    assert "MemoryError" not in out.stderr


def test_a_cpu_target_shows_its_count_as_the_spec_may_write_it() -> None:
    """Trial at 160 columns: "2,000,000 in proc…" was cut; "2M in process" fits whole."""
    assert [count_text(n) for n in (3_000_000, 2_500_000, 500_000, 1_500, 999)] == [
        "3M", "2.5M", "500k", "1.5k", "999",
    ]
    assert all(parse_count(count_text(n)) == n for n in (3_000_000, 2_500_000, 500_000, 1_500))
    assert count_text(1_234_000) == "1,234,000", "no suffix says it exactly: in full"
    assert describe_target(parse_spec("cpu 2000000 x2 in=process")) == "2M in process"
