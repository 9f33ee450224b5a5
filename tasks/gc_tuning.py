"""Keep Python's garbage collector from stalling the loop when 100,000 tasks are alive.

A full collection scans every tracked object: measured here, 30-40 ms pauses with 10,000 tasks,
more as history grows. Objects alive once a program is set up (imported modules, a widget
tree, the session) never become garbage, so ``gc.freeze()`` moves them out of the collector's
sight, and a higher young-generation threshold makes collections rarer.

Only a program that owns its process should call this (the dashboard, ``loopscope run``);
the engine as a library leaves the collector alone.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def tune_garbage_collector() -> None:
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(max(YOUNG_THRESHOLD, gc.get_threshold()[0]), middle, old)


class FreezeAsItGrows:
    """Freeze what a growing data set adds, a step at a time (the watch screen's snapshots).

    A full collection walks every tracked object: with 100,000 watched tasks it held the
    screen for half a second, and the 25% rule of the collector triggers one as the set grows.
    Each time the set has grown by ``step`` beyond its largest size yet, one full collection
    (of what is not frozen: about ``step`` tasks' worth, tens of milliseconds) clears the
    garbage, then ``gc.freeze()`` moves the survivors out of the collector's sight.

    The price: an object alive at a freeze that later becomes garbage in a reference cycle is
    never collected. Snapshots form no cycles (a replaced one is freed at once), and freezes
    happen only while the set reaches new sizes, so the number of freezes is bounded by the
    largest size over ``step``.
    """

    def __init__(self, step: int = 10_000) -> None:
        self.step = step
        self.frozen_at = 0
        """The size at the last freeze."""

    def __repr__(self) -> str:
        return f"<FreezeAsItGrows step={self.step} frozen_at={self.frozen_at}>"

    def grown_to(self, size: int) -> bool:
        """The set now holds ``size`` items: freeze if it grew by a step. True if it did."""
        if size < self.frozen_at + self.step:
            return False
        gc.collect()
        gc.freeze()
        self.frozen_at = size
        return True
