"""The timeline alone, in a minimal app, on synthetic records and a frozen clock.

It must draw only overlap that happened (a sequential replay never shows 2 running, a
``Semaphore(5)`` never 6), mark every lag spike without covering any text, and never fail
whatever order the times of a record come in.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from loopscope.tasks.batch import Batch
from loopscope.tasks.lag import LagSpike
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.widgets.timeline import Timeline, live_axis_length
from loopscope.widgets.timeline_peaks import peak_counts


class FakeLag:
    def __init__(self, spikes: list[LagSpike]) -> None:
        self.spikes = deque(spikes)
        self.version = 1


class FakeEngine:
    """The few things the Timeline reads from a TaskManager."""

    def __init__(self, batch: Batch, now: float, spikes: list[LagSpike] | None = None) -> None:
        self.batches = {batch.id: batch}
        self.version = 1
        self.live_count = 0 if batch.done else 1
        self.lag = FakeLag(spikes or [])
        self.now = now

    def clock(self) -> float:
        return self.now

    @property
    def current_batch(self) -> Batch:
        return next(reversed(self.batches.values()))


def finished_batch(spans: list[tuple[float, float, float]]) -> Batch:
    """A done batch of records (created, started, finished)."""
    records = [
        TaskRecord(id=n + 1, batch_id=1, kind="sleep", target="x", created=c, started=s,
                   finished=f, state=TaskState.DONE)
        for n, (c, s, f) in enumerate(spans)
    ]
    batch = Batch(id=1, specs=(), created=min(c for c, _, _ in spans), planned=len(records),
                  records=records, launching=False)
    batch.counts[TaskState.DONE] = len(records)
    batch.first_start = min(s for _, s, _ in spans)
    batch.last_finish = max(f for _, _, f in spans)
    return batch


class TimelineApp(App[None]):
    def __init__(self, engine: FakeEngine) -> None:
        super().__init__()
        self.engine = engine

    def compose(self) -> ComposeResult:
        yield Timeline(cast(Any, self.engine), id="timeline")


async def drawn(engine: FakeEngine, size: tuple[int, int] = (100, 12)) -> Timeline:
    app = TimelineApp(engine)
    async with app.run_test(size=size) as pilot:
        timeline = app.query_one(Timeline)
        timeline.sync(force=True)
        await pilot.pause()
        return timeline


def sequential_replay(count: int = 40, length: float = 0.1) -> list[tuple[float, float, float]]:
    """Each task starts exactly when the one before it ends (created when it starts)."""
    return [(n * length, n * length, (n + 1) * length) for n in range(count)]


def semaphore_waves(limit: int = 5, waves: int = 10) -> list[tuple[float, float, float]]:
    """All created at 0; slot ``j`` runs one task per wave, each handing over to the next."""
    spans = []
    for wave in range(waves):
        for slot in range(limit):
            jitter = slot * 0.0137
            spans.append((0.0, wave * 0.2 + jitter, (wave + 1) * 0.2 + jitter))
    return spans


async def test_a_sequential_replay_never_shows_two_running() -> None:
    timeline = await drawn(FakeEngine(finished_batch(sequential_replay()), now=10.0))
    assert timeline.mode == "aggregate"
    assert max(timeline.column_peaks) == 1
    assert min(timeline.column_peaks) == 1  # and never a gap: one task ran at every moment


async def test_a_semaphore_of_five_never_shows_six() -> None:
    timeline = await drawn(FakeEngine(finished_batch(semaphore_waves()), now=10.0))
    assert timeline.mode == "aggregate"
    assert max(timeline.column_peaks) == 5


async def test_every_spike_is_marked_and_no_text_is_covered() -> None:
    batch = finished_batch(sequential_replay(40, 0.1))  # 0 .. 4 s
    spikes = [
        LagSpike(at=0.5, lag_ms=120, culprit=None),
        LagSpike(at=2.0, lag_ms=150, culprit=None),
        # recorded when the loop woke, after the batch ended, but the stall began inside it
        LagSpike(at=4.3, lag_ms=1472, culprit="task #40 block"),
        LagSpike(at=9.0, lag_ms=200, culprit=None),  # after the axis: not drawn
    ]
    timeline = await drawn(FakeEngine(batch, now=10.0, spikes=spikes))
    axis = timeline.render_line(timeline.size.height - 1).text
    bar = axis[7:]
    assert set(bar) <= {"─", "!"}, axis
    marked = [x for x, cell in enumerate(bar) if cell == "!"]
    width = len(bar)
    for spike in spikes[:3]:
        stall_start = max(0.0, spike.at - spike.lag_ms / 1000)
        assert min(width - 1, int(stall_start / 4.0 * width)) in marked, (spike, axis)
    legend = str(timeline.border_subtitle)
    assert "40 tasks" in legend
    assert "4.000 s" in legend
    assert "!" in legend


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(
        st.tuples(
            st.floats(-5, 5), st.one_of(st.none(), st.floats(-5, 5)),
            st.one_of(st.none(), st.floats(-5, 5)),
        ),
        min_size=1, max_size=40,
    ),
    now=st.floats(-5, 5),
    batch_created=st.floats(-5, 5),
    done=st.booleans(),
    height=st.integers(2, 30),
)
async def test_any_order_of_times_draws_without_error(
    times: list[tuple[float, float | None, float | None]],
    now: float,
    batch_created: float,
    done: bool,
    height: int,
) -> None:
    """Issue 11.3: start, end and "now" in any order (a stall between two clock reads) must
    never index outside the timeline."""
    records = [
        TaskRecord(id=n + 1, batch_id=1, kind="sleep", target="x", created=c, started=s,
                   finished=f, state=TaskState.DONE if f is not None else TaskState.RUNNING)
        for n, (c, s, f) in enumerate(times)
    ]
    batch = Batch(id=1, specs=(), created=batch_created, planned=len(records), records=records,
                  launching=not done)
    finished = [r.finished for r in records if r.finished is not None]
    batch.last_finish = max(finished) if finished else None
    engine = FakeEngine(batch, now=now, spikes=[LagSpike(at=now, lag_ms=150, culprit=None)])
    timeline = await drawn(engine, size=(60, height))
    assert len(timeline._strips) == height  # noqa: SLF001 - the lines it drew, one per row


def brute_force_peaks(
    intervals: list[tuple[float, float]], start: float, end: float, columns: int
) -> list[int]:
    """The most intervals open at any moment of each column, by checking every moment that
    matters (the column's start and every start inside it); open means opened <= t < closed."""
    width = max(end - start, 1e-9) / columns
    peaks = []
    for x in range(columns):
        low = -math.inf if x == 0 else start + x * width
        high = math.inf if x == columns - 1 else start + (x + 1) * width
        moments = [low] + [o for o, _ in intervals if low <= o < high]
        peaks.append(max(
            sum(1 for o, c in intervals if o <= t < c) if t != -math.inf else 0
            for t in moments
        ))
    return peaks


@settings(max_examples=200, deadline=None)
@given(
    spans=st.lists(
        st.tuples(st.floats(0, 10), st.floats(0, 3)), min_size=0, max_size=30
    ),
    columns=st.integers(1, 40),
)
def test_peak_counts_match_a_brute_force_count(
    spans: list[tuple[float, float]], columns: int
) -> None:
    intervals = [(o, o + length) for o, length in spans]
    opened = [o for o, _ in intervals]
    closed = [c for _, c in intervals]
    end = max(closed, default=1.0)
    assert peak_counts(opened, closed, 0.0, end, columns) == brute_force_peaks(
        intervals, 0.0, end, columns
    )


async def test_while_r_measures_in_a_clean_process_the_timeline_says_so(
    monkeypatch: Any,
) -> None:
    """Trial: the timeline titled "batch #2 sequential replay…" said "no batch yet" while the
    replay ran in the clean process. The clean process is held here until the test is done."""
    import asyncio

    from loopscope.tasks import clean_replay
    from tests.tui.conftest import new_app, until
    from tests.tui.typing import keys_for

    held = asyncio.Event()

    async def clean_process_that_waits(job: Any, on_event: Any) -> Any:
        await held.wait()
        raise asyncio.CancelledError

    monkeypatch.setattr(clean_replay, "run_clean", clean_process_that_waits)
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *keys_for("sleep 0.01 x2"), "enter", "escape")
        batch = app.manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done)
        await pilot.press("R")
        timeline = app.screen.query_one(Timeline)

        def shown() -> str:
            return "".join(timeline.render_line(y).text for y in range(timeline.size.height))

        await until(pilot, lambda: f"measuring batch #{batch.id} in a clean process" in shown())
        assert "no batch yet" not in shown()
        await pilot.press("C")


