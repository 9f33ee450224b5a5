"""What the engine's per-task path must still record after it was made cheaper (README
"Benchmarks" (c)): every state change, what a task waited for, escaped text, tracked summaries,
the collector's threshold raised only while a batch is in flight, and every fetch's time
limit (kept by one timer for all fetches)."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp import web

from loopscope.tasks.busy_gc import BUSY_THRESHOLD, BusyCollector
from loopscope.tasks.fetch_deadlines import FetchDeadlines
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions, OptionError
from loopscope.tasks.records import TaskState
from loopscope.tasks.safe_text import _CONTROL

QUIET = EngineOptions(demo_server=False, monitors=False)


async def until(condition: Callable[[], bool], *, limit_s: float = 60.0) -> None:
    """Wait for ``condition`` (a condition, not a time window: ``limit_s`` only stops a hang)."""
    async with asyncio.timeout(limit_s):
        while not condition():
            await asyncio.sleep(0.005)


@pytest.fixture
def default_thresholds() -> Iterator[tuple[int, int, int]]:
    """CPython's default thresholds for the test, whatever was set before (restored after)."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    """A loopback server with a small body, a body that needs escaping, and requests held."""
    release = asyncio.Event()

    async def hostile(request: web.Request) -> web.Response:
        return web.Response(text="ok\x1b]0;owned\x07\nline two\n")

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text='{"ok": true}')

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/hostile", hostile)
    app.router.add_get("/plain", plain)
    app.router.add_get("/held", held)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        release.set()
        await runner.cleanup()


def test_text_str_isprintable_accepts_has_nothing_to_escape() -> None:
    """The ledger keeps text that ``str.isprintable`` accepts as it is (no regex pass): that
    is only safe if every character ``printable`` escapes is one isprintable refuses."""
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    escaped = set(_CONTROL.findall(every))
    assert escaped  # the pattern did match something
    assert not any(char.isprintable() for char in escaped)


async def test_previews_are_kept_or_escaped_as_they_need(server: str) -> None:
    """A printable body is kept as it is; one with escapes is escaped, its lines kept (a
    hostile reason phrase: tests/unit/test_terminal_safety.py)."""
    async with TaskManager(QUIET) as manager:
        batch = manager.launch(f"fetch {server}/hostile; fetch {server}/plain x2")
        await batch.wait()
        hostile, plain, _ = batch.records
        assert hostile.state is TaskState.DONE
        assert hostile.result == "200 OK, 22 B"
        assert hostile.preview == "ok\\x1b]0;owned\\x07\nline two\n"
        assert plain.result == "200 OK, 12 B"
        assert plain.preview == '{"ok": true}'
        assert plain.bytes_done == plain.bytes_total == 12


async def test_each_spec_of_a_launch_keeps_its_own_escaped_target() -> None:
    async with TaskManager(QUIET) as manager:
        batch = manager.launch("sleep 0 x2; sleep 0.001 x2; fail 'bad\x1b[2J' x2")
        await batch.wait()
        targets = [record.target for record in batch.records]
        assert targets[:4] == ["0 s", "0 s", "0.001 s", "0.001 s"]
        assert all("\x1b" not in target for target in targets)


async def test_every_state_change_of_a_fetch_is_seen(server: str) -> None:
    """Pending (waiting for a slot), running, done: each change bumps the record's version
    and shows in ``changes_since``, as the screen reads them."""
    async with TaskManager(QUIET.replace(connector_limit=1)) as manager:
        batch = manager.launch(f"fetch {server}/held x2")
        await until(lambda: len(batch.records) == 2 and batch.counts[TaskState.RUNNING] == 1)
        first, second = batch.records
        await until(lambda: second.waiting_for == "a connection slot")
        assert first.state is TaskState.RUNNING
        assert first.waiting_for is None
        assert second.state is TaskState.PENDING
        version, changed = manager.changes_since(0)
        assert changed[0] == second.id  # its wait was the latest change
        assert second.version == version
        manager.cancel_all()
        await batch.wait()
        assert [r.state for r in batch.records] == [TaskState.CANCELLED] * 2
        _, changed = manager.changes_since(version)
        assert sorted(changed) == [first.id, second.id]


