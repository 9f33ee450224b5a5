"""The dashboard's own cost, measured headless with run_test (part of `make bench`).

* first frame: from creating the app to the dashboard mounted and drawn;
* idle cost: the process's CPU time over the wall (``time.process_time``, every thread of the
  process: the screen, the lag monitor, the psutil sampler) with no task running, first with an
  empty history, then with 100,000 finished tasks kept (target: at most 2% of one core). Each
  window starts once the dashboard has settled into its idle rates (the screen pulling once a
  second, the lag probe sleeping a second: about a second after the last change), so it
  measures the steady idle state, not the last second of activity;
* busy share: while a batch runs, the time spent in the dashboard's own callbacks (the screen's
  10 Hz pull, ``MainScreen.sync``, and Textual's layout and compositor passes that call every
  widget's ``render_line``) over the wall (target: at most 10% at 10,000 tasks);
* completion: the batch's launch-to-last-finish time on the dashboard over the same batch in a
  bare TaskManager, run one after the other here (target: within 1.10x);
* loop lag p50/p99/max while 10,000 sleeps run (targets: p99 <= 50 ms, max <= 250 ms), measured
  by loopscope's own lag monitor, and how long ``?`` takes to open help mid-batch at 100,000.

Headless means no terminal writes; ``bench/idle_terminal.py`` measures the idle cost of the
real process in a tmux pane. ``--idle`` measures only the idle cost (with no tasks, then with
100,000 finished ``sleep 0`` tasks): about 30 s.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from textual import events
from textual.screen import Screen

from loopscope.tasks.lag import LagStats
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tui.app import LoopscopeApp, make_app
from loopscope.tui.pull_cadence import IDLE_REFRESH_S
from loopscope.tui.screens.help import HelpScreen
from loopscope.tui.screens.main import MainScreen

IDLE_S = 4.0
"""How long each idle window is measured."""
SETTLE_LIMIT_S = 10.0
"""The longest the bench waits for the dashboard to settle into its idle rates."""


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def fmt(stats: LagStats) -> str:
    return f"p50 {stats.p50_ms:6.1f} ms  p99 {stats.p99_ms:6.1f} ms  max {stats.max_ms:6.1f} ms"


class CallbackClock:
    """Adds up the wall time spent inside the dashboard's refresh and render callbacks.

    Nested calls (a layout pass that runs the compositor) are counted once.
    """

    TIMED: tuple[tuple[type[Any], str], ...] = (
        (MainScreen, "sync"),
        (Screen, "_refresh_layout"),
        (Screen, "_compositor_refresh"),
    )

    def __init__(self) -> None:
        self.total = 0.0
        self._depth = 0

    def _wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return function(*args, **kwargs)
            self._depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - start
                self._depth -= 1

        return timed

    @contextmanager
    def installed(self) -> Iterator[CallbackClock]:
        originals = [(owner, name, owner.__dict__[name]) for owner, name in self.TIMED]
        for owner, name, function in originals:
            setattr(owner, name, self._wrap(function))
        try:
            yield self
        finally:
            for owner, name, function in originals:
                setattr(owner, name, function)


async def settled(app: LoopscopeApp) -> None:
    """Wait until the screen pulls at its idle rate and the lag probe sleeps its idle sleep."""
    lag = app.manager.lag
    limit = time.perf_counter() + SETTLE_LIMIT_S
    while time.perf_counter() < limit:
        screen = app.screen
        pull = screen.pull_interval if isinstance(screen, MainScreen) else None
        if pull == IDLE_REFRESH_S and lag.sleeping == lag.idle_interval:
            return
        await asyncio.sleep(0.05)


async def idle_share(seconds: float) -> float:
    """This process's CPU time over the wall while the loop runs only what is scheduled."""
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


@dataclass
class DashboardRun:
    first_frame_s: float
    idle_empty: float | None
    completion_s: float
    share: float
    lag: LagStats
    help_latency_s: float | None
    idle_after: float


async def engine_only(spec: str) -> tuple[float, LagStats]:
    async with TaskManager(EngineOptions(demo_server=False)) as manager:
        await asyncio.sleep(0.3)
        start = time.perf_counter()
        batch = manager.launch(spec)
        await batch.wait()
        return (batch.last_finish or 0.0) - batch.created, manager.lag.stats(since=start)


