"""The sender's share of time: small while the watched program works, large while it idles.

At a fixed 3% the agent streamed about 600 rows a second, so 100,000 tasks created in a burst
took minutes to reach the screen although the program then sat idle. The duty is chosen from
the program's own CPU since the last batch (every thread but the sender's)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from loopscope.tasks.agent import sender as sender_module
from loopscope.tasks.agent.recorder import Recorder
from loopscope.tasks.agent.sender import Sender
from loopscope.tasks.agent.sender_pacing import IDLE_DUTY, duty_for


class FakeTime:
    """``time`` as the sender sees it, with the process's CPU clock under the test's control."""

    def __init__(self, process_time: Callable[[], float]) -> None:
        self.process_time = process_time


def test_an_idle_program_lets_the_sender_catch_up() -> None:
    assert duty_for(0.0, 0.03) == IDLE_DUTY
    assert duty_for(0.1, 0.03) == IDLE_DUTY


def test_a_busy_program_keeps_the_sender_to_its_small_duty() -> None:
    assert duty_for(1.0, 0.03) == 0.03
    assert duty_for(0.6, 0.03) == 0.03


def test_a_duty_asked_above_the_idle_one_is_kept() -> None:
    assert duty_for(0.0, 0.8) == 0.8


def test_the_programs_share_leaves_out_the_senders_own_cpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sender = Sender(Recorder(), status={})
    process_cpu = iter([10.0, 10.9, 11.1])
    monkeypatch.setattr(sender_module, "time", FakeTime(lambda: next(process_cpu)))
    # the first batch has nothing to compare with: the base duty
    assert sender._duty_now(100.0, 1.0) == sender.duty  # noqa: SLF001
    # one second later the process used 0.9 s of CPU, 0.85 s of it the sender's own batch
    # work: the program used 0.05 s, it is idle
    assert sender._duty_now(101.0, 1.85) == IDLE_DUTY  # noqa: SLF001
    # the next second the process used 0.2 s and the sender none: still idle (20% < 25%)
    assert sender._duty_now(102.0, 1.85) == IDLE_DUTY  # noqa: SLF001
    process_cpu = iter([11.9])
    # then the program used 0.8 s of the second: busy, back to the small duty
    assert sender._duty_now(103.0, 1.85) == sender.duty  # noqa: SLF001


class SweepClock:
    """``time`` for ``Sender._tick``: wall and thread CPU clocks the test moves."""

    def __init__(self) -> None:
        self.wall = 100.0
        self.cpu = 5.0

    def perf_counter(self) -> float:
        return self.wall

    def thread_time(self) -> float:
        return self.cpu


def test_a_costly_sweep_waits_longer_before_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A walk over 100,000 live tasks took tens of milliseconds every two seconds."""
    clock = SweepClock()
    recorder = Recorder()
    sweeps: list[float] = []

    def slow_sweep() -> None:
        sweeps.append(clock.wall)
        clock.cpu += 0.3  # this look cost 0.3 s of the thread's CPU

    monkeypatch.setattr(recorder, "sweep", slow_sweep)
    monkeypatch.setattr(sender_module, "time", clock)
    sender = Sender(recorder, status={}, duty=0.03)
    sender._tick()  # noqa: SLF001 - the first tick of a sender never started: sweeps at once
    assert sweeps == [100.0]
    clock.wall += sender_module.SWEEP_EVERY + 0.1
    sender._tick()  # noqa: SLF001
    assert sweeps == [100.0], "0.3 s at a 3% duty: the next look waits 10 s, not 2"
    clock.wall = 100.0 + 0.3 / 0.03 + 0.01
    sender._tick()  # noqa: SLF001
    assert sweeps == [100.0, clock.wall]
