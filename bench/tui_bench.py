"""The dashboard's responsiveness, measured headless with run_test (part of `make bench`).

* first frame: from creating the app to the dashboard mounted and drawn;
* 10,000 sleeps typed into the command bar: event-loop lag p50/p99/max while they run
  (targets: p99 <= 50 ms, max <= 250 ms), measured by loopscope's own lag monitor;
* 100,000 sleeps from the command bar: time to finish, lag while they run, and how long a key
  press takes to open the help screen in the middle of it (is the app still usable?).

"done in" is the batch's own launch-to-last-finish time, the same measure on both sides.

Each run also reports the same lag figures for the launch alone in a bare TaskManager, so the
dashboard's own cost can be read beside the engine's.
"""

from __future__ import annotations

import asyncio
import time

from textual import events

from loopscope.tasks.lag import LagStats
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tui.app import make_app
from loopscope.tui.screens.help import HelpScreen
from loopscope.tui.screens.main import MainScreen


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def fmt(stats: LagStats) -> str:
    return f"p50 {stats.p50_ms:6.1f} ms  p99 {stats.p99_ms:6.1f} ms  max {stats.max_ms:6.1f} ms"


async def engine_only(spec: str) -> tuple[float, LagStats]:
    async with TaskManager(EngineOptions(demo_server=False)) as manager:
        await asyncio.sleep(0.3)
        start = time.perf_counter()
        batch = manager.launch(spec)
        await batch.wait()
        return (batch.last_finish or 0.0) - batch.created, manager.lag.stats(since=start)


async def dashboard(spec: str, *, probe_help: bool) -> tuple[float, float, LagStats, float | None]:
    created = time.perf_counter()
    app = make_app(options=EngineOptions(demo_server=False))
    first_frame = 0.0
    async with app.run_test(size=(160, 50)) as pilot:
        while not isinstance(app.screen, MainScreen):
            await asyncio.sleep(0.001)
        await pilot.pause()
        first_frame = time.perf_counter() - created
        await pilot.pause(0.3)
        start = time.perf_counter()
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
        elapsed = (batch.last_finish or 0.0) - batch.created  # launch to last finish
        lag = app.manager.lag.stats(since=start)
        await pilot.press("q")
    return first_frame, elapsed, lag, help_latency


async def main() -> int:
    print("\ndashboard (headless run_test, 160x50):", flush=True)
    spec = "sleep 2 x10000"
    first, elapsed, lag, _ = await dashboard(spec, probe_help=False)
    bare_elapsed, bare_lag = await engine_only(spec)
    print(f"  first frame            {first * 1000:6.0f} ms  [target <= 1000 ms: "
          f"{verdict(first <= 1.0)}]")
    ok = lag.p99_ms <= 50 and lag.max_ms <= 250
    print(f"  10,000 x sleep 2       dashboard {fmt(lag)}  done in {elapsed:.2f} s  "
          f"[p99 <= 50, max <= 250: {verdict(ok)}]")
    print(f"                         engine    {fmt(bare_lag)}  done in {bare_elapsed:.2f} s")
    spec = "sleep 5 x100000"
    _, elapsed, lag, help_latency = await dashboard(spec, probe_help=True)
    bare_elapsed, bare_lag = await engine_only(spec)
    print(f"  100,000 x sleep 5      dashboard {fmt(lag)}  done in {elapsed:.2f} s")
    print(f"                         engine    {fmt(bare_lag)}  done in {bare_elapsed:.2f} s")
    print(f"                         '?' opened help in {help_latency * 1000:.0f} ms mid-batch"
          if help_latency is not None else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
