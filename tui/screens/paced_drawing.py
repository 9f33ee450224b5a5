"""A screen whose Textual drawing passes are timed, so its pulls can pace themselves.

The dashboard's frame costs tens of milliseconds while thousands of tasks run: ``FramePacer``
(tui/frame_pacing.py) holds the next pull back until the screen's share of the loop allows
it, and a draw long enough to show as lag is noted as loopscope's own work, so a lag spike
over it is blamed on the screen, never "cause unknown".
"""

from __future__ import annotations

from collections.abc import Callable

from textual.geometry import Size

from loopscope.tasks.manager import TaskManager
from loopscope.tui.frame_pacing import FramePacer

OWN_WORK_NOTE_S = 0.01
"""A pull or a draw at least this long is noted as loopscope's own work (for lag blame)."""


class PacedDrawing:
    """Mixed into a ``Screen`` (before it) that has ``manager`` and ``_pacer``."""

    manager: TaskManager
    _pacer: FramePacer

    # Textual's own drawing passes, timed so the pull can pace itself (MainScreen._pull).
    def _compositor_refresh(self) -> None:
        self._timed(super()._compositor_refresh)  # type: ignore[misc]

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        self._timed(lambda: super(PacedDrawing, self)._refresh_layout(size, scroll))  # type: ignore[misc]

    def _timed(self, draw: Callable[[], None]) -> None:
        began = self.manager.clock()
        self._pacer.timed_draw(draw, lambda: self._note_own_work(began, "drawing the screen"))

    @property
    def pace_clock(self) -> Callable[[], float]:
        """The clock that paces pulls and draws (tests replace it to step time by hand)."""
        return self._pacer.clock

    @pace_clock.setter
    def pace_clock(self, clock: Callable[[], float]) -> None:
        self._pacer.clock = clock

    def _note_own_work(self, began: float, label: str) -> None:
        """A pull or a draw long enough to show as lag is loopscope's own work: a spike over it
        is blamed on the screen, never "cause unknown" (short ones are not worth a note)."""
        ended = self.manager.clock()
        if ended - began >= OWN_WORK_NOTE_S:
            self.manager.note_own_work(began, ended, label)
