"""Users' own kinds: an ``async def`` with typed parameters becomes a kind of task.

::

    from loopscope.tasks.kinds import KindContext, Seconds, kind

    @kind("scrape", help="fetch PAGES pages of PATH from the demo server")
    async def scrape(path: str, pages: int = 3, *, ctx: KindContext) -> str:
        ...

The signature is the grammar: a parameter without a default is a positional word
(``scrape /users``), one with a default or after ``*`` is a ``key=value`` option
(``pages=5``), ``*words: str`` takes every remaining word. Types: ``str``, ``int``, ``float``,
``bool``, :data:`Seconds` (``0.5``, ``200ms``), ``pathlib.Path`` (``~`` expanded), each
optionally ``| None``. A bad word is reported like any other: the message names the parameter
and the parser points at the word.

A parameter annotated :class:`KindContext` (any name) receives the engine's context: the
shared aiohttp session, the demo server's URLs, the thread pool, progress reporting. A task is
"running" from the moment the function is called; with ``starts_running=False`` it stays
"pending" until the function calls ``ctx.running()`` (after waiting for a slot of its own).
"""

from __future__ import annotations

import inspect
import os
import string
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union

from loopscope.tasks.errors import KindError, SpecError
from loopscope.tasks.kinds.kind import REQUIRED, Kind, Param
from loopscope.tasks.kinds.registry import register
from loopscope.tasks.kinds.values import parse_bool, parse_float, parse_int, parse_seconds
from loopscope.tasks.safe_text import printable
from loopscope.tasks.secrets import mask_text, mask_url

if TYPE_CHECKING:
    from concurrent.futures import Executor

    import aiohttp

    from loopscope.tasks.kinds.context import TaskContext
    from loopscope.tasks.records import TaskRecord

class _SecondsMark:
    def __repr__(self) -> str:
        return "seconds"


SECONDS = _SecondsMark()
Seconds = Annotated[float, SECONDS]
"""A duration: ``0.5``, ``2s`` or ``200ms`` in a spec, a float of seconds in the function
(``every: Seconds = 0.1``)."""

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
RESULT_LIMIT = 200
PREVIEW_LIMIT = 400


class KindContext:
    """What a user's kind may use while it runs, bound to its task."""

    __slots__ = ("_engine", "_record")

    def __init__(self, engine: TaskContext, record: TaskRecord) -> None:
        self._engine = engine
        self._record = record

    @property
    def session(self) -> aiohttp.ClientSession:
        """loopscope's one aiohttp session (its connection limits apply)."""
        return self._engine.session

    @property
    def thread_pool(self) -> Executor:
        """loopscope's thread pool, for ``loop.run_in_executor``."""
        return self._engine.thread_pool

    @property
    def task_id(self) -> int:
        return self._record.id

    def url(self, path: str) -> str:
        """A full URL for ``path``: ``/delay/100`` goes to the embedded demo server."""
        return self._engine.resolve_url(path)

    def running(self) -> None:
        """Mark the task running now (for a kind declared with ``starts_running=False``)."""
        self._engine.mark_running(self._record)

    def progress(self, done: int, total: int | None = None) -> None:
        """Report bytes done so far, and the total when known (the table's bytes column)."""
        self._engine.progress(self._record, done, total)

    def preview(self, text: str) -> None:
        """What the detail view shows as the task's output (the first few hundred characters)."""
        self._record.preview = printable(text[:PREVIEW_LIMIT], keep_lines=True)


@dataclass(frozen=True, slots=True)
class UserArgs:
    """A user kind's parsed arguments, by parameter name."""

    values: tuple[tuple[str, Any], ...]

    def __getitem__(self, name: str) -> Any:
        return dict(self.values)[name]


def _path(word: str) -> Path:
    if not word:
        raise SpecError("the path is empty", word='""')
    return Path(os.path.expanduser(word))


_TYPES: dict[object, tuple[Callable[[str, str], Any], str]] = {
    str: (lambda word, _: word, "TEXT"),
    int: (lambda word, what: parse_int(word, what=what), "N"),
    float: (lambda word, what: parse_float(word, what=what), "X"),
    bool: (lambda word, _: parse_bool(word), "true|false"),
    SECONDS: (lambda word, what: parse_seconds(word, what=what), "SECONDS"),
    Path: (lambda word, _: _path(word), "PATH"),
}
_TYPE_NAMES = "str, int, float, bool, Seconds, Path"


def kind(
    name: str,
    *,
    help: str,
    details: str = "",
    example: str = "",
    target: str = "",
    starts_running: bool = True,
) -> Callable[[F], F]:
    """Declare an ``async def`` as kind ``name`` and register it; the function is returned
    unchanged, so it can still be called (and tested) directly.

    ``target`` says what a task works on in the table, as a format string over the parameters
    (``"user {user}"``); by default the positional words.
    """

    def declare(function: F) -> F:
        declared = kind_from_function(
            function, name, help=help, details=details, example=example, target=target,
            starts_running=starts_running,
        )
        register(declared)
        return function

    return declare