async def test_tracked_tasks_keep_their_summaries() -> None:
    async with TaskManager(QUIET) as manager:
        batch = manager.open_batch("tracked")

        async def work(record: object) -> list[int]:
            return [1, 2, 3]

        counted = manager.tracked(batch, "demo", "x", work, summary=lambda v: f"{len(v)} items")
        result = await counted
        manager.close_batch(batch)
        await batch.wait()
        assert result == [1, 2, 3]
        assert batch.records[0].result == "3 items"
        assert batch.records[0].state is TaskState.DONE


async def test_the_collector_threshold_is_raised_only_while_a_batch_runs(
    default_thresholds: tuple[int, int, int], server: str
) -> None:
    async with TaskManager(QUIET) as manager:
        assert gc.get_threshold() == default_thresholds  # idle: untouched
        batch = manager.launch(f"fetch {server}/held")
        assert gc.get_threshold() == (BUSY_THRESHOLD, 10, 10)
        second = manager.launch("sleep 0")
        await second.wait()
        assert gc.get_threshold()[0] == BUSY_THRESHOLD  # the first batch is still in flight
        manager.cancel_all()
        await batch.wait()
        assert gc.get_threshold() == default_thresholds
    assert gc.get_threshold() == default_thresholds


async def test_the_collector_is_left_alone_when_asked(
    default_thresholds: tuple[int, int, int],
) -> None:
    async with TaskManager(QUIET.replace(gc_threshold=None)) as manager:
        batch = manager.launch("sleep 0.01")
        assert gc.get_threshold() == default_thresholds
        await batch.wait()
    with pytest.raises(OptionError, match="gc threshold"):
        EngineOptions(gc_threshold=0)


def test_a_threshold_someone_else_set_meanwhile_stays(
    default_thresholds: tuple[int, int, int],
) -> None:
    collector = BusyCollector(5_000)
    collector.busy(True)
    assert gc.get_threshold() == (5_000, 10, 10)
    gc.set_threshold(1_234, 10, 10)  # the host program changed its mind meanwhile
    collector.busy(False)
    assert gc.get_threshold() == (1_234, 10, 10)


def test_a_higher_threshold_is_left_as_it_is(default_thresholds: tuple[int, int, int]) -> None:
    gc.set_threshold(50_000, 10, 10)  # the dashboard's own tuning, say
    collector = BusyCollector(20_000)
    collector.busy(True)
    assert gc.get_threshold() == (50_000, 10, 10)
    assert not collector.raised
    collector.busy(False)
    assert gc.get_threshold() == (50_000, 10, 10)


async def test_a_fetch_past_its_time_limit_times_out_and_frees_its_slot(server: str) -> None:
    """The time limit is kept by the engine (tasks/fetch_deadlines.py), not by aiohttp: the
    fetch still ends as FetchTimeout with the limit in its message, and its slot is free."""
    async with TaskManager(QUIET.replace(connector_limit=1)) as manager:
        late = manager.launch(f"fetch {server}/held timeout=0.2")
        await late.wait()
        (record,) = late.records
        assert record.state is TaskState.EXCEPTION
        assert record.error == "FetchTimeout: no complete response within 0.2 s (0 B received)"
        after = manager.launch(f"fetch {server}/plain")  # the one slot was given back
        await after.wait()
        assert after.records[0].result == "200 OK, 12 B"


async def test_a_shorter_limit_launched_later_fires_first(server: str) -> None:
    """Fetches of different limits: the timer follows the earliest deadline, whichever
    fetch started first."""
    async with TaskManager(QUIET) as manager:
        patient = manager.launch(f"fetch {server}/held timeout=600")
        await until(lambda: patient.counts[TaskState.RUNNING] == 1)
        hasty = manager.launch(f"fetch {server}/held timeout=0.1")
        await hasty.wait()
        assert hasty.records[0].error_type == "FetchTimeout"
        assert patient.records[0].state is TaskState.RUNNING
        manager.cancel_all()
        await patient.wait()
        assert patient.counts[TaskState.CANCELLED] == 1


