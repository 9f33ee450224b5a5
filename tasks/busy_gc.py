"""The garbage collector's young-generation threshold, raised while the engine runs a batch.

Why: with CPython's default threshold (700 net allocations) the collector ran about 220
young, 20 middle and one or two full collections per 5,000 ``fetch /delay/0`` tasks, about
20 us of a request's ~90 us of client CPU (``make bench`` (c), measured with ``gc.callbacks``):
a running batch allocates steadily and every collection walks the young objects, and every
full one walks the whole heap. At 20,000 the same batch sees two or three young collections
and almost no full ones.

What it touches, and when: only the first threshold, and only while at least one batch is in
flight (launched and not yet complete). When the last batch ends (or the manager closes) the
previous thresholds come back, unless someone changed them meanwhile: then theirs stay. A
threshold already at least as high (the dashboard sets 20,000 for its whole life, see
``gc_tuning.py``) is left alone. Nothing is frozen: ``gc.freeze()`` would also move the host
program's own garbage out of the collector's reach, which a library must not do.
``EngineOptions(gc_threshold=None)`` leaves the collector alone entirely.
"""

from __future__ import annotations

import gc

BUSY_THRESHOLD = 20_000
"""The young-generation threshold while a batch runs (the dashboard's own, gc_tuning.py)."""


class BusyCollector:
    """Raises the collector's threshold while the engine is busy, restores it when idle."""

    def __init__(self, threshold: int | None = BUSY_THRESHOLD):
        self.threshold = threshold
        self._saved: tuple[int, int, int] | None = None
        """The thresholds found when this raised them (None: it has not raised them)."""

    @property
    def raised(self) -> bool:
        """True while this has the threshold raised."""
        return self._saved is not None

    def busy(self, busy: bool) -> None:
        """The engine went from no batch in flight to one (True), or back (False)."""
        if busy:
            self._raise()
        else:
            self.restore()

    def _raise(self) -> None:
        if self.threshold is None or self._saved is not None:
            return
        young, middle, old = current = gc.get_threshold()
        if young == 0 or young >= self.threshold:  # collection off, or already high enough
            return
        self._saved = current
        gc.set_threshold(self.threshold, middle, old)

    def restore(self) -> None:
        """Put back the thresholds found, if they are still the ones this set."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        young, middle, old = gc.get_threshold()
        if young == self.threshold and (middle, old) == saved[1:]:
            gc.set_threshold(*saved)
