"""Where ``notify`` puts a message: the screen's message row when it has one, a toast when not.

Both apps (the dashboard and ``watch``) are ``NoticeApp``s. A screen that shows data (the
dashboard, the watch screen) has a ``NoticeLine`` in place of its key footer, so a message never
covers a panel (widgets/notice_line.py says why). The pop-ups (help, details, the scenario
picker, the race chart) have one too, on the bottom row below their box: a scenario started
with ``r`` in the picker says so there, not over the source it is marking. A screen without
one (the search box, the command palette) gets Textual's toast. Every message, either way, is
kept in ``said`` for tests and for reading back.
"""

from __future__ import annotations

import threading

from textual.app import App, ScreenStackError
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel

from loopscope.widgets.notice_line import NoticeLine


class NoticeApp(App[int]):
    """An app whose ``notify`` uses the screen's message row when there is one."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[str] = []
        """Every message ``notify`` was given, oldest first (row or toast alike)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """On the screen's message row if it has one; otherwise Textual's toast."""
        self.said.append(message)
        line = self._notice_line()
        if line is None:
            super().notify(message, title=title, severity=severity, timeout=timeout,
                           markup=markup)
        else:
            line.show(f"{title}: {message}" if title else message, severity, timeout)

    def clear_notifications(self) -> None:
        """Every message taken away: the toasts and each screen's message row."""
        super().clear_notifications()
        for screen in self.screen_stack:
            for line in screen.query(NoticeLine):
                line.dismiss()

    def _notice_line(self) -> NoticeLine | None:
        """The current screen's message row; None on a screen without one, or when called
        from another thread (Textual's notify is thread-safe; the row is not)."""
        if threading.get_ident() != self._thread_id:
            return None
        try:
            return self.screen.query_one(NoticeLine)
        except (NoMatches, ScreenStackError):
            return None