async def test_fetches_arm_one_timer_not_one_each(server: str) -> None:
    """aiohttp's own timeout arms a timer per request (a measured ~6% of a request's CPU);
    the engine keeps one for all its fetches in flight."""
    loop = asyncio.get_running_loop()
    armed = 0
    call_at = loop.call_at

    def counting(*args: object, **kwargs: object) -> asyncio.TimerHandle:
        nonlocal armed
        if "web_protocol" not in sys._getframe(1).f_code.co_filename:  # not the test server's
            armed += 1
        return call_at(*args, **kwargs)  # type: ignore[arg-type]

    async with TaskManager(QUIET) as manager:
        loop.call_at = counting  # type: ignore[method-assign]
        try:
            batch = manager.launch(f"fetch {server}/plain x200")
            await batch.wait()
        finally:
            loop.call_at = call_at  # type: ignore[method-assign]
        assert batch.counts[TaskState.DONE] == 200
    assert armed < 20, armed


async def test_a_cancellation_at_the_deadline_stays_a_cancellation() -> None:
    """As with ``asyncio.timeout``: when someone cancels a fetch as its deadline passes, the
    fetch ends cancelled (nobody's cancellation is swallowed), not timed out."""
    loop = asyncio.get_running_loop()
    deadlines = FetchDeadlines(30.0)
    deadlines.start(loop)
    registered = asyncio.Event()
    verdicts: list[bool] = []

    async def fetch() -> None:
        pending = deadlines.add("key", 0.01)
        try:
            registered.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            verdicts.append(deadlines.expired("key"))
            raise
        finally:
            deadlines.remove("key", pending)

    task = asyncio.create_task(fetch())
    await registered.wait()
    loop.call_at(loop.time() + 0.01, task.cancel)
    time.sleep(0.05)  # noqa: ASYNC251  block the loop: both come due in one iteration
    with pytest.raises(asyncio.CancelledError):
        await task
    assert verdicts == [False]
    deadlines.stop()


async def test_a_deadline_alone_is_a_timeout_and_takes_its_cancellation_back() -> None:
    loop = asyncio.get_running_loop()
    deadlines = FetchDeadlines(0.01)
    deadlines.start(loop)

    async def fetch() -> str:
        seconds = deadlines.default_s
        pending = deadlines.add("key", seconds)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if deadlines.expired("key"):
                return f"timed out after {seconds} s"
            raise
        finally:
            deadlines.remove("key", pending)
        return "never"

    task = asyncio.create_task(fetch())
    assert await task == "timed out after 0.01 s"
    assert task.cancelling() == 0  # the cancellation was taken back
    deadlines.stop()


async def test_session_counts_add_up_live_and_completed_batches() -> None:
    """A state change updates only its batch's counts; the session's are added up from the
    completed batches (folded once) and the open ones, a task added late included."""
    async with TaskManager(QUIET) as manager:
        first = manager.launch("sleep 0 x3; fail boom")
        await first.wait()

        def held_until(release: asyncio.Event) -> Callable[[object], Awaitable[None]]:
            async def held(record: object) -> None:
                await release.wait()

            return held

        late = manager.open_batch("late")
        release = asyncio.Event()
        waiting = asyncio.ensure_future(manager.tracked(late, "demo", "x", held_until(release)))
        await until(lambda: late.counts[TaskState.RUNNING] == 1)
        assert manager.counts[TaskState.DONE] == 3
        assert manager.counts[TaskState.EXCEPTION] == 1
        assert manager.counts[TaskState.RUNNING] == 1
        assert manager.live_count == 1
        release.set()
        await waiting
        manager.close_batch(late)
        await late.wait()
        # a tracked task added after its batch completed still counts, and ends counted
        again = asyncio.Event()
        extra = asyncio.ensure_future(manager.tracked(late, "demo", "y", held_until(again)))
        await until(lambda: late.counts[TaskState.RUNNING] == 1)
        assert manager.counts[TaskState.RUNNING] == 1
        assert manager.counts[TaskState.DONE] == 4
        assert manager.live_count == 1
        again.set()
        await extra
        assert manager.live_count == 0
        assert manager.counts == {
            TaskState.PENDING: 0, TaskState.RUNNING: 0, TaskState.DONE: 5,
            TaskState.EXCEPTION: 1, TaskState.CANCELLED: 0,
        }
        assert manager.clear_finished() == 6
        assert all(n == 0 for n in manager.counts.values())
