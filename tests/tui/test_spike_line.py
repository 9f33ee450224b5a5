"""The process panel shows a lag spike's cause whole, at both sizes.

Trial: at 160x50 the panel read "spike 0.156 s: loopscope's own work:" and the rest of the
cause (wrapped by Textual onto a line the panel had no height for) was hidden under its
border; at 80x24 it read "spike 1.453 s: task #31 bl…".
"""

from __future__ import annotations

import pytest

from loopscope.tasks.blame import SpikeCause
from loopscope.tasks.lag import LagSpike
from loopscope.widgets.system_panel import SystemPanel
from tests.tui.conftest import new_app, until

CAUSE = "loopscope's own work: starting the process pool (2 workers)"


@pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["160x50", "80x24"])
async def test_the_spike_cause_is_shown_whole(size: tuple[int, int]) -> None:
    app = new_app()
    async with app.run_test(size=size) as pilot:
        panel = app.screen.query_one(SystemPanel)
        app.manager.lag.spikes.append(LagSpike(app.manager.clock(), 156.0, CAUSE,
                                               SpikeCause.OWN_WORK))
        panel.sync()
        await until(pilot, lambda: "spike" in panel.render().plain)
        await pilot.pause()
        drawn = [strip.text for strip in panel.render_lines(panel.region.reset_offset)]
        inside = " ".join(line.strip(" │╭╮╰╯─") for line in drawn)
        spike = " ".join(inside[inside.index("spike"):].split())
        assert spike == f"spike 0.156 s: {CAUSE}"
