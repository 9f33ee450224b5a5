"""The agent's C hot path beside its pure-Python fallback: both record the same fields for
the same program, both keep ``Handle._run``'s semantics (errors to the loop's handler,
SystemExit and KeyboardInterrupt raised, contexts), and the C one leaks no references."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import sys
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from loopscope.tasks.agent import recorder as recorder_module
from loopscope.tasks.agent.places import line_at
from loopscope.tasks.agent.recorder import Recorder, TaskRecord
from tests.unit.agent_paths import C_BUILT, PATHS

needs_c = pytest.mark.skipif(not C_BUILT, reason="the C hot path is not built")


@contextmanager
def recording(accelerated: bool, **options: Any) -> Iterator[Recorder]:
    recorder = Recorder(accelerated=accelerated, **options)
    recorder.install()
    assert recorder.accelerated is accelerated
    try:
        yield recorder
    finally:
        recorder.uninstall()


async def child(value: int) -> int:
    await asyncio.sleep(0)
    return value


async def fails() -> None:
    await asyncio.sleep(0)
    raise ValueError("boom")


async def parent() -> None:
    await asyncio.gather(child(1), child(2))


async def forever() -> None:
    await asyncio.Event().wait()


async def every_kind_of_task() -> None:
    await asyncio.create_task(parent(), name="parent")
    waiting = asyncio.create_task(forever(), name="forever")
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await asyncio.gather(asyncio.create_task(fails(), name="fails"), return_exceptions=True)
    await asyncio.Task(child(3), name="bare")  # not through create_task: adopted at its step
    await asyncio.sleep(0.002)  # a step that ends a longer wait: scheduled time from the timer


def as_record(kept: Any, recorder: Recorder) -> Any:
    """A kept finished task as a record: the C path keeps its records, the Python path a
    frozen tuple (and a failed task's record)."""
    return TaskRecord.thawed(kept, recorder.loops) if isinstance(kept, tuple) else kept


def kept_records(recorder: Recorder) -> list[Any]:
    return [as_record(kept, recorder) for kept in recorder.finished]


def fields(recorder: Recorder) -> list[tuple[Any, ...]]:
    """Every kept record's fields that depend neither on timing nor on addresses."""
    rows = []
    for record in [*kept_records(recorder), *recorder.live.values()]:
        created = (
            (record.created_code.co_name, line_at(record.created_code, record.created_lasti))
            if record.created_code is not None else None
        )
        name = "Task-N" if (record.name or "").startswith("Task-") else record.name
        rows.append((
            record.seq, name, record.qualname, record.parent, created, record.steps,
            record.end, record.result, record.finish_no, record.waiting,
            type(record.exc).__name__ if record.exc is not None else None,
        ))
    return sorted(rows)


@pytest.mark.parametrize("accelerated", PATHS)
def test_the_recorded_times_add_up(accelerated: bool) -> None:
    with recording(accelerated) as recorder:
        asyncio.run(every_kind_of_task())
    for record in kept_records(recorder):
        assert record.ended_t is not None
        assert record.created_t <= record.last_end <= record.ended_t
        assert 0 < record.busy <= record.ended_t - record.created_t
        assert 0 < record.longest <= record.busy
        assert record.scheduled >= 0
    assert recorder.created == recorder.retired == sum(recorder.ended.values()) == 9
    assert recorder.ended == {"done": 7, "exception": 1, "cancelled": 1}


def recorded(accelerated: bool, program: Any) -> Recorder:
    with recording(accelerated) as recorder:
        asyncio.run(program())
    return recorder


@needs_c
def test_both_paths_record_the_same_fields() -> None:
    python, c = (recorded(accelerated, every_kind_of_task) for accelerated in (False, True))
    assert fields(c) == fields(python)
    assert len(fields(c)) == 9  # asyncio.run's main, the program's seven, and the bare one
    assert {row[1]: row[6] for row in fields(c)}["fails"] == "exception"


@needs_c
def test_both_paths_keep_a_finished_task_alike() -> None:
    async def main() -> None:
        await asyncio.create_task(child(5), name="child")

    kept = {}
    for accelerated in (False, True):
        recorder = recorded(accelerated, main)
        (kept[accelerated],) = [record for record in kept_records(recorder)
                                if record.name == "child"]
    python, c = kept[False], kept[True]
    assert type(c) is not TaskRecord  # the C path's own record type, kept as it is
    for name in TaskRecord.__slots__:
        assert type(getattr(c, name)) is type(getattr(python, name)), name
        if name not in {"seq", "task_id", "loop", "dirty", "created_t", "ready_t", "last_end",
                        "busy", "scheduled", "longest", "ended_t", "finish_no"}:
            assert getattr(c, name) == getattr(python, name), name
    assert c.result == python.result == "5"
    assert c.steps == python.steps == 2


@pytest.mark.parametrize("accelerated", PATHS)
def test_the_longest_step_of_a_task_includes_its_last(accelerated: bool) -> None:
    now = [100.0]

    async def slow_last_step() -> None:
        await asyncio.sleep(0)
        now[0] += 5.0  # the last step takes 5 s on the recorder's clock

    with recording(accelerated, clock=lambda: now[0]) as recorder:
        asyncio.run(slow_last_step())
    (record,) = [record for record in kept_records(recorder)
                 if record.qualname.endswith("slow_last_step")]
    assert record.longest == record.busy == 5.0  # the longest was the first step's (0 s)


def loop_errors(run: Any) -> list[dict[str, Any]]:
    """What the loop's exception handler got while ``run(loop)`` ran."""
    seen: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        run(loop)
    finally:
        loop.close()
    return seen


class Thing:
    def method(self, value: int) -> None:
        raise ValueError(f"method {value}")


def raising_callbacks(loop: asyncio.AbstractEventLoop) -> None:
    def plain(value: int) -> None:
        raise ValueError(f"plain {value}")

    loop.call_soon(plain, 1)
    loop.call_soon(Thing().method, 2)
    loop.call_soon(functools.partial(plain, 3))
    loop.call_soon(int, "not a number")  # a builtin, bound to its module
    loop.run_until_complete(asyncio.sleep(0))


def summarise(contexts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (context["message"], repr(context["exception"]), sorted(context),
         context["exception"].__traceback__ is not None)
        for context in contexts
    ]


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_failing_callback_reaches_the_loops_handler_as_without_the_agent(
        accelerated: bool) -> None:
    plain = summarise(loop_errors(raising_callbacks))
    with recording(accelerated):
        watched = summarise(loop_errors(raising_callbacks))
    assert len(plain) == 4
    assert watched == plain


@pytest.mark.parametrize("accelerated", PATHS)
@pytest.mark.parametrize("error", [SystemExit, KeyboardInterrupt])
def test_system_exit_and_keyboard_interrupt_leave_the_loop(
        accelerated: bool, error: type[BaseException]) -> None:
    def callback() -> None:
        raise error(3)

    async def task_raises() -> None:
        await asyncio.sleep(0)
        raise error(4)

    with recording(accelerated) as recorder:
        loop = asyncio.new_event_loop()
        try:
            loop.call_soon(callback)
            with pytest.raises(error):
                loop.run_until_complete(asyncio.sleep(0.001))
            with pytest.raises(error):
                loop.run_until_complete(task_raises())
            assert all(state.current is None for state in recorder.loops)
        finally:
            loop.close()


VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


@pytest.mark.parametrize("accelerated", PATHS)
def test_callbacks_and_tasks_run_in_their_own_context(accelerated: bool) -> None:
    seen: list[str] = []

    async def in_task() -> None:
        await asyncio.sleep(0)
        seen.append(VAR.get())

    async def main() -> None:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        context.run(VAR.set, "callback's")
        loop.call_soon(lambda: seen.append(VAR.get()), context=context)
        VAR.set("task's")
        await asyncio.create_task(in_task())
        seen.append(VAR.get())

    with recording(accelerated):
        asyncio.run(main())
    assert seen == ["callback's", "task's", "task's"]


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_callback_may_cancel_its_own_handle(accelerated: bool) -> None:
    ran: list[int] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        handles: list[asyncio.Handle] = []

        def callback(value: int) -> None:
            handles[0].cancel()  # clears the handle's callback and args while they run
            ran.append(value)
            raise ValueError("after cancelling itself")

        loop.set_exception_handler(lambda _loop, _context: ran.append(-1))
        handles.append(loop.call_soon(callback, 7))
        await asyncio.sleep(0)

    with recording(accelerated):
        asyncio.run(main())
    assert ran == [7, -1]


def test_the_c_clock_is_time_perf_counter() -> None:
    if recorder_module._hotpath is None:  # noqa: SLF001
        pytest.skip("the C hot path is not built")
    before = time.perf_counter()
    c = recorder_module._hotpath.clock()  # noqa: SLF001
    assert before <= c <= time.perf_counter()


@needs_c
def test_the_c_path_holds_no_references_it_does_not_release() -> None:
    payload = object()
    tasks: list[weakref.ref[asyncio.Task[Any]]] = []

    async def one() -> object:
        await asyncio.sleep(0)
        return payload

    async def rounds(count: int) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(count):
            made = [asyncio.create_task(one()) for _ in range(200)]
            tasks.extend(weakref.ref(task) for task in made[:3])
            await asyncio.gather(*made)
            for _ in range(200):
                loop.call_soon(id, payload)  # a builtin callback, untimed
            await asyncio.sleep(0)

    def run() -> int:
        with recording(True, keep_finished=50) as recorder:
            asyncio.run(rounds(10))
            recorder.discard_dirty()
        del recorder
        gc.collect()
        return sys.getallocatedblocks()

    references = sys.getrefcount(payload)
    before = run()  # warm up: caches, free lists, code classification
    tasks.clear()
    after = [run() for _ in range(3)]
    assert sys.getrefcount(payload) == references
    assert all(ref() is None for ref in tasks), "a task was kept alive"
    # Each run makes 2,000 tasks and 2,000 callbacks: a leak of one object for each would
    # add thousands of blocks a run. (Some tens a run come from asyncio and the
    # interpreter's caches, on the Python path too.)
    assert max(after) - before < 3 * 200, (before, after)


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_step_that_uninstalls_the_recorder_finishes_safely(accelerated: bool) -> None:
    """The dashboard's ``--step-timing`` switch turns the recorder off from inside one of
    the loop's own steps; the C path then crashed the process (a NULL dict after the step).
    The step's task and every later one must simply run on, and a raise after the
    uninstall must still reach the loop's exception handler."""
    recorder = Recorder(accelerated=accelerated)
    recorder.install()
    errors: list[str] = []

    async def switch_off() -> str:
        recorder.uninstall()  # inside this task's step
        return "off"

    def raises_after() -> None:
        recorder.uninstall()
        raise RuntimeError("after the uninstall")

    async def main() -> str:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: errors.append(context["message"]))
        result = await asyncio.create_task(switch_off())
        recorder.install()
        loop.call_soon(raises_after)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return result + " " + str(await asyncio.create_task(child(4)))

    try:
        assert asyncio.run(main()) == "off 4"
    finally:
        recorder.uninstall()
    assert any("Exception in callback" in message for message in errors)


