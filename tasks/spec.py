"""The spec language: one line of text that says what to launch.

``KIND ARGS [xN] [key=value ...]``, for example::

    fetch /delay/300 x20 timeout=1
    read ~/big.log mode=chunks
    cpu 3000000 x4 in=thread

Several specs can share a line, separated by ``;``. The CLI and the dashboard's command bar
both parse with :func:`parse_specs`; a bad spec raises :class:`~loopscope.tasks.errors.SpecError`,
whose ``word`` is the offending word and ``position`` where it starts.

The grammar of each kind (its words, options, types and defaults) lives in its :class:`Kind`
(``loopscope.tasks.kinds``); this module splits a line into words and hands each spec's words
to its kind, once per launch. The engine checks hand-built specs the same way
(:func:`prepare_specs`), so nothing unchecked reaches a task.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loopscope.tasks.errors import SpecError
from loopscope.tasks.kinds import registry
from loopscope.tasks.kinds.kind import Bound, Kind
from loopscope.tasks.kinds.values import (  # noqa: F401 - re-exported: the parser's value helpers
    MAX_BLOCK_SECONDS,
    MAX_CPU_N,
    MAX_SECONDS,
    MAX_WRITE_BYTES,
    parse_bool,
    parse_count,
    parse_seconds,
    parse_size,
)
from loopscope.tasks.secrets import mask_option, mask_text, mask_url

MAX_REPEAT = 100_000
"""The largest N in ``xN``, and the most tasks one launch may hold, however many specs."""
MAX_LINE_CHARS = 10_000
"""The longest line the parser reads. Longer input is refused before any work is done on it."""

_REPEAT = re.compile(r"^x(\d{1,7})$")
_HUGE_REPEAT = re.compile(r"^x\d{8,}$")
_OPTION = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)=(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True, repr=False)
class TaskSpec:
    """One spec: a kind, its positional words, how many copies, and its options.

    Values are kept as the user wrote them (after validation), so ``format_spec`` gives back
    text that parses to an equal spec. ``bound`` holds the typed arguments once the spec has
    been checked (by the parser, or by the engine for a spec built by hand); it takes no part
    in equality, and ``dataclasses.replace`` leaves it unset so a changed spec is checked again.
    """

    kind: str
    args: tuple[str, ...] = ()
    repeat: int = 1
    options: tuple[tuple[str, str], ...] = ()
    bound: Bound[Any] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    def option(self, key: str, default: str | None = None) -> str | None:
        """The last value given for ``key``, or ``default``."""
        for name, value in reversed(self.options):
            if name == key:
                return value
        return default

    def option_all(self, key: str) -> list[str]:
        """Every value given for a repeatable option such as ``header``."""
        return [value for name, value in self.options if name == key]

    def text(self, *, mask_secrets: bool = True) -> str:
        return format_spec(self, mask_secrets=mask_secrets)

    def __str__(self) -> str:
        return format_spec(self)

    def __repr__(self) -> str:  # secrets masked, like every other view of a spec
        args = tuple(mask_url(arg) for arg in self.args)
        options = tuple((key, mask_option(key, value)) for key, value in self.options)
        return (
            f"TaskSpec(kind={self.kind!r}, args={args!r}, repeat={self.repeat!r}, "
            f"options={options!r})"
        )


# --- splitting a line ------------------------------------------------------------------------


def split_statements(text: str) -> list[tuple[int, str]]:
    """Split a line at each ``;`` that is not quoted or escaped: ``(offset, text)`` pairs."""
    parts: list[tuple[int, str]] = []
    start = 0
    quote: str | None = None
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == ";":
            parts.append((start, text[start:index]))
            start = index + 1
    parts.append((start, text[start:]))
    return parts


def tokenize(text: str) -> list[list[str]]:
    """Split a line into specs at unquoted ``;``, and each into words the way a shell would.
    Empty specs are left out."""
    return [words for _, words in _statements(text)]


def _statements(text: str) -> list[tuple[int, list[str]]]:
    groups: list[tuple[int, list[str]]] = []
    for start, part in split_statements(text):
        try:
            words = shlex.split(part)
        except ValueError as error:  # "No closing quotation", "No escaped character"
            raise SpecError(f"cannot split the line into words: {error}") from None
        if words:
            groups.append((start, words))
    return groups


def check_length(text: str) -> None:
    """Refuse a line longer than MAX_LINE_CHARS at once, before reading any of it."""
    if len(text) > MAX_LINE_CHARS:
        raise SpecError(
            f"the line is {len(text):,} characters long; a spec line is at most "
            f"{MAX_LINE_CHARS:,}"
        )


def check_launch_size(specs: Iterable[TaskSpec]) -> int:
    """The number of tasks ``specs`` launch; SpecError if over MAX_REPEAT in all."""
    total = sum(spec.repeat for spec in specs)
    if total > MAX_REPEAT:
        raise SpecError(
            f"one launch is at most {MAX_REPEAT:,} tasks; these specs ask for {total:,}"
        )
    return total


# --- parsing ---------------------------------------------------------------------------------


def parse_spec(text: str) -> TaskSpec:
    """Parse exactly one spec. Raises SpecError."""
    specs = parse_specs(text)
    if len(specs) != 1:
        raise SpecError("expected one spec, found several separated by ';'")
    return specs[0]


def parse_specs(text: str) -> list[TaskSpec]:
    """Parse a line of one or more specs separated by ``;``. Raises SpecError.

    Each spec's words are parsed into typed values here, once; the engine's tasks use them.
    """
    check_length(text)
    specs: list[TaskSpec] = []
    for start, words in _statements(text):
        try:
            specs.append(_parse_words(words))
        except SpecError as error:
            raise _located(error, text, start) from None
    if not specs:
        raise SpecError(f"empty spec: start with a kind ({', '.join(registry.names())})")
    check_launch_size(specs)
    return specs


def _located(error: SpecError, text: str, start: int) -> SpecError:
    if error.word is not None and error.position is None:
        found = text.find(error.word, start)
        error.position = found if found >= 0 else None
    return error


def _parse_words(words: list[str]) -> TaskSpec:
    kind_word, rest = words[0], words[1:]
    kind = registry.get(kind_word.lower())
    if kind is None:
        choices = ", ".join(registry.names())
        raise SpecError(f"unknown kind; choose one of {choices}", word=kind_word)
    args: list[str] = []
    options: list[tuple[str, str, str]] = []
    repeat: int | None = None
    for word in rest:
        if match := _REPEAT.match(word):
            if repeat is not None:
                raise SpecError("the count xN is given twice", word=word)
            repeat = _repeat(int(match.group(1)), word)
            continue
        if _HUGE_REPEAT.match(word):
            raise SpecError(f"the count must be from x1 to x{MAX_REPEAT:,}", word=word)
        option = _OPTION.match(word)
        if option and not word.startswith(("/", ".", "~")):
            options.append((option.group(1).lower(), option.group(2), word))
            continue
        if repeat is not None or options:
            raise SpecError(
                f"unexpected word after the count or options; usage: {kind.usage}", word=word
            )
        args.append(word)
    values, kept = kind.bind(args, options)
    spec = TaskSpec(kind.name, tuple(args), repeat or 1, kept)
    _attach(spec, _bound(kind, values))
    return spec


def _repeat(count: int, word: str) -> int:
    if not 1 <= count <= MAX_REPEAT:
        raise SpecError(f"the count must be from x1 to x{MAX_REPEAT:,}", word=word)
    return count


def _bound(kind: Kind[Any], values: Any) -> Bound[Any]:
    """The launch-ready spec; its target masked whatever the kind's describe shows."""
    return Bound(kind, values, mask_text(kind.describe(values)))


