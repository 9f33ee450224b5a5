"""What a program with 100,000 tasks costs the watch screen, side by side with 100 tasks.

A key waits for whatever holds the loop when it arrives: applying the agent's batch (decode
and index), the screen's 10 Hz pull (``WatchScreen.sync``), and the key itself (move the
cursor, redraw the visible rows). Each is timed here, in one run, on the same screen at 100 and
at 100,000 tasks while 1,000 task snapshots are replaced per batch (999 on the small side) through
the real row decoding. Median and worst in ms, and the ratio of the medians.

Then the whole path as a user meets it (``bench.key_latency``): the real ``loopscope watch``
in a pseudo-terminal on a program running 100,000 tasks, keys pressed while it runs, timed
from the key to the bytes that show its effect, with a verdict against 100 ms.

    flock /work/wt/bench.lock python -m bench.watch_screen
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from collections.abc import Callable
from functools import partial

from bench import key_latency
from loopscope.tui.screens.watch import WatchScreen
from loopscope.tui.watch_app import make_watch_app
from loopscope.widgets.watch_task_list import WatchTaskList
from tests.staging import until
from tests.watch_fake import FakeFeed, batch, fake_session, many_tasks

CHURN = 1_000
PRESSES = 30
SMALL = 1_000


Timing = dict[str, list[float]]


def timed(times: Timing, name: str, function: Callable[[], object]) -> None:
    start = time.perf_counter()
    function()
    times.setdefault(name, []).append((time.perf_counter() - start) * 1000)


async def measure(count: int) -> Timing:
    app = make_watch_app(fake_session(feed=FakeFeed(tasks=many_tasks(count), with_events=False)))
    times: Timing = {}
    async with app.run_test(size=(160, 50)) as pilot:
        screen = app.screen
        assert isinstance(screen, WatchScreen)
        tasks = screen.query_one(WatchTaskList)
        await until(pilot, lambda: tasks.row_count == count, timeout=120)
        store = app.session.store
        for step in range(PRESSES):
            ids = [2 + (step * CHURN + n) % (count - 1) for n in range(min(CHURN, count - 1))]
            message = batch([dataclasses.replace(store.tasks[i], steps=step) for i in ids])
            timed(times, "apply a batch", partial(store.apply_message, message))
            timed(times, "screen sync", screen.sync)

            def cursor_down_and_redraw() -> None:
                tasks.action_cursor_down()
                for y in range(tasks.size.height):
                    tasks.render_line(y)

            timed(times, "key: cursor down + redraw", cursor_down_and_redraw)
            await pilot.pause(0.05)  # the agent's batch interval
    return times


async def main() -> None:
    small = await measure(SMALL)
    big = await measure(100_000)
    print(f"watch screen, {CHURN:,} snapshots replaced per batch, {PRESSES} rounds (ms):")
    print(f"  {'':28} {f'{SMALL:,} tasks':>18} {'100,000 tasks':>18} {'ratio':>7}")
    for name in small:
        a, b = small[name], big[name]
        print(f"  {name:28} {statistics.median(a):8.2f} (max {max(a):5.1f}) "
              f"{statistics.median(b):8.2f} (max {max(b):5.1f}) "
              f"{statistics.median(b) / statistics.median(a):6.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
    print()
    key_latency.main([])
