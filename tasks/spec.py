"""The spec language: one line of text that says what to launch.

``KIND ARGS [xN] [key=value ...]``, for example::

    fetch /delay/300 x20 timeout=1
    read ~/big.log mode=chunks
    cpu 3000000 x4 in=thread

Several specs can share a line, separated by ``;``. The CLI and the dashboard's command bar
both parse with :func:`parse_specs`; a bad spec raises :class:`~loopscope.tasks.errors.SpecError`, whose
``word`` is the offending word, and nothing else.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from loopscope.tasks.errors import SpecError

MAX_REPEAT = 100_000
"""The largest N in ``xN``: one launch of at most this many tasks."""
MAX_SECONDS = 86_400.0
MAX_BLOCK_SECONDS = 60.0
"""``block`` freezes the event loop on purpose; longer than a minute is never a demo."""
MAX_CPU_N = 10**10
MAX_WRITE_BYTES = 64 * 2**30
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS")
READ_MODES = ("whole", "lines", "chunks")
CPU_POOLS = ("process", "thread")

_REPEAT = re.compile(r"^x(\d+)$")
_OPTION = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)=(.*)$", re.DOTALL)
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One parsed spec: a kind, its positional words, how many copies, and its options.

    Values are kept as the user wrote them (after validation), so ``format_spec`` gives back
    text that parses to an equal spec.
    """

    kind: str
    args: tuple[str, ...] = ()
    repeat: int = 1
    options: tuple[tuple[str, str], ...] = ()

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


# --- value checks: each raises SpecError naming the word, or returns the parsed value -------


def parse_seconds(word: str, *, what: str = "seconds", maximum: float = MAX_SECONDS) -> float:
    text = word[:-1] if word.endswith("s") and not word.endswith("ms") else word
    scale = 1.0
    if word.endswith("ms"):
        text, scale = word[:-2], 0.001
    try:
        value = float(text) * scale
    except ValueError:
        raise SpecError(f"{what} must be a number like 0.5", word=word) from None
    if not math.isfinite(value) or value < 0:
        raise SpecError(f"{what} must be a number of seconds, 0 or more", word=word)
    if value > maximum:
        raise SpecError(f"{what} must be at most {maximum:g}", word=word)
    return value


def parse_size(word: str) -> int:
    """Bytes from ``4096``, ``64K``, ``1.5MiB``, ``2G``."""
    match = _SIZE.match(word.strip())
    if not match:
        raise SpecError("a size must be a number of bytes like 4096, 64K or 10M", word=word)
    number, unit, _ = match.groups()
    value = int(float(number) * _SIZE_UNITS[unit.upper()])
    if value > MAX_WRITE_BYTES:
        raise SpecError("a size must be at most 64G", word=word)
    return value


def parse_count(word: str, *, what: str, maximum: int) -> int:
    """A whole number from ``3000000``, ``3_000_000``, ``3e6`` or ``3M``."""
    text = word.replace("_", "")
    multiplier = 1
    if text[-1:] in ("k", "K", "M", "G"):
        multiplier = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9}[text[-1]]
        text = text[:-1]
    try:
        value = float(text) * multiplier
    except ValueError:
        raise SpecError(f"{what} must be a whole number like 3000000", word=word) from None
    if not math.isfinite(value) or value != int(value) or value < 1:
        raise SpecError(f"{what} must be a whole number, 1 or more", word=word)
    if value > maximum:
        raise SpecError(f"{what} must be at most {maximum:,}", word=word)
    return int(value)


def parse_bool(word: str) -> bool:
    lowered = word.lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise SpecError("must be true or false", word=word)


def _check_url(word: str) -> None:
    if word.startswith("/"):
        return
    lowered = word.lower()
    if not lowered.startswith(("http://", "https://")):
        raise SpecError(
            "a URL must start with http://, https:// or / (a path on the demo server)", word=word
        )
    host = word.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    if not host or host.startswith(":"):
        raise SpecError("the URL has no host", word=word)


def _check_header(word: str) -> None:
    name, sep, _ = word.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n"):
        raise SpecError("a header must look like Name:value", word=f"header={word}")
    if "\n" in word or "\r" in word:
        raise SpecError("a header cannot contain a line break", word=f"header={word}")


def _check_auth(word: str) -> None:
    user, sep, _ = word.partition(":")
    if not sep or not user:
        raise SpecError("auth must look like user:password", word="auth=…")


def _choice(choices: tuple[str, ...], key: str) -> Callable[[str], None]:
    def check(word: str) -> None:
        if word.upper() not in choices and word.lower() not in choices:
            raise SpecError(f"{key} must be one of {', '.join(choices)}", word=f"{key}={word}")

    return check