async def dashboard(spec: str, *, probe_help: bool, idle_first: bool) -> DashboardRun:
    created = time.perf_counter()
    app = make_app(options=EngineOptions(demo_server=False))
    async with app.run_test(size=(160, 50)) as pilot:
        while not isinstance(app.screen, MainScreen):
            await asyncio.sleep(0.001)
        await pilot.pause()
        first_frame = time.perf_counter() - created
        await asyncio.sleep(1.0)  # the first psutil samples and lag history arrive
        await settled(app)
        idle_empty = await idle_share(IDLE_S) if idle_first else None
        start = time.perf_counter()
        with CallbackClock().installed() as callbacks:
            await pilot.press("colon", *spec, "enter", "escape")
            batch = app.manager.last_batch
            assert batch is not None
            help_latency = None
            if probe_help:
                await asyncio.sleep(1.0)
                # post the key as a terminal would; pilot.press would also wait for the app to
                # go idle, which it never is while 100,000 tasks run
                pressed = time.perf_counter()
                app.post_message(events.Key("question_mark", "?"))
                while not isinstance(app.screen, HelpScreen):
                    await asyncio.sleep(0.001)
                help_latency = time.perf_counter() - pressed
                app.post_message(events.Key("escape", None))
            await batch.wait()
            busy_wall = time.perf_counter() - start
        completion = (batch.last_finish or 0.0) - batch.created  # launch to last finish
        lag = app.manager.lag.stats(since=start)
        await asyncio.sleep(1.5)  # the last redraws of the finished batch
        await settled(app)
        idle_after = await idle_share(IDLE_S)
        await pilot.press("q")
    return DashboardRun(
        first_frame, idle_empty, completion, callbacks.total / busy_wall, lag, help_latency,
        idle_after,
    )


def print_busy(count: str, run: DashboardRun, bare_s: float, bare_lag: LagStats,
               share_target: float | None) -> None:
    ratio = run.completion_s / bare_s
    share = f"{run.share * 100:5.1f}%"
    if share_target is not None:
        share += f"  [<= {share_target * 100:.0f}%: {verdict(run.share <= share_target)}]"
    print(f"  {count:<22} dashboard's share of the loop {share}")
    print(f"  {'':<22} done in {run.completion_s:.2f} s on the dashboard, {bare_s:.2f} s bare: "
          f"{ratio:.2f}x  [<= 1.10x: {verdict(ratio <= 1.10)}]")
    print(f"  {'':<22} lag dashboard {fmt(run.lag)}")
    print(f"  {'':<22} lag engine    {fmt(bare_lag)}")


async def idle_only() -> int:
    """The idle cost alone: no tasks, then 100,000 finished ``sleep 0`` tasks kept."""
    app = make_app(options=EngineOptions(demo_server=False))
    async with app.run_test(size=(160, 50)) as pilot:
        while not isinstance(app.screen, MainScreen):
            await asyncio.sleep(0.001)
        await asyncio.sleep(1.0)  # the first psutil samples and lag history arrive
        await settled(app)
        empty = await idle_share(IDLE_S)
        print(f"  idle, no tasks         {empty * 100:5.2f}% of one core  "
              f"[<= 2%: {verdict(empty <= 0.02)}]", flush=True)
        await pilot.press("colon", *"sleep 0 x100000", "enter", "escape")
        batch = app.manager.last_batch
        assert batch is not None
        await batch.wait()
        await asyncio.sleep(1.5)  # the last redraws of the finished batch
        await settled(app)
        kept = await idle_share(IDLE_S)
        print(f"  idle, 100,000 finished {kept * 100:5.2f}% of one core  "
              f"[<= 2%: {verdict(kept <= 0.02)}]")
        await pilot.press("q")
    return 0


async def main() -> int:
    print("\ndashboard (headless run_test, 160x50):", flush=True)
    if "--idle" in sys.argv:
        return await idle_only()
    spec = "sleep 2 x10000"
    run = await dashboard(spec, probe_help=False, idle_first=True)
    bare_s, bare_lag = await engine_only(spec)
    print(f"  first frame            {run.first_frame_s * 1000:6.0f} ms  [target <= 1000 ms: "
          f"{verdict(run.first_frame_s <= 1.0)}]")
    assert run.idle_empty is not None
    print(f"  idle, no tasks         {run.idle_empty * 100:5.2f}% of one core  "
          f"[<= 2%: {verdict(run.idle_empty <= 0.02)}]")
    print(f"  idle, 10,000 finished  {run.idle_after * 100:5.2f}% of one core  "
          f"[<= 2%: {verdict(run.idle_after <= 0.02)}]")
    print_busy("10,000 x sleep 2", run, bare_s, bare_lag, 0.10)
    ok = run.lag.p99_ms <= 50 and run.lag.max_ms <= 250
    print(f"  {'':<22} [lag p99 <= 50, max <= 250: {verdict(ok)}]", flush=True)
    spec = "sleep 5 x100000"
    run = await dashboard(spec, probe_help=True, idle_first=False)
    bare_s, bare_lag = await engine_only(spec)
    print(f"  idle, 100,000 finished {run.idle_after * 100:5.2f}% of one core  "
          f"[<= 2%: {verdict(run.idle_after <= 0.02)}]")
    print_busy("100,000 x sleep 5", run, bare_s, bare_lag, None)
    if run.help_latency_s is not None:
        print(f"  {'':<22} '?' opened help in {run.help_latency_s * 1000:.0f} ms mid-batch")
    return 0


if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv):
        print(__doc__)
        raise SystemExit(0)
    raise SystemExit(asyncio.run(main()))
