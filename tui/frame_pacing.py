"""How often a screen may pull and draw: at most about ``1/budget`` of the time it runs in.

A frame of a busy screen (thousands of changed rows, a big timeline) costs tens of
milliseconds to pull and compose. ``FramePacer`` times both, the screen's pull and Textual's
drawing passes, and makes the next pull wait ``budget`` times what the last frame cost: a
5 ms frame may come again 75 ms later, a 30 ms frame waits 450 ms. The dashboard then takes
about a fifteenth of a core however busy the work it shows, and an idle one, whose frames
cost almost nothing, still draws at its timer's rate. Keys do not wait for it: a screen's
actions pull at once.

Both screens use it: the dashboard (its loop is the engine's, so a frame there is lag) and the
watch screen (a process of its own, but on a 2-core machine every millisecond it draws is one
the watched program and its servers do not get).
"""

from __future__ import annotations

import time
from collections.abc import Callable

FRAME_BUDGET = 15
"""A frame may come again after this many times what the last one cost."""


class FramePacer:
    """When the next pull is due, from what the last pull and draw cost."""

    def __init__(self, budget: float = FRAME_BUDGET,
                 clock: Callable[[], float] = time.perf_counter,
                 max_wait: float | None = None) -> None:
        self.budget = budget
        self.max_wait = max_wait
        """The longest a pull may wait after a frame, however costly (None: no limit)."""
        self.clock = clock
        """Tests replace it to step time by hand."""
        self.next_pull = 0.0
        self.pull_cost = 0.0
        """The last pull's cost, added to the draw that follows it (one frame, both parts)."""
        self._drawing = False

    def due(self, now: float) -> bool:
        return now >= self.next_pull

    def pulled(self, start: float) -> None:
        """A pull that began at ``start`` just ended."""
        self.pull_cost = self.clock() - start
        self.next_pull = start + self._wait(self.pull_cost)

    def hold(self, until: float) -> None:
        """No pull before ``until`` whatever the frames cost (a stopwatch is running)."""
        self.next_pull = max(self.next_pull, until)

    def timed_draw(self, draw: Callable[[], None],
                   done: Callable[[], None] | None = None) -> None:
        """Run one of Textual's drawing passes, timed with the pull before it; ``done`` runs
        after it (the dashboard notes long ones as its own work). Nested passes are timed
        once, by the outermost."""
        if self._drawing:
            draw()
            return
        self._drawing = True
        start = self.clock()
        try:
            draw()
        finally:
            self._drawing = False
            if done is not None:
                done()
            end = self.clock()
            cost = end - start + self.pull_cost
            self.next_pull = max(self.next_pull, end + self._wait(cost))
            self.pull_cost = 0.0

    def _wait(self, cost: float) -> float:
        wait = cost * self.budget
        return wait if self.max_wait is None else min(wait, self.max_wait)
