"""The gain panel's session line says what it covers in words that fit its width.

Trial: after ``R`` at 160x50 it read "session: 1 batch, meas. over the 1" (the word
"replayed" was past the edge); at 80x24, with two batches, "session 2 batches: 5.8x" lost the
"est." that labels the figure an estimate.
"""

from __future__ import annotations

import pytest

from loopscope.widgets.gain_panel import GainPanel
from tests.tui.conftest import new_app, until


@pytest.mark.parametrize(("size", "says"), [
    ((160, 50), "session: 2 batches; meas. over 1 replayed"),
    ((80, 24), "session est."),
])
async def test_the_session_line_fits_and_keeps_its_label(size: tuple[int, int],
                                                           says: str) -> None:
    app = new_app()
    async with app.run_test(size=size) as pilot:
        manager = app.manager
        for n in range(2):
            batch = manager.launch("sleep 0.01 x2")
            await until(pilot, lambda batch=batch: batch.done)  # type: ignore[misc]
            if n == 0:  # as ``R``'s replay in a clean process sets it
                batch.measured_sequential_s = 0.02
        panel = app.screen.query_one(GainPanel)
        await pilot.pause()
        lines = panel.render().plain.splitlines()
        assert all(len(line) <= panel.content_size.width for line in lines)
        last = lines[-1]
        assert last.startswith(says)
        if size == (80, 24):
            assert last.rstrip().endswith("×")  # "session est.  …  2.0×": labelled, with its value
