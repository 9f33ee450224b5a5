"""What a server or a file name says is shown, never obeyed by the terminal (issue 11, item 15),
and tables print on an ASCII-only stdout (item 19).

The hostile server runs on 127.0.0.1 and answers with a reason phrase holding an OSC
"set the window title" sequence and an SGR colour, and a body holding a clear-screen.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskState
from loopscope.tasks.report import build_report, render_text
from loopscope.tasks.safe_text import fit_encoding, printable
from tests.unit.test_kinds import run_one

REASON = b"Bad \x1b]0;pwned\x07 \x1b[31mred"
BODY = b"hello\x1b[2J\x1b[H\r\nsecond line\n"
ESCAPED_REASON = "Bad \\x1b]0;pwned\\x07 \\x1b[31mred"


async def answer_hostile(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        request = await reader.readuntil(b"\r\n\r\n")
        status = b"500" if b" /fail " in request else b"200"
        writer.write(
            b"HTTP/1.1 " + status + b" " + REASON + b"\r\n"
            + b"Content-Length: " + str(len(BODY)).encode() + b"\r\nConnection: close\r\n\r\n"
            + BODY
        )
        await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def hostile_url() -> AsyncIterator[str]:
    server = await asyncio.start_server(answer_hostile, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


def assert_no_control_characters(text: str) -> None:
    assert not [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]


async def test_a_hostile_reason_is_stored_escaped(manager: TaskManager, hostile_url: str) -> None:
    ok = await run_one(manager, f"fetch {hostile_url}/ok")
    assert ok.state is TaskState.DONE
    assert ok.result == f"200 {ESCAPED_REASON}, {len(BODY)} B"
    assert ok.preview == "hello\\x1b[2J\\x1b[H\nsecond line\n"
    failed = await run_one(manager, f"fetch {hostile_url}/fail")
    assert failed.state is TaskState.EXCEPTION
    assert failed.error == f"HTTPStatusError: HTTP 500 {ESCAPED_REASON} from GET {hostile_url}/fail"
    assert failed.traceback is not None
    assert ESCAPED_REASON in failed.traceback
    for text in (ok.result, ok.preview, failed.error, failed.traceback):
        assert_no_control_characters(text or "")


async def test_a_file_name_with_escapes_is_shown_escaped(
    manager: TaskManager, tmp_path: Path
) -> None:
    path = tmp_path / "\x1b]0;pwned\x07.txt"
    path.write_bytes(b"\x1b[31mred inside\n")
    record = await run_one(manager, f"read '{path}'")
    assert record.state is TaskState.DONE
    missing = await run_one(manager, f"read '{tmp_path}/\x1b[31mnope'")
    assert missing.state is TaskState.EXCEPTION
    for text in (record.target, record.preview, missing.target, missing.error, missing.traceback):
        assert text
        assert "\x1b" not in text
        assert "\\x1b" in text


async def test_the_table_and_json_are_clean(manager: TaskManager, hostile_url: str) -> None:
    batch = manager.launch(f"fetch {hostile_url}/ok; fetch {hostile_url}/fail")
    await asyncio.wait_for(batch.wait(), 30)
    report = build_report(batch, manager.clock(), manager.lag.stats())
    assert_no_control_characters(render_text(report))
    assert_no_control_characters(json.loads(json.dumps(report))["tasks"][1]["error"])
    assert "\\u001b" not in json.dumps(report)  # escaped before JSON, not by it


def test_the_cli_prints_no_escape_sequence() -> None:
    """``loopscope run`` against the hostile server, in a child process; the server runs in
    this test's own thread."""

    async def serve_and_run() -> subprocess.CompletedProcess[bytes]:
        server = await asyncio.start_server(answer_hostile, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "loopscope", "run",
                f"fetch http://127.0.0.1:{port}/ok; fetch http://127.0.0.1:{port}/fail",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(child.communicate(), 60)
        return subprocess.CompletedProcess([], child.returncode or 0, out, err)

    done = asyncio.run(serve_and_run())
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout
    assert b"\x07" not in done.stdout
    assert b"\\x1b]0;pwned" in done.stdout


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
        ("\x9b31m", "\\x9b31m"),  # the one-byte CSI of C1
        ("a\u202eevil", "a\\u202eevil"),  # a right-to-left override
        ("tab\there\nnext\rover", "tab\\there\\nnext\\rover"),
        ("plain é ü 日本", "plain é ü 日本"),
    ],
)
def test_printable_escapes_control_characters(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert printable(printable(raw)) == shown  # idempotent


def test_printable_keeps_lines_when_asked() -> None:
    assert printable("a\r\nb\tc\rd\x1b", keep_lines=True) == "a\nb\tc\\rd\\x1b"


# --- 19. an ASCII-only stdout ------------------------------------------------------------------


def test_fit_encoding_falls_back_to_ascii() -> None:
    assert fit_encoding("wall – 3 tasks…", "ascii") == "wall - 3 tasks..."
    assert fit_encoding("20 °C ▶ café", "ascii") == "20 degC > caf\\xe9"
    assert fit_encoding("wall – 3", "utf-8") == "wall – 3"


@pytest.mark.parametrize(
    "args",
    [
        ["run", "sleep 0.01 x2", "fail"],
        ["run", "--scenario", "futures"],
        ["scenarios"],
        ["--help"],
        ["run", "--help"],
    ],
    ids=["run-table", "scenario", "scenarios", "help", "run-help"],
)
def test_tables_print_on_an_ascii_only_stdout(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "loopscope", *args],
        capture_output=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert b"UnicodeEncodeError" not in out.stderr
    out.stdout.decode("ascii")  # every byte is ASCII
    if args == ["run", "sleep 0.01 x2", "fail"]:
        assert b"sequential (meas.)  -   run with --sequential" in out.stdout
    if args == ["run", "--help"]:
        assert b"[header=Name:value]... [auth=user:pw]" in out.stdout

