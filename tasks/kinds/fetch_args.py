"""The words of ``fetch``: URL and options parsed once per spec into a :class:`FetchPlan`.

Secrets may come from the environment rather than the command line (where ``ps`` shows
them): ``auth=env:NAME`` reads ``user:password`` from variable NAME, and
``header=Name:env:NAME`` reads the header's value. The spec's text keeps ``env:NAME``, never the
secret.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from loopscope.tasks.errors import SpecError
from loopscope.tasks.secrets import ENV_PREFIX, is_secret_header, mask_url

NO_TIMEOUT = aiohttp.ClientTimeout(total=None)
"""aiohttp arms no timer of its own for a fetch: the engine keeps its time limit."""
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS")
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host"})
"""Headers aiohttp sets from the request itself; a wrong one breaks the request's framing."""


@dataclass(frozen=True, slots=True, repr=False)
class FetchPlan:
    """Everything about a request that depends only on its spec, worked out once per spec."""

    method: str
    url: str
    timeout_s: float | None
    """The spec's ``timeout=``; None: the engine's default (tasks/fetch_deadlines.py)."""
    headers: CIMultiDict[str] | None = field(repr=False)
    """Including ``Authorization: Basic …`` for ``auth=``, built once per spec."""
    verify_tls: bool
    secret_headers: bool = field(init=False, repr=False, compare=False)
    """True when a header carries credentials (dropped on a cross-origin redirect)."""
    options: Mapping[str, object] = field(init=False, repr=False, compare=False)
    """The request's keyword options the plan sets (aiohttp's own defaults for the others),
    made once per spec rather than once per request."""

    def __post_init__(self) -> None:
        secret = self.headers is not None and any(
            is_secret_header(name) for name in self.headers
        )
        # The fetch kind's time limit is kept by tasks/fetch_deadlines.py (one timer for all
        # fetches, not aiohttp's one per request); the session's own total timeout stays for
        # its other users (scenarios, user kinds).
        options: dict[str, object] = {"timeout": NO_TIMEOUT}
        if self.headers is not None:
            options["headers"] = self.headers
        if not self.verify_tls:
            options["ssl"] = False
        object.__setattr__(self, "secret_headers", secret)
        object.__setattr__(self, "options", options)  # read only, never changed

    def __repr__(self) -> str:
        return f"<FetchPlan {describe(self)} timeout={self.timeout_s}>"


def parse_url(word: str) -> str:
    if word.startswith("/"):
        return word
    lowered = word.lower()
    if not lowered.startswith(("http://", "https://")):
        raise SpecError(
            "a URL must start with http://, https:// or / (a path on the demo server)", word=word
        )
    host = word.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    if not host or host.startswith(":"):
        raise SpecError("the URL has no host", word=word)
    if any(char.isspace() or ord(char) < 32 for char in word):
        raise SpecError("a URL cannot hold spaces or control characters", word=word)
    return word


def from_environment(value: str, what: str) -> str:
    """``env:NAME`` → the value of environment variable NAME; anything else as it is."""
    if not value.startswith(ENV_PREFIX):
        return value
    name = value[len(ENV_PREFIX) :]
    found = os.environ.get(name)
    if not name or found is None:
        raise SpecError(f"{what}: environment variable {name or '(no name)'} is not set")
    return found


def parse_header(word: str) -> tuple[str, str]:
    """``Name:value`` (or ``Name:env:NAME``) → ``(name, value)``."""
    name, sep, value = word.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or any(c in name for c in " \t\r\n"):
        raise SpecError("a header must look like Name:value")
    if name.lower() in FRAMING_HEADERS:
        raise SpecError(f"{name} is set by aiohttp from the request itself; leave it out")
    value = from_environment(value, "header")
    if "\n" in value or "\r" in value:
        raise SpecError("a header cannot contain a line break")
    return name, value


def parse_auth(word: str) -> tuple[str, str]:
    """``user:password`` (or ``env:NAME`` holding ``user:password``) → ``(user, password)``."""
    text = from_environment(word, "auth")
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise SpecError("auth must look like user:password (or env:NAME holding user:password)")
    return user, password


def build_plan(
    url: str,
    timeout: float | None,
    method: str,
    headers: tuple[tuple[str, str], ...],
    auth: tuple[str, str] | None,
    insecure: bool,
) -> FetchPlan:
    pairs: CIMultiDict[str] | None = CIMultiDict(headers) if headers else None
    if auth is not None:
        if pairs is not None and "Authorization" in pairs:
            raise SpecError("give auth= or header=Authorization:…, not both")
        pairs = pairs or CIMultiDict()
        pairs["Authorization"] = basic_auth(*auth)
    return FetchPlan(
        method=method,
        url=url,
        timeout_s=timeout,
        headers=pairs,
        verify_tls=not insecure,
    )


def basic_auth(user: str, password: str) -> str:
    """The ``Authorization`` value for HTTP basic auth (UTF-8, as RFC 7617 recommends)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def describe(plan: FetchPlan) -> str:
    """``GET`` is left out; the password is masked; ``insecure=true`` always shows."""
    url = mask_url(plan.url)
    target = url if plan.method == "GET" else f"{plan.method} {url}"
    return target if plan.verify_tls else f"{target} (TLS not verified)"


Handler = Callable[[aiohttp.ClientRequest], Awaitable[aiohttp.ClientResponse]]


def keep_secrets_at_origin(url: str) -> Callable[[aiohttp.ClientRequest, Handler], Awaitable[
    aiohttp.ClientResponse
]]:
    """A client middleware that drops every credential header (X-Api-Key, X-Auth-Token...) from
    a request to another origin than ``url``'s, as aiohttp itself does for Authorization and
    Cookie when it follows a redirect. It runs for each hop of a redirect chain."""
    origin = URL(url).origin()

    async def middleware(
        request: aiohttp.ClientRequest, handler: Handler
    ) -> aiohttp.ClientResponse:
        if request.url.origin() != origin:
            for name in [name for name in request.headers if is_secret_header(name)]:
                request.headers.popall(name, None)
        return await handler(request)

    return middleware
