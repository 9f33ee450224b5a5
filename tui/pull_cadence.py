"""How often the dashboard pulls from the engine: 10 Hz while anything could change, once a
second when idle.

On an idle process every timer wake-up costs CPU (about a quarter of a millisecond each on
these machines, measured): a 10 Hz pull that found nothing to do was a quarter of the idle
dashboard's cost. Once ``settle`` pulls in a row found the engine idle and nothing changed, the
screen pulls once a second, which is as often as anything on an idle screen changes (the
psutil figures and the lag line). ``wake()`` brings the fast rate back at once: the engine
calls it when a batch starts (``TaskManager.on_busy``) and the app on every key, click and
resize, so a launched task appears as promptly as before.
"""

from __future__ import annotations

REFRESH_S = 0.1
"""The pull's interval while something runs or just changed."""
IDLE_REFRESH_S = 1.0
"""The pull's interval while idle: the psutil figures and the lag line change this often."""
SETTLE_PULLS = 10
"""Quiet pulls in a row (a second at 10 Hz) before the screen slows down."""


class PullCadence:
    """The pull interval the screen wants now, from what its last pulls found."""

    def __init__(self, *, fast: float = REFRESH_S, slow: float = IDLE_REFRESH_S,
                 settle: int = SETTLE_PULLS) -> None:
        self.fast = fast
        self.slow = slow
        self.settle = settle
        self.interval = fast
        """The interval wanted now."""
        self._quiet_pulls = 0

    @property
    def idle(self) -> bool:
        return self.interval == self.slow

    def pulled(self, *, busy: bool, changed: bool) -> float:
        """A pull found the engine ``busy`` (something live) or ``changed`` (something to
        draw): returns the interval wanted from now."""
        if busy or changed:
            self._quiet_pulls = 0
            self.interval = self.fast
        else:
            self._quiet_pulls += 1
            if self._quiet_pulls >= self.settle:
                self.interval = self.slow
        return self.interval

    def wake(self) -> bool:
        """Something happened (a launch, a key): fast again. True if it was slow."""
        self._quiet_pulls = 0
        was_idle = self.idle
        self.interval = self.fast
        return was_idle
