"""A spike during a slow redraw is blamed on loopscope's own work, never "cause unknown"."""

from __future__ import annotations

from loopscope.tui.screens.main import MainScreen
from tests.staging import FakeClock
from tests.tui.conftest import new_app, until


async def test_a_slow_draw_is_blamed_on_drawing_the_screen() -> None:
    clock = FakeClock(100.0)
    app = new_app(clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert app.manager.blame(200.0, 200.3) is None  # nothing known then

        def slow_draw() -> None:
            clock.now = 200.3  # the draw took 300 ms on the engine's clock

        clock.now = 200.0
        screen._timed(slow_draw)  # noqa: SLF001 - the drawing pass Textual calls, with a slow draw
        assert app.manager.blame(200.0, 200.3) == "loopscope's own work: drawing the screen"
