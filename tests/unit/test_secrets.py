"""Secrets never shown, credentials from the environment, framing headers refused, insecure
always said, credential headers dropped on a cross-origin redirect (issue 11: 16, 17, 18, 23)."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from loopscope.tasks.errors import SpecError
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskState
from loopscope.tasks.secrets import mask_text, mask_url
from loopscope.tasks.spec import format_spec, parse_spec, parse_specs
from tests.unit.test_kinds import run_one

SECRET = "s3cr3t-value"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:pw@host/x", "https://user:***@host/x"),
        ("https://user:p@ss@w0rd@host/x?q=1", "https://user:***@host/x?q=1"),
        ("https://token123@host/", "https://***@host/"),
        ("https://host/path@not-credentials", "https://host/path@not-credentials"),
        ("/delay/100", "/delay/100"),
    ],
)
def test_url_credentials_are_masked_up_to_the_last_at(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.mark.parametrize(
    "option",
    [
        f"header=Authorization:Bearer {SECRET}",
        f"header=Proxy-Authorization:Basic {SECRET}",
        f"header=Cookie:session={SECRET}",
        f"header=X-Api-Key:{SECRET}",
        f"header=x-auth-token:{SECRET}",
        f"auth=alice:{SECRET}",
    ],
)
def test_credential_options_are_masked_in_every_view_of_the_spec(option: str) -> None:
    spec = parse_spec(f"fetch 'https://me:{SECRET}@h.test/x' '{option}' method=POST")
    assert spec.bound is not None
    for shown in (format_spec(spec), str(spec), repr(spec), spec.bound.target,
                  repr(spec.bound.args)):
        assert SECRET not in shown, shown
    assert parse_spec(format_spec(spec, mask_secrets=False)) == spec


def test_other_headers_are_shown() -> None:
    spec = parse_spec("fetch /x header=Accept:text/plain header=X-Trace:abc")
    assert "header=Accept:text/plain" in format_spec(spec)
    assert "header=X-Trace:abc" in format_spec(spec)


@pytest.mark.parametrize(
    "text",
    [
        f"fetch /x auth=user:{SECRET} method=BOGUS",
        f"fetch https://user:{SECRET}@h.test/ nonsense",
        f"fetch /x 'header=Authorization:Bearer {SECRET}' header=bad",
        f"fetch https://user:{SECRET}@h.test/ x0",
    ],
)
def test_a_bad_spec_never_echoes_a_secret(text: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_specs(text)
    assert SECRET not in str(caught.value)
    out = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", text], capture_output=True, text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert SECRET not in out.stderr
    assert "bad spec" in out.stderr


def test_free_text_masking() -> None:
    text = (
        f"GET https://bob:{SECRET}@h.test/ failed\n"
        f"headers={{'X-Api-Key': '{SECRET}', 'Accept': 'text/plain'}}\n"
        f"Authorization: Bearer {SECRET}\n"
        f"BasicAuth(login='bob', password='{SECRET}', encoding='latin1')\n"
        f"fetch /x 'auth=bob:{SECRET} x'"
    )
    masked = mask_text(text)
    assert SECRET not in masked
    assert "'Accept': 'text/plain'" in masked
    assert "https://bob:***@h.test/" in masked


async def test_an_invalid_url_error_and_its_traceback_are_masked(manager: TaskManager) -> None:
    record = await run_one(manager, f"fetch http://user:{SECRET}@127.0.0.1:99999/")
    assert record.state is TaskState.EXCEPTION
    assert record.error is not None
    assert "invalid URL: http://user:***@127.0.0.1" in record.error
    assert record.traceback is not None
    assert "InvalidUrlClientError" in record.traceback
    assert SECRET not in record.error
    assert SECRET not in record.traceback
    assert SECRET not in record.target


async def test_a_kinds_error_message_is_masked(manager: TaskManager) -> None:
    record = await run_one(manager, f"fail https://me:{SECRET}@h.test/ broke")
    assert record.error == "InjectedFailure: https://me:***@h.test/ broke"
    assert SECRET not in (record.traceback or "")


def test_the_json_report_holds_no_secret(refused_port: int) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", "--json",
         f"fetch http://u:{SECRET}@127.0.0.1:{refused_port}/ 'header=X-Api-Key:{SECRET}'"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout
    report = json.loads(out.stdout)
    assert report["tasks"][0]["state"] == "exception"


# --- credentials from the environment, framing headers, insecure --------------------------------


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A server on 127.0.0.1 that remembers the headers of each request it gets."""
    seen: list[dict[str, str]] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_credentials_can_come_from_the_environment(
    manager: TaskManager, echo_server: tuple[str, list[dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, seen = echo_server
    monkeypatch.setenv("LOOPSCOPE_TEST_LOGIN", f"alice:{SECRET}")
    monkeypatch.setenv("LOOPSCOPE_TEST_KEY", SECRET)
    text = (
        f"fetch {base}/echo auth=env:LOOPSCOPE_TEST_LOGIN"
        " header=X-Api-Key:env:LOOPSCOPE_TEST_KEY"
    )
    spec = parse_spec(text)
    assert SECRET not in format_spec(spec, mask_secrets=False)  # the text names the variable
    assert "auth=env:LOOPSCOPE_TEST_LOGIN" in format_spec(spec)
    record = await run_one(manager, text)
    assert record.state is TaskState.DONE, record.error
    assert seen[0]["X-Api-Key"] == SECRET
    assert seen[0]["Authorization"].startswith("Basic ")
    assert base64.b64decode(seen[0]["Authorization"][6:]).decode() == f"alice:{SECRET}"


def test_an_unset_variable_is_a_spec_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOPSCOPE_NOT_SET", raising=False)
    with pytest.raises(SpecError, match="LOOPSCOPE_NOT_SET is not set") as caught:
        parse_specs("fetch /x header=Authorization:env:LOOPSCOPE_NOT_SET")
    assert caught.value.word == "header=Authorization:env:LOOPSCOPE_NOT_SET"


@pytest.mark.parametrize(
    "header", ["Content-Length:5", "transfer-encoding:chunked", "Host:evil.test"]
)
def test_framing_headers_are_refused(header: str) -> None:
    with pytest.raises(SpecError, match="set by aiohttp") as caught:
        parse_specs(f"fetch /x header={header}")
    assert caught.value.word == f"header={header}"


async def test_insecure_shows_in_target_and_result(manager: TaskManager) -> None:
    record = await run_one(manager, "fetch /delay/1 insecure=true")
    assert record.state is TaskState.DONE, record.error
    assert record.target == "/delay/1 (TLS not verified)"
    assert record.result.endswith("(TLS not verified)")
    secure = await run_one(manager, "fetch /delay/1")
    assert "TLS" not in secure.target + secure.result


# --- redirects ---------------------------------------------------------------------------------


@pytest.fixture
async def redirector(
    echo_server: tuple[str, list[dict[str, str]]],
) -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """Another origin (another port) whose /away redirects to the echo server and whose /here
    redirects to its own /echo."""
    target, _ = echo_server
    seen_here: list[dict[str, str]] = []

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{target}/echo")

    async def here(request: web.Request) -> web.Response:
        raise web.HTTPFound("/echo")

    async def echo(request: web.Request) -> web.Response:
        seen_here.append(dict(request.headers))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/away", away)
    app.router.add_get("/here", here)
    app.router.add_get("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen_here
    finally:
        await runner.cleanup()


async def test_credential_headers_do_not_follow_a_cross_origin_redirect(
    manager: TaskManager,
    echo_server: tuple[str, list[dict[str, str]]],
    redirector: tuple[str, list[dict[str, str]]],
) -> None:
    _, seen_away = echo_server
    base, seen_here = redirector
    headers = f"header=X-Api-Key:{SECRET} header=X-Auth-Token:{SECRET} header=X-Trace:keep"
    record = await run_one(manager, f"fetch {base}/away {headers}")
    assert record.state is TaskState.DONE, record.error
    (away,) = seen_away
    assert "X-Api-Key" not in away
    assert "X-Auth-Token" not in away
    assert away["X-Trace"] == "keep"

    record = await run_one(manager, f"fetch {base}/here {headers}")
    assert record.state is TaskState.DONE, record.error
    (here,) = seen_here
    assert here["X-Api-Key"] == SECRET
    assert here["X-Auth-Token"] == SECRET  # same origin: kept


async def test_the_guard_holds_for_concurrent_copies_of_one_spec(
    manager: TaskManager,
    echo_server: tuple[str, list[dict[str, str]]],
    redirector: tuple[str, list[dict[str, str]]],
) -> None:
    _, seen_away = echo_server
    base, _ = redirector
    batch = manager.launch(f"fetch {base}/away header=X-Api-Key:{SECRET} x20")
    await asyncio.wait_for(batch.wait(), 30)
    assert batch.counts[TaskState.DONE] == 20
    assert len(seen_away) == 20
    assert not any("X-Api-Key" in seen for seen in seen_away)