def live_batch(spans: list[tuple[float, float, float | None]]) -> Batch:
    """A batch still running: records (created, started, finished or None while running)."""
    records = [
        TaskRecord(id=n + 1, batch_id=1, kind="sleep", target="x", created=c, started=s,
                   finished=f, state=TaskState.DONE if f is not None else TaskState.RUNNING)
        for n, (c, s, f) in enumerate(spans)
    ]
    batch = Batch(id=1, specs=(), created=0.0, planned=len(records), records=records,
                  launching=False)
    batch.counts[TaskState.DONE] = sum(f is not None for _, _, f in spans)
    batch.counts[TaskState.RUNNING] = sum(f is None for _, _, f in spans)
    return batch


async def test_mid_batch_the_bars_already_drawn_stay_in_their_columns() -> None:
    """Trial: while a batch ran, bars shifted by a column between redraws (the axis ended at
    "now", so every redraw rescaled it). Between two redraws a finished bar must not move and
    a running bar may only grow to the right."""
    engine = FakeEngine(live_batch([(0.0, 0.2, 0.5), (0.0, 0.3, None), (0.0, 0.6, 0.9)]),
                        now=1.1)
    app = TimelineApp(engine)
    async with app.run_test(size=(100, 12)) as pilot:
        timeline = app.query_one(Timeline)

        def lanes() -> list[str]:
            return [timeline.render_line(y).text for y in range(3)]

        frames = []
        for now in (1.1, 1.15, 1.2, 1.24):
            engine.now = now
            engine.version += 1
            timeline.sync(force=True)
            await pilot.pause()
            frames.append(lanes())
        for before, after in itertools.pairwise(frames):
            assert before[0] == after[0]  # finished: not a cell moved
            assert before[2] == after[2]
            # running: the same first cell, never shorter
            assert after[1].index("█") == before[1].index("█")
            assert after[1].rstrip().rindex("█") >= before[1].rstrip().rindex("█")
        assert frames[-1][1].rstrip().rindex("█") > frames[0][1].rstrip().rindex("█")


