"""Users' own kinds: declared with @kind, parsed like built-ins, run with the same states and
errors, loaded from a file by path with one-line errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopscope.tasks.errors import KindError, KindFileError, SpecError
from loopscope.tasks.kinds import KindContext, Seconds, kind, registry
from loopscope.tasks.kinds.loader import load_kinds_file
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskState
from loopscope.tasks.spec import format_spec, parse_spec, parse_specs
from tests.staging import REPO
from tests.unit.test_kinds import run_one, wait_for_state

EXAMPLE = REPO / "examples" / "my_kinds.py"


@pytest.fixture(autouse=True)
def isolated_registry() -> Iterator[None]:
    with registry.restoring():
        yield


def declare_scrape() -> None:
    @kind("scrape", help="fetch PAGES pages of PATH", target="{path} ×{pages}")
    async def scrape(path: str, pages: int = 3, delay: Seconds = 0, *,
                     loud: bool = False, ctx: KindContext) -> str:
        for page in range(pages):
            async with ctx.session.get(ctx.url(f"{path}/{page}")) as response:
                response.raise_for_status()
            await asyncio.sleep(delay)
        return f"{pages} pages{' LOUD' if loud else ''}"


def test_the_signature_is_the_grammar() -> None:
    declare_scrape()
    spec = parse_spec("scrape /users x2 pages=5 delay=10ms loud=yes")
    assert spec.kind == "scrape"
    assert spec.repeat == 2
    assert spec.bound is not None
    assert spec.bound.args["pages"] == 5
    assert spec.bound.args["delay"] == pytest.approx(0.01)
    assert spec.bound.args["loud"] is True
    assert spec.bound.target == "/users ×5"
    assert parse_spec(format_spec(spec)) == spec
    usage = registry.get("scrape").usage  # type: ignore[union-attr]
    assert usage == "scrape PATH [pages=N] [delay=SECONDS] [loud=true|false]"


@pytest.mark.parametrize(
    ("text", "word", "fragment"),
    [
        ("scrape /users pages=many", "pages=many", "pages must be a whole number"),
        ("scrape /users delay=soon", "delay=soon", "delay must be a number"),
        ("scrape /users loud=maybe", "loud=maybe", "true or false"),
        ("scrape /users colour=red", "colour=red", "unknown option for scrape"),
        ("scrape /a /b", "/b", "unexpected word"),
        ("scrape", None, "scrape needs PATH"),
    ],
)
def test_a_bad_word_points_at_itself(text: str, word: str | None, fragment: str) -> None:
    declare_scrape()
    with pytest.raises(SpecError) as caught:
        parse_specs(f"sleep 1; {text}")
    assert fragment in str(caught.value)
    assert caught.value.word == word
    if word is not None:
        assert caught.value.position == f"sleep 1; {text}".find(word)


def test_declaring_a_kind_checks_what_it_can() -> None:
    def not_async(x: str) -> str:
        return x

    with pytest.raises(KindError, match="must be an async def"):
        kind("plain", help="")(not_async)  # type: ignore[type-var]

    async def listy(items: list[str]) -> None: ...

    with pytest.raises(KindError, match="has type list"):
        kind("listy", help="")(listy)

    async def again(x: str) -> None: ...

    with pytest.raises(KindError, match=r"'sleep' already exists \(a built-in kind\)"):
        kind("sleep", help="")(again)
    with pytest.raises(KindError, match="lowercase"):
        kind("Bad Name", help="")(again)
    with pytest.raises(KindError, match="names no parameter 'nope'"):
        kind("targeted", help="", target="{nope}")(again)


async def test_a_user_kind_runs_like_a_built_in(manager: TaskManager) -> None:
    declare_scrape()
    record = await run_one(manager, "scrape /users pages=2 loud=on")
    assert record.state is TaskState.DONE, record.error
    assert record.result == "2 pages LOUD"
    assert record.kind == "scrape"
    assert record.target == "/users ×2"
    assert record.started is not None
    assert record.finished is not None

    failed = await run_one(manager, "scrape /no-such-route pages=1")
    assert failed.state is TaskState.EXCEPTION
    assert failed.error is not None
    assert failed.error.startswith("ClientResponseError: 404")
    assert failed.traceback
    assert "raise_for_status" in failed.traceback


async def test_a_user_kind_is_cancelled_like_a_built_in(manager: TaskManager) -> None:
    ended = asyncio.Event()

    @kind("forever", help="waits until cancelled")
    async def forever(*words: str) -> str:
        try:
            await asyncio.sleep(3600)
        finally:
            ended.set()
        return " ".join(words)

    batch = manager.launch("forever a b c")
    await asyncio.sleep(0)
    (record,) = batch.records
    await wait_for_state(record, TaskState.RUNNING)
    assert record.target == "a b c"
    assert manager.cancel(record.id)
    await asyncio.wait_for(batch.wait(), 5)
    assert record.state is TaskState.CANCELLED
    assert ended.is_set()


async def test_a_kind_may_report_its_own_start(manager: TaskManager) -> None:
    gate = asyncio.Event()

    @kind("gated", help="pending until the gate opens", starts_running=False)
    async def gated(ctx: KindContext) -> str:
        await gate.wait()
        ctx.running()
        ctx.progress(10, 10)
        return "through"

    batch = manager.launch("gated x2")
    await asyncio.sleep(0.01)
    assert all(record.state is TaskState.PENDING for record in batch.records)
    gate.set()
    await asyncio.wait_for(batch.wait(), 5)
    assert [record.result for record in batch.records] == ["through", "through"]
    assert all(record.bytes_done == 10 for record in batch.records)


# --- loading a file ------------------------------------------------------------------------------


def test_the_example_file_loads(tmp_path: Path) -> None:
    kinds = load_kinds_file(EXAMPLE)
    assert [declared.name for declared in kinds] == ["orders", "sensors"]
    assert all(declared.source == str(EXAMPLE) for declared in kinds)
    assert parse_spec("orders 7 x3 retries=1").bound.target == "user 7"  # type: ignore[union-attr]
    assert "my_kinds" not in sys.modules  # loaded by path, under a name of its own


def test_loading_twice_names_the_taken_kind() -> None:
    load_kinds_file(EXAMPLE)
    with pytest.raises(KindFileError) as caught:
        load_kinds_file(EXAMPLE)
    message = str(caught.value)
    assert "\n" not in message
    assert "line " in message
    assert "'orders' already exists" in message


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("import nothing_here_at_all\n", "line 6: ModuleNotFoundError: No module named"),
        ("x = 1\ny = (\n", "SyntaxError"),
        ("raise RuntimeError('https://me:hunter2@h.test broke')\n",
         "line 6: RuntimeError: https://me:***@h.test broke"),
        ("from loopscope.tasks.kinds import kind\n\n@kind('sleep', help='')\n"
         "async def sleep(x: str) -> None: ...\n", "line 8: kind 'sleep' already exists"),
        ("import sys\nsys.exit(3)\n", "called exit()"),
        ("x = 1\n", "declares no kind"),
    ],
)
def test_a_broken_kinds_file_is_one_line(tmp_path: Path, source: str, fragment: str) -> None:
    path = tmp_path / "broken.py"
    path.write_text(
        "from loopscope.tasks.kinds import kind\n\n"
        "@kind('early', help='registered before the failure')\n"
        "async def early() -> None: ...\n\n" + source
        if "declares no kind" not in fragment else source
    )
    before = registry.names()
    with pytest.raises(KindFileError) as caught:
        load_kinds_file(path)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert registry.names() == before  # nothing half-registered


# --- the CLI -------------------------------------------------------------------------------------


def loopscope(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loopscope", *args], capture_output=True, text=True, timeout=60,
        cwd=REPO,
    )


def test_run_with_the_example_kinds() -> None:
    out = loopscope("run", "--kinds", "examples/my_kinds.py", "orders 7 x3",
                    "sensors 3 every=10ms", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["counts"]["done"] == 4
    kinds = [task["kind"] for task in report["tasks"]]
    assert kinds == ["orders", "orders", "orders", "sensors"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--kinds", "examples/my_kinds.py", "orders seven"), "user must be a whole number"),
        (("--kinds", "examples/my_kinds.py", "orders 1", "--kinds", "examples/my_kinds.py"),
         "'orders' already exists (declared in"),
        (("--kinds", "no/such/file.py", "sleep 1"), "no such file"),
        (("--kinds", "README.md", "sleep 1"), "SyntaxError"),
    ],
)
def test_run_with_bad_kinds_exits_2_with_one_line(args: tuple[str, ...], fragment: str) -> None:
    out = loopscope("run", *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert fragment in lines[0], out.stderr
    assert "Traceback" not in out.stderr


def test_the_dashboard_refuses_a_broken_kinds_file_before_it_opens(tmp_path: Path) -> None:
    broken = tmp_path / "broken_kinds.py"
    broken.write_text("raise ValueError('no good')\n")
    out = loopscope("--kinds", str(broken))
    assert out.returncode == 2
    assert out.stderr.strip() == f"loopscope: kinds file {broken}, line 1: ValueError: no good"


def test_a_target_that_cannot_be_formatted_falls_back_to_the_words() -> None:
    @kind("maybe", help="", target="every {every:g} s")
    async def maybe(name: str, every: float | None = None) -> None: ...

    assert parse_spec("maybe alpha").bound.target == "alpha"  # type: ignore[union-attr]
    assert parse_spec("maybe alpha every=2").bound.target == "every 2 s"  # type: ignore[union-attr]