class FailingClock:
    """A recorder clock that raises ``error`` once, at its first reading after ``arm()``."""

    def __init__(self, error: type[BaseException]) -> None:
        self.error = error
        self.armed = False
        self.now = 0.0

    def arm(self) -> None:
        self.armed = True

    def __call__(self) -> float:
        if self.armed:
            self.armed = False
            raise self.error("from the clock")
        self.now += 1.0
        return self.now


def one_step_fails(clock: FailingClock) -> Any:
    async def armed() -> int:
        clock.arm()  # the step's end is the clock's next reading
        await asyncio.sleep(0)
        return 42

    async def main() -> int:
        return await asyncio.create_task(armed())

    return main


@pytest.mark.parametrize("accelerated", PATHS)
def test_the_agents_own_failure_never_reaches_the_program(accelerated: bool) -> None:
    clock = FailingClock(ValueError)
    with recording(accelerated, clock=clock):
        assert asyncio.run(one_step_fails(clock)()) == 42  # that step went untimed


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_keyboard_interrupt_during_the_agents_bookkeeping_is_the_programs(
        accelerated: bool) -> None:
    # as if Ctrl-C's handler ran while the agent timed a step: not swallowed
    clock = FailingClock(KeyboardInterrupt)
    with recording(accelerated, clock=clock), pytest.raises(KeyboardInterrupt):
        asyncio.run(one_step_fails(clock)())