@pytest.mark.parametrize("width", [100, 78, 44, 36])
async def test_mid_batch_the_legend_says_how_long_the_axis_is(width: int) -> None:
    """Trial: while a batch ran, the axis was labelled only ``0 s`` and the border showed the
    time so far, so a bar's length could not be read as a duration. The legend names the
    axis's length too, whole at 80 columns, and beside the scenario log at 80x24 (44 cells:
    it read "10 tasks: █ most running at once ░ wai…")."""
    engine = FakeEngine(live_batch([(0.0, 0.2, 0.5), (0.0, 0.3, None)]), now=1.1)
    timeline = await drawn(engine, size=(width, 12))
    legend = str(timeline.border_subtitle)
    assert legend.endswith("· 1.100 s of 1.25 s")
    assert len(legend) <= width - 6


@given(st.floats(min_value=1.0, max_value=1e5))
def test_the_live_axis_holds_the_elapsed_time_and_leaves_at_most_a_quarter_empty(
    elapsed: float,
) -> None:
    length = live_axis_length(elapsed)
    assert length >= elapsed * (1 - 1e-9)
    assert elapsed / length >= 0.75 - 1e-9  # steps of at most 4/3: bars use most of the width
    assert live_axis_length(elapsed / 10) >= 1.0  # never shorter than a second
