"""While a clean process times its work, the dashboard redraws at a low rate, so a lane that
needs every core does not share them with a 10 Hz screen (issue 8, a fair race)."""

from __future__ import annotations

import time

from loopscope.tasks.isolated import STOPWATCHES
from loopscope.tui.screens.main import TIMED_REFRESH_S, MainScreen
from tests.tui.conftest import new_app, until


async def test_a_timed_lane_gets_one_pull_per_timed_refresh_and_none_at_its_start() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        screen = app.screen
        assert isinstance(screen, MainScreen)
        screen.launch_text("sleep 60 x3")  # live tasks: every pull would redraw
        now = [time.perf_counter() + 1000.0]  # past any pacing set on the real clock
        screen.pace_clock = lambda: now[0]
        pulls: list[float] = []
        sync = screen.sync

        def counted_sync(*, force: bool = False) -> None:
            pulls.append(now[0])
            sync(force=force)

        screen.sync = counted_sync  # type: ignore[method-assign]
        STOPWATCHES.start()
        try:
            # not at once: the lane's jobs start with its stopwatch (a pull then, with the
            # lane's new rows to lay out, slowed the processes lane on the dashboard)
            await pilot.pause(0.35)  # several 10 Hz ticks, the clock standing still
            assert pulls == []
            now[0] += TIMED_REFRESH_S / 2
            await pilot.pause(0.35)
            assert pulls == []
            now[0] += TIMED_REFRESH_S / 2
            await until(pilot, lambda: len(pulls) == 1)
            await pilot.pause(0.35)
            assert len(pulls) == 1
            now[0] += TIMED_REFRESH_S
            await until(pilot, lambda: len(pulls) == 2)
        finally:
            STOPWATCHES.stop()
        now[0] += 0.01  # no lane timed: the next tick pulls again
        await until(pilot, lambda: len(pulls) >= 3)
        await pilot.press("C", "q")