@pytest.mark.parametrize("accelerated", PATHS)
def test_the_changed_queue_holds_no_more_finished_tasks_than_are_kept(accelerated: bool) -> None:
    async def main() -> None:
        await asyncio.gather(*(child(n) for n in range(50)))

    with recording(accelerated, keep_finished=5) as recorder:
        asyncio.run(main())  # no sender drains the queue meanwhile
    assert recorder.created == 53  # main, fifty children, asyncio.run's two shutdown tasks
    assert len(recorder.dirty) == 5
    assert sorted(recorder.dirty) == sorted(record.seq for record in kept_records(recorder))
    # No viewer was sent any of the 48 evicted: none is announced gone (the Python path's
    # frozen tuples do not know whether they were sent, so it announces them all)
    assert len(recorder.gone) == (0 if accelerated else 48)


@pytest.mark.parametrize("accelerated", PATHS)
def test_an_evicted_task_is_announced_gone_only_if_it_was_sent(accelerated: bool) -> None:
    async def main() -> None:
        await asyncio.gather(*(child(n) for n in range(3)))
        for record in recorder.take_dirty(100):  # what a sender takes, a viewer is shown
            sent.add(record.seq)
        await asyncio.gather(*(child(n) for n in range(10)))

    sent: set[int] = set()
    with recording(accelerated, keep_finished=2) as recorder:
        asyncio.run(main())
    evicted = set(range(1, recorder.created + 1)) - {record.seq for record in
                                                    kept_records(recorder)}
    evicted -= {record.seq for record in recorder.live.values()}
    assert len(evicted) == recorder.created - 2
    if accelerated:
        assert set(recorder.gone) == evicted & sent
        # main and the two children still kept when the sender looked (the first child was
        # evicted before it: never shown); the later ten never reached a viewer
        assert sorted(recorder.gone) == [1, 3, 4]
    else:
        assert set(recorder.gone) == evicted