def _attach(spec: TaskSpec, bound: Bound[Any]) -> None:
    object.__setattr__(spec, "bound", bound)  # a cache on a frozen value; not compared


# --- the engine's door -------------------------------------------------------------------------


def bind(spec: TaskSpec) -> Bound[Any]:
    """The spec's kind and typed arguments, checking its words now if it was built by hand.

    Raises SpecError for anything the parser would refuse.
    """
    if spec.bound is not None:
        return spec.bound
    kind = registry.get(spec.kind) if isinstance(spec.kind, str) else None
    if kind is None:
        raise SpecError(
            f"unknown kind; choose one of {', '.join(registry.names())}", word=str(spec.kind)
        )
    if not isinstance(spec.repeat, int) or isinstance(spec.repeat, bool):
        raise SpecError(f"the count must be a whole number from 1 to {MAX_REPEAT:,}")
    _repeat(spec.repeat, f"x{spec.repeat}")
    words = [*spec.args, *(value for pair in spec.options for value in pair)]
    if not all(isinstance(word, str) for word in words):
        raise SpecError("every word of a spec must be a string")
    check_length(" ".join(words))
    options = [(key, value, f"{key}={value}") for key, value in spec.options]
    values, _ = kind.bind(spec.args, options)
    bound = _bound(kind, values)
    _attach(spec, bound)
    return bound


def prepare_specs(specs: Iterable[TaskSpec]) -> tuple[TaskSpec, ...]:
    """Check specs before the engine launches them: each spec's words, and the launch's size.

    Specs from :func:`parse_specs` are already checked and cost nothing here.
    """
    checked = tuple(specs)
    for spec in checked:
        if not isinstance(spec, TaskSpec):
            raise SpecError(f"expected a TaskSpec, got {type(spec).__name__}")
        bind(spec)
    check_launch_size(checked)
    return checked


def describe_target(spec: TaskSpec) -> str:
    """What the task works on, for a table column: URL, path, seconds, N... (secrets masked)."""
    return bind(spec).target


# --- formatting ------------------------------------------------------------------------------


def format_spec(spec: TaskSpec, *, mask_secrets: bool = True) -> str:
    """The spec as text that parses back to it (secrets shown as *** unless asked not to)."""
    words = [spec.kind]
    words.extend(mask_url(arg) if mask_secrets else arg for arg in spec.args)
    if spec.repeat != 1:
        words.append(f"x{spec.repeat}")
    for key, value in spec.options:
        words.append(f"{key}={mask_option(key, value) if mask_secrets else value}")
    return " ".join(_quote(word) for word in words)


def _quote(word: str) -> str:
    if word and not re.search(r"[\s'\"\\;#|&<>()`$*?!\[\]{}]", word):
        return word
    if "?" in word and not re.search(r"[\s'\"\\;]", word):
        return word  # URLs with a query string read better unquoted; shlex keeps them whole
    return shlex.quote(word)