def kind_from_function(
    function: Callable[..., Awaitable[Any]],
    name: str,
    *,
    help: str,
    details: str = "",
    example: str = "",
    target: str = "",
    starts_running: bool = True,
) -> Kind[UserArgs]:
    """The :class:`Kind` an ``async def`` declares (see the module docstring)."""
    where = f"kind {name!r}"
    if not inspect.iscoroutinefunction(function):
        raise KindError(f"{where}: {getattr(function, '__name__', function)!r} must be an "
                        "async def")
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as error:
        raise KindError(f"{where}: cannot read the type hints ({error})") from None
    signature = inspect.signature(function)
    args: list[Param] = []
    options: list[Param] = []
    calls: list[tuple[str, str]] = []
    """(parameter name, how it is passed: context, positional, many, keyword)."""
    has_many = any(p.kind is p.VAR_POSITIONAL for p in signature.parameters.values())
    for parameter in signature.parameters.values():
        annotation = hints.get(parameter.name, str)
        passed = "positional" if (
            parameter.kind is parameter.POSITIONAL_ONLY
            or (parameter.kind is parameter.POSITIONAL_OR_KEYWORD and has_many)
        ) else "keyword"
        if annotation is KindContext:
            calls.append((parameter.name, "context-" + passed))
            continue
        if parameter.kind is parameter.VAR_KEYWORD:
            raise KindError(f"{where}: **{parameter.name} is not supported; name each option")
        parse, metavar = _parser(where, parameter.name, annotation, parameter.default)
        default = REQUIRED if parameter.default is parameter.empty else parameter.default
        if parameter.kind is parameter.VAR_POSITIONAL:
            args.append(Param(parameter.name, parse, (), metavar=parameter.name.upper(),
                              many=True))
            calls.append((parameter.name, "many"))
        elif parameter.kind is parameter.POSITIONAL_ONLY or (
            parameter.kind is parameter.POSITIONAL_OR_KEYWORD and default is REQUIRED
        ):
            args.append(Param(parameter.name, parse, default, metavar=parameter.name.upper()))
            calls.append((parameter.name, passed))
        else:
            key = parameter.name.lower()
            options.append(Param(key, parse, default, metavar=metavar, name=parameter.name))
            calls.append((parameter.name, passed))
    _check_target(where, target, {p.field for p in (*args, *options)})
    runner = _Runner(function, tuple(calls), starts_running)
    try:
        return Kind(
            name,
            help=help,
            runner=runner,
            build=lambda **values: UserArgs(tuple(values.items())),
            args=tuple(args),
            options=tuple(options),
            describe=_Describe(tuple(p.field for p in args), target),
            details=details,
            example=example,
            source=str(inspect.getsourcefile(function) or getattr(function, "__module__", "?")),
        )
    except ValueError as error:
        raise KindError(str(error)) from None


def _check_target(where: str, target: str, fields: set[str]) -> None:
    try:
        named = {field for _, field, _, _ in string.Formatter().parse(target) if field is not None}
    except ValueError as error:
        raise KindError(f"{where}: target {target!r}: {error}") from None
    unknown = sorted(field.split(".")[0].split("[")[0] for field in named)
    unknown = [field for field in unknown if field not in fields]
    if unknown:
        raise KindError(f"{where}: target {target!r} names no parameter {unknown[0]!r}")


def _parser(
    where: str, name: str, annotation: object, default: object
) -> tuple[Callable[[str], Any], str]:
    optional = False
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        if len(members) == 1:
            annotation = members[0]
    if typing.get_origin(annotation) is Annotated:
        base, *marks = typing.get_args(annotation)
        annotation = SECONDS if SECONDS in marks else base
    found = _TYPES.get(annotation)
    if found is None:
        shown = getattr(annotation, "__name__", repr(annotation))
        raise KindError(f"{where}: parameter {name!r} has type {shown}; "
                        f"supported: {_TYPE_NAMES} (or one of them | None)")
    if optional and default is not None:
        raise KindError(f"{where}: parameter {name!r} is optional, so its default must be None")
    convert, metavar = found
    return (lambda word: convert(word, name)), metavar


@dataclass(frozen=True, slots=True)
class _Describe:
    """The target column of a user kind: its positional values, passwords masked."""

    positional: tuple[str, ...]
    template: str = ""

    def __call__(self, args: UserArgs) -> str:
        values = dict(args.values)
        if self.template:
            try:
                return mask_url(self.template.format(**values))
            except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                pass  # e.g. "{every:g}" of a None: show the words rather than fail the launch
        words: list[str] = []
        for name in self.positional:
            value = values[name]
            words.extend(str(v) for v in (value if isinstance(value, tuple) else (value,)))
        return mask_url(" ".join(words)) if words else "—"


@dataclass(frozen=True, slots=True)
class _Runner:
    """Calls the user's function with the parsed values, and the context where asked."""

    function: Callable[..., Awaitable[Any]]
    calls: tuple[tuple[str, str], ...]
    starts_running: bool

    async def __call__(self, engine: TaskContext, record: TaskRecord, args: UserArgs) -> str:
        if self.starts_running:
            engine.mark_running(record)
        values = dict(args.values)
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        for name, passed in self.calls:
            value: Any = (
                KindContext(engine, record) if passed.startswith("context") else values[name]
            )
            if passed == "many":
                positional.extend(value)
            elif passed.endswith("positional"):
                positional.append(value)
            else:
                keywords[name] = value
        return _summary(await self.function(*positional, **keywords))


def _summary(result: object) -> str:
    """The task's result column: one line, secrets masked, at most RESULT_LIMIT characters."""
    if result is None:
        return "done"
    text = " ".join(mask_text(str(result)[: RESULT_LIMIT * 4]).split())
    return text if len(text) <= RESULT_LIMIT else text[: RESULT_LIMIT - 1] + "…"


__all__ = ["KindContext", "Seconds", "UserArgs", "kind", "kind_from_function"]