# --- the kinds -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KindSyntax:
    """How one kind is written: its usage line, what it does, and how its words are checked."""

    name: str
    usage: str
    summary: str
    check_args: Callable[[list[str]], None]
    options: dict[str, Callable[[str], object]]
    repeatable: frozenset[str] = frozenset()


def _exactly_one(what: str, check: Callable[[str], object]) -> Callable[[list[str]], None]:
    def check_args(args: list[str]) -> None:
        if not args:
            raise SpecError(f"this kind needs {what}")
        if len(args) > 1:
            raise SpecError(f"this kind takes one {what}; unexpected word", word=args[1])
        check(args[0])

    return check_args


def _fetch_args(args: list[str]) -> None:
    if not args:
        raise SpecError("fetch needs a URL, e.g. fetch /delay/200 or fetch https://example.com")
    if len(args) > 1:
        raise SpecError("fetch takes one URL; unexpected word", word=args[1])
    _check_url(args[0])


def _read_args(args: list[str]) -> None:
    if len(args) > 1:
        raise SpecError("read takes one PATH (quote a path with spaces)", word=args[1])
    if args and not args[0]:
        raise SpecError("the path is empty", word='""')


def _write_args(args: list[str]) -> None:
    if not args:
        raise SpecError("write needs a size, e.g. write 10M or write /tmp/out.bin 10M")
    if len(args) > 2:
        raise SpecError("write takes PATH and BYTES; unexpected word", word=args[2])
    parse_size(args[-1])
    if len(args) == 2 and not args[0]:
        raise SpecError("the path is empty", word='""')


def _fail_args(args: list[str]) -> None:
    return None


KINDS: dict[str, KindSyntax] = {
    kind.name: kind
    for kind in (
        KindSyntax(
            "fetch",
            "fetch URL [timeout=S] [method=GET] [header=Name:value] [auth=user:pw] [insecure=true]",
            "HTTP request with aiohttp; a URL starting with / goes to the demo server",
            _fetch_args,
            {
                "timeout": lambda w: parse_seconds(w, what="timeout"),
                "method": _choice(HTTP_METHODS, "method"),
                "header": _check_header,
                "auth": _check_auth,
                "insecure": parse_bool,
            },
            frozenset({"header"}),
        ),
        KindSyntax(
            "read",
            "read [PATH] [mode=whole|lines|chunks]",
            "read a file with aiofiles (no PATH: one of the generated sample files)",
            _read_args,
            {"mode": _choice(READ_MODES, "mode")},
        ),
        KindSyntax(
            "write",
            "write [PATH] BYTES [overwrite=true]",
            "write BYTES (4096, 64K, 10M) with aiofiles, then fsync; never replaces a file unasked",
            _write_args,
            {"overwrite": parse_bool},
        ),
        KindSyntax(
            "sleep",
            "sleep SECONDS",
            "await asyncio.sleep(SECONDS): waits without using the loop",
            _exactly_one("SECONDS", parse_seconds),
            {},
        ),
        KindSyntax(
            "thread",
            "thread SECONDS",
            "a blocking sleep run in the thread pool with run_in_executor",
            _exactly_one("SECONDS", parse_seconds),
            {},
        ),
        KindSyntax(
            "cpu",
            "cpu N [in=process|thread]",
            "pure-Python sum of squares up to N in the process pool (or threads: the GIL)",
            _exactly_one("N", lambda w: parse_count(w, what="N", maximum=MAX_CPU_N)),
            {"in": _choice(CPU_POOLS, "in")},
        ),
        KindSyntax(
            "fail",
            "fail [MESSAGE]",
            "raises an exception after a short delay",
            _fail_args,
            {},
        ),
        KindSyntax(
            "block",
            "block SECONDS",
            "time.sleep ON the event loop: freezes everything, on purpose",
            _exactly_one(
                "SECONDS",
                lambda w: parse_seconds(w, what="block seconds", maximum=MAX_BLOCK_SECONDS),
            ),
            {},
        ),
    )
}


# --- parsing ---------------------------------------------------------------------------------


def split_statements(text: str) -> list[str]:
    """Split a line at each ``;`` that is not quoted or escaped."""
    parts: list[str] = []
    current: list[str] = []
    quote: str | None = None
    escaped = False
    for char in text:
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
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def tokenize(text: str) -> list[list[str]]:
    """Split a line into specs at unquoted ``;``, and each into words the way a shell would.
    Empty specs are left out."""
    groups: list[list[str]] = []
    for part in split_statements(text):
        try:
            words = shlex.split(part)
        except ValueError as error:  # "No closing quotation", "No escaped character"
            raise SpecError(f"cannot split the line into words: {error}") from None
        if words:
            groups.append(words)
    return groups


def _located(error: SpecError, text: str) -> SpecError:
    if error.word is not None and error.position is None:
        found = text.find(error.word)
        error.position = found if found >= 0 else None
    return error


