"""The pacer that keeps a busy screen to about a fifteenth of a core: the next pull waits
fifteen times what the last frame (its pull and its drawing) cost; the clock is stepped by
hand."""

from __future__ import annotations

import pytest

from loopscope.tui.frame_pacing import FRAME_BUDGET, FramePacer


@pytest.fixture
def clock() -> list[float]:
    return [100.0]


def pacer_on(clock: list[float]) -> FramePacer:
    return FramePacer(clock=lambda: clock[0])


def test_a_costly_frame_pushes_the_next_pull_back(clock: list[float]) -> None:
    pacer = pacer_on(clock)
    assert pacer.due(clock[0])
    start = clock[0]
    clock[0] += 0.010  # the pull: 10 ms
    pacer.pulled(start)

    def draw() -> None:
        clock[0] += 0.020  # Textual's drawing pass: 20 ms

    pacer.timed_draw(draw)
    end = clock[0]
    assert pacer.next_pull == pytest.approx(end + 0.030 * FRAME_BUDGET)
    assert not pacer.due(end + 0.030 * FRAME_BUDGET - 0.001)
    assert pacer.due(end + 0.030 * FRAME_BUDGET + 1e-9)


def test_a_cheap_frame_leaves_the_timer_in_charge(clock: list[float]) -> None:
    pacer = pacer_on(clock)
    start = clock[0]
    clock[0] += 0.0005
    pacer.pulled(start)
    pacer.timed_draw(lambda: None)
    assert pacer.due(clock[0] + 0.1)  # the next 10 Hz tick pulls


def test_nested_drawing_passes_are_timed_once(clock: list[float]) -> None:
    pacer = pacer_on(clock)
    noted: list[float] = []

    def inner() -> None:
        clock[0] += 0.004

    def outer() -> None:
        clock[0] += 0.002
        pacer.timed_draw(inner, lambda: noted.append(clock[0]))  # inside: not timed again

    pacer.timed_draw(outer, lambda: noted.append(clock[0]))
    assert noted == [pytest.approx(100.006)]
    assert pacer.next_pull == pytest.approx(100.006 + 0.006 * FRAME_BUDGET)


def test_hold_keeps_pulls_away_while_a_stopwatch_runs(clock: list[float]) -> None:
    pacer = pacer_on(clock)
    pacer.hold(clock[0] + 0.5)
    assert not pacer.due(clock[0] + 0.4)
    assert pacer.due(clock[0] + 0.5)


def test_a_limit_keeps_a_slow_screen_at_least_once_a_second(clock: list[float]) -> None:
    pacer = FramePacer(clock=lambda: clock[0], max_wait=1.0)
    start = clock[0]
    clock[0] += 0.3  # a 300 ms frame on a starved machine: 4.5 s of waiting unlimited
    pacer.pulled(start)
    assert pacer.next_pull == pytest.approx(start + 1.0)
