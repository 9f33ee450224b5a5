"""A kind of task as one object: its words, its help, how its target reads, and its runner.

Every kind, built in or a user's, is a :class:`Kind`. The spec parser, the CLI's help, the
dashboard's help screen and palette, the README's table and the engine all read it, so a kind is
declared once, in its own module (``kinds/sleep.py``...) or with ``@kind`` in a user's file.

A spec's words are turned into typed values once per launch (:meth:`Kind.bind`); the runner of
each task gets those values, never the text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from loopscope.tasks.errors import SpecError
from loopscope.tasks.kinds.values import text

if TYPE_CHECKING:
    from loopscope.tasks.kinds.context import TaskContext
    from loopscope.tasks.records import TaskRecord

A = TypeVar("A")


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a parameter the user must give."""


@dataclass(frozen=True, slots=True)
class Param:
    """One positional word or one ``key=value`` option of a kind."""

    key: str
    """The option's key as typed (``timeout``), or a positional's name for messages."""
    parse: Callable[[str], Any] = text
    """Word → typed value; raises SpecError saying what would be right."""
    default: Any = REQUIRED
    metavar: str = ""
    """How usage shows it: ``URL`` for a positional, ``S`` in ``timeout=S`` for an option."""
    many: bool = False
    """A positional that takes every remaining word, or an option that may repeat."""
    normal: Callable[[str], str] | None = None
    """How an option's text is kept in the spec (``method=post`` → ``POST``)."""
    name: str = ""
    """The keyword the value is built with, when it differs from ``key`` (``in`` → ``pool``)."""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def field(self) -> str:
        return self.name or self.key

    def value(self, word: str, *, shown: str | None = None) -> Any:
        """Parse ``word``; an error names ``shown`` (the whole ``key=value``) or the word."""
        try:
            return self.parse(word)
        except SpecError as error:
            error.word = shown if shown is not None else (error.word or word)
            error.position = None
            raise


@dataclass(frozen=True, eq=False)
class Kind(Generic[A]):
    """What one kind of task is. ``A`` is the type of its parsed arguments."""

    name: str
    help: str
    """One line: what a task of this kind does."""
    runner: Callable[[TaskContext, TaskRecord, A], Awaitable[str]]
    """Runs one task; returns a short summary of its result. Raising ends it in ``exception``."""
    build: Callable[..., A]
    """Builds the parsed arguments from keyword values, one per parameter."""
    args: tuple[Param, ...] = ()
    options: tuple[Param, ...] = ()
    describe: Callable[[A], str] = repr
    """The task's target as a table shows it (URL, path, seconds...), secrets masked."""
    details: str = ""
    """More about the kind, for the README's table."""
    example: str = ""
    """A spec that works offline, for help and the palette (default: the usage)."""
    source: str = "built in"
    """Where the kind was declared: ``built in`` or the user's file."""
    _options: dict[str, Param] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_options", {param.key: param for param in self.options})
        many = [param for param in self.args if param.many]
        if many and self.args[-1] is not many[0]:
            raise ValueError(f"kind {self.name}: only the last positional may take many words")

    @property
    def builtin(self) -> bool:
        return self.source == "built in"

    @property
    def usage(self) -> str:
        """``fetch URL [timeout=S] [header=Name:value]…`` and so on."""
        words = [self.name]
        for param in self.args:
            metavar = param.metavar or param.key.upper()
            if param.many:
                metavar += "…"
            words.append(metavar if param.required else f"[{metavar}]")
        for param in self.options:
            option = f"{param.key}={param.metavar or param.key.upper()}"
            words.append(option if param.required else f"[{option}]" + ("…" if param.many else ""))
        return " ".join(words)

    def option(self, key: str) -> Param | None:
        return self._options.get(key)

    def bind(
        self, words: Sequence[str], options: Sequence[tuple[str, str, str]]
    ) -> tuple[A, tuple[tuple[str, str], ...]]:
        """Parse positional ``words`` and ``(key, value, word)`` options into typed arguments.

        Returns the arguments and the options as they are kept in the spec (normalised text).
        Raises SpecError naming the offending word.
        """
        values = self._bind_positionals(words)
        kept: list[tuple[str, str]] = []
        given: dict[str, list[Any]] = {}
        for key, value, word in options:
            param = self._options.get(key)
            if param is None:
                known = ", ".join(self._options) or "none"
                raise SpecError(f"unknown option for {self.name} (known: {known})", word=word)
            if key in given and not param.many:
                raise SpecError(f"option {key} is given twice", word=word)
            given.setdefault(key, []).append(param.value(value, shown=word))
            kept.append((key, param.normal(value) if param.normal else value))
        for param in self.options:
            if param.key in given:
                found = given[param.key]
                values[param.field] = tuple(found) if param.many else found[0]
            elif param.required:
                raise SpecError(f"{self.name} needs the option {param.key}=…; usage: {self.usage}")
            else:
                values[param.field] = param.default
        return self.build(**values), tuple(kept)

    def _bind_positionals(self, words: Sequence[str]) -> dict[str, Any]:
        fixed = [param for param in self.args if not param.many]
        required = sum(1 for param in fixed if param.required)
        if len(words) < required:
            missing = [param for param in fixed if param.required][len(words)]
            raise SpecError(
                f"{self.name} needs {missing.metavar or missing.key.upper()}; usage: {self.usage}"
            )
        spare = len(words) - required
        values: dict[str, Any] = {}
        index = 0
        for param in self.args:
            if param.many:
                values[param.field] = tuple(param.value(word) for word in words[index:])
                index = len(words)
            elif param.required or spare > 0:
                if not param.required:
                    spare -= 1
                values[param.field] = param.value(words[index])
                index += 1
            else:
                values[param.field] = param.default
        if index < len(words):
            raise SpecError(
                f"unexpected word (quote a word that holds spaces); usage: {self.usage}",
                word=words[index],
            )
        return values


@dataclass(frozen=True, slots=True)
class Bound(Generic[A]):
    """A spec ready to launch: its kind, its parsed arguments, and its target text."""

    kind: Kind[A]
    args: A
    target: str

    def run(self, ctx: TaskContext, record: TaskRecord) -> Awaitable[str]:
        """One task of this spec (each copy of ``xN`` shares the parsed arguments)."""
        return self.kind.runner(ctx, record, self.args)