def parse_spec(text: str) -> TaskSpec:
    """Parse exactly one spec. Raises SpecError."""
    specs = parse_specs(text)
    if len(specs) != 1:
        raise SpecError("expected one spec, found several separated by ';'")
    return specs[0]


def parse_specs(text: str) -> list[TaskSpec]:
    """Parse a line of one or more specs separated by ``;``. Raises SpecError."""
    specs: list[TaskSpec] = []
    for group in tokenize(text):
        try:
            specs.append(_parse_words(group))
        except SpecError as error:
            raise _located(error, text) from None
    if not specs:
        raise SpecError(f"empty spec: start with a kind ({', '.join(KINDS)})")
    return specs


def _parse_words(words: list[str]) -> TaskSpec:
    kind_word, rest = words[0], words[1:]
    syntax = KINDS.get(kind_word.lower())
    if syntax is None:
        raise SpecError(f"unknown kind; choose one of {', '.join(KINDS)}", word=kind_word)
    args: list[str] = []
    options: list[tuple[str, str]] = []
    repeat: int | None = None
    for word in rest:
        if match := _REPEAT.match(word):
            if repeat is not None:
                raise SpecError("the count xN is given twice", word=word)
            repeat = int(match.group(1))
            if not 1 <= repeat <= MAX_REPEAT:
                raise SpecError(f"the count must be from x1 to x{MAX_REPEAT:,}", word=word)
            continue
        option = _OPTION.match(word)
        if option and not word.startswith(("/", ".", "~")):
            key, value = option.group(1).lower(), option.group(2)
            check = syntax.options.get(key)
            if check is None:
                known = ", ".join(syntax.options) or "none"
                raise SpecError(f"unknown option for {syntax.name} (known: {known})", word=word)
            if key not in syntax.repeatable and any(k == key for k, _ in options):
                raise SpecError(f"option {key} is given twice", word=word)
            check(value)
            options.append((key, _normal_option(key, value)))
            continue
        if repeat is not None or options:
            raise SpecError(
                f"unexpected word after the count or options; usage: {syntax.usage}", word=word
            )
        args.append(word)
    syntax.check_args(args)
    return TaskSpec(syntax.name, tuple(args), repeat or 1, tuple(options))


def _normal_option(key: str, value: str) -> str:
    if key == "method":
        return value.upper()
    if key in ("mode", "in"):
        return value.lower()
    if key in ("insecure", "overwrite"):
        return "true" if parse_bool(value) else "false"
    return value


# --- formatting ------------------------------------------------------------------------------

_URL_PASSWORD = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/:@]*:)([^/@]*)@")


def mask_url(url: str) -> str:
    """``https://user:secret@host`` → ``https://user:***@host``."""
    return _URL_PASSWORD.sub(r"\1***@", url)


def format_spec(spec: TaskSpec, *, mask_secrets: bool = True) -> str:
    """The spec as text that parses back to it (passwords shown as *** unless asked not to)."""
    words = [spec.kind]
    for arg in spec.args:
        words.append(mask_url(arg) if mask_secrets and spec.kind == "fetch" else arg)
    if spec.repeat != 1:
        words.append(f"x{spec.repeat}")
    for key, value in spec.options:
        if key == "auth" and mask_secrets:
            value = value.split(":", 1)[0] + ":***"
        words.append(f"{key}={value}")
    return " ".join(_quote(word) for word in words)


def _quote(word: str) -> str:
    if word and not re.search(r"[\s'\"\\;#|&<>()`$*?!\[\]{}]", word):
        return word
    if "?" in word and not re.search(r"[\s'\"\\;]", word):
        return word  # URLs with a query string read better unquoted; shlex keeps them whole
    return shlex.quote(word)


def describe_target(spec: TaskSpec) -> str:
    """What the task works on, for a table column: URL, path, seconds, N..."""
    kind, args = spec.kind, spec.args
    if kind == "fetch":
        method = spec.option("method", "GET")
        url = mask_url(args[0])
        return url if method == "GET" else f"{method} {url}"
    if kind == "read":
        path = args[0] if args else "(sample file)"
        mode = spec.option("mode", "whole")
        return path if mode == "whole" else f"{path} [{mode}]"
    if kind == "write":
        path = args[0] if len(args) == 2 else "(scratch file)"
        return f"{path} {args[-1]}"
    if kind in ("sleep", "thread", "block"):
        return f"{parse_seconds(args[0]):g} s"
    if kind == "cpu":
        n = parse_count(args[0], what="N", maximum=MAX_CPU_N)
        return f"{n:,} in {spec.option('in', 'process')}"
    if kind == "fail":
        return " ".join(args) or "(on purpose)"
    return " ".join(args)