@pytest.mark.parametrize("accelerated", PATHS)
def test_a_finished_task_has_the_name_it_ended_with(accelerated: bool) -> None:
    """The C path takes a task's name when the task is made and keeps it at the end unless
    the task was renamed meanwhile: a rename must win, a default name must stay."""

    async def renames_itself() -> None:
        await asyncio.sleep(0)
        current = asyncio.current_task()
        assert current is not None
        current.set_name("renamed")
        await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(
            asyncio.create_task(renames_itself(), name="original"),
            asyncio.create_task(child(1), name="given"),
            asyncio.create_task(child(2)),
        )

    with recording(accelerated) as recorder:
        asyncio.run(main())
    names = {record.qualname: record.name for record in kept_records(recorder)}
    assert names["test_a_finished_task_has_the_name_it_ended_with.<locals>.renames_itself"] \
        == "renamed"
    finished = sorted(record.name for record in kept_records(recorder))
    assert "given" in finished
    assert any(name.startswith("Task-") for name in finished)


@needs_c
@pytest.mark.skipif(not (3, 11) <= sys.version_info < (3, 14),
                    reason="the deque layout is checked only where it is known")
def test_the_hot_path_reads_the_loops_queue_in_place_where_the_layout_is_known() -> None:
    """Prefetching depends on reading collections.deque's blocks in place (deque_peek.h),
    checked against the deque's own indexing when the recorder is installed: on the
    Pythons whose layout is known the check must pass, or the prefetching is silently off."""
    with recording(True):
        assert recorder_module._hotpath.prefetching()  # noqa: SLF001
    assert not recorder_module._hotpath.prefetching()  # noqa: SLF001 - unconfigured
