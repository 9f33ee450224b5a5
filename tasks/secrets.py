"""Which words are secrets, and how they are shown: the one place that decides.

A secret is shown as ``***`` everywhere loopscope writes text a person or a file may keep:
spec echoes, error messages, tracebacks, records, reports, the screen. The rules:

* ``auth=user:password``: the password (``auth=env:NAME`` names a variable, and is shown);
* credentials in a URL, ``scheme://user:password@host`` (a password may hold ``@``: everything up
  to the last ``@`` of the authority is credentials), or ``scheme://token@host``;
* the value of a header that carries credentials: Authorization, Proxy-Authorization, Cookie,
  Set-Cookie, and any header whose name holds ``token``, ``key``, ``secret``, ``password`` or
  ``auth`` (``X-Api-Key``, ``X-Auth-Token``);
* ``password='...'`` as aiohttp's ``BasicAuth`` repr shows it.

Credentials need not be typed on the command line (where ``ps`` shows them): ``auth=env:NAME``
and ``header=Name:env:NAME`` read the value from the environment when the spec is parsed.

Masking over-masks rather than under-masks: text that merely looks like a secret is hidden too.
"""

from __future__ import annotations

import re

MASK = "***"
ENV_PREFIX = "env:"
"""``auth=env:NAME`` / ``header=Name:env:NAME``: the value comes from environment variable NAME."""

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_PARTS = ("token", "key", "secret", "password", "auth")


def is_secret_header(name: str) -> bool:
    """True for a header whose value is a credential (see the module docstring)."""
    lowered = name.strip().lower()
    return lowered in SECRET_HEADERS or any(part in lowered for part in _SECRET_PARTS)


# --- one word at a time: what the parser and the formatter use ---------------------------------

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def mask_url(url: str) -> str:
    """``https://user:secret@host/x`` → ``https://user:***@host/x``; a bare user is a token."""
    scheme = _SCHEME.match(url)
    if scheme is None:
        return url
    start = scheme.end()
    end = len(url)
    for stop in "/?#":
        found = url.find(stop, start)
        if found != -1:
            end = min(end, found)
    at = url.rfind("@", start, end)
    if at == -1:
        return url
    user, colon, _ = url[start:at].partition(":")
    shown = f"{user}:{MASK}" if colon else MASK
    return url[:start] + shown + url[at:]


def mask_auth(value: str) -> str:
    """The value of ``auth=``: ``user:***`` (``env:NAME`` is kept: it names no secret)."""
    if value.startswith(ENV_PREFIX):
        return value
    user, colon, _ = value.partition(":")
    return f"{user}:{MASK}" if colon else MASK


def mask_header(value: str) -> str:
    """The value of ``header=``: ``Name:***`` when Name carries credentials."""
    name, colon, rest = value.partition(":")
    if not colon or not is_secret_header(name) or rest.strip().startswith(ENV_PREFIX):
        return value
    return f"{name}:{MASK}"


def mask_option(key: str, value: str) -> str:
    """The value of option ``key`` as it may be shown."""
    if key == "auth":
        return mask_auth(value)
    if key == "header":
        return mask_header(value)
    return value


def mask_word(word: str) -> str:
    """One word of a spec as it may be shown: an option, a URL, or anything else."""
    key, equals, value = word.partition("=")
    if equals and key.lower() in ("auth", "header"):
        return f"{key}={mask_option(key.lower(), value)}"
    return mask_url(word)


# --- free text: messages, tracebacks, echoes of a line that did not parse -----------------------

_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}://)([^\s/?#'\"<>]*)@"
)
_QUOTED_AUTH = re.compile(r"""(?i)(['"])(auth=)(?!env:)([^:'"]*):([^'"]*)\1""")
_AUTH = re.compile(r"""(?i)\b(auth=)(?!env:)([^\s:'";]*):(\S+)""")
_QUOTED_HEADER = re.compile(r"""(?i)(['"])(header=)([^:'"]*):(?!\s*env:)([^'"]*)\1""")
_HEADER = re.compile(r"""(?i)\b(header=)([^\s:'";]*):(?!env:)(\S+)""")
# Name patterns are bounded ({0,40}) so a long run of letters cannot make matching quadratic.
_HEADER_NAME = r"[A-Za-z0-9_-]{0,40}(?:cookie|token|key|secret|password|auth)[A-Za-z0-9_-]{0,40}"
_QUOTED_PAIR = re.compile(
    rf"""(?i)(['"]{_HEADER_NAME}['"]\s*[:=]\s*)(['"])(?:(?!\2).)*\2"""
)
_HEADER_LINE = re.compile(
    r"(?im)^(\s*(?:authorization|proxy-authorization|cookie|set-cookie|"
    r"[A-Za-z0-9_]{1,40}-[A-Za-z0-9_-]{0,40}(?:token|key|secret|password|auth)[A-Za-z0-9_-]{0,40})"
    r"\s*:\s*)(\S.*)$"
)
_PASSWORD_ARG = re.compile(r"""(?i)\b(password\s*=\s*)(['"])(?:(?!\2).)*\2""")


def _url_credentials(match: re.Match[str]) -> str:
    user, colon, _ = match.group(2).partition(":")
    return f"{match.group(1)}{user}:{MASK}@" if colon else f"{match.group(1)}{MASK}@"


def _quoted_header(match: re.Match[str]) -> str:
    quote, prefix, name, _value = match.groups()
    if not is_secret_header(name):
        return match.group(0)
    return f"{quote}{prefix}{name}:{MASK}{quote}"


def _header(match: re.Match[str]) -> str:
    prefix, name, _ = match.groups()
    return f"{prefix}{name}:{MASK}" if is_secret_header(name) else match.group(0)


def mask_text(text: str) -> str:
    """Any text with every secret it shows replaced by ``***``: URL credentials, ``auth=``,
    ``header=`` values, quoted ``'Authorization': '...'`` pairs, header lines, ``password='...'``.
    """
    if not text:
        return text
    text = _URL_CREDENTIALS.sub(_url_credentials, text)
    text = _QUOTED_AUTH.sub(lambda m: f"{m[1]}{m[2]}{m[3]}:{MASK}{m[1]}", text)
    text = _AUTH.sub(lambda m: f"{m[1]}{m[2]}:{MASK}", text)
    text = _QUOTED_HEADER.sub(_quoted_header, text)
    text = _HEADER.sub(_header, text)
    text = _QUOTED_PAIR.sub(lambda m: f"{m[1]}{m[2]}{MASK}{m[2]}", text)
    text = _HEADER_LINE.sub(lambda m: f"{m[1]}{MASK}", text)
    return _PASSWORD_ARG.sub(lambda m: f"{m[1]}{m[2]}{MASK}{m[2]}", text)


def shorten(text: str, limit: int = 60) -> str:
    """At most ``limit`` characters: the start and the end, with ``…`` between."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    tail = limit - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]
