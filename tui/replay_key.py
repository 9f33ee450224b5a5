"""``R`` on the dashboard: the last batch measured again in a clean process.

The replay itself is the engine's (tasks/clean_replay.py): the batch again, then one task
after another, in a process away from the screen, so the gain it reports is measured, not
estimated. This module is what the key says around it: why it refuses (no batch, a batch
still running, a replay already measuring: two at once would time each other), what it
starts, and the one message when the figures are in. Kept out of the main screen, which
only wires it to its key and its pull.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from loopscope.tasks.batch import Batch
from loopscope.tasks.clean_replay import CleanReplay, replay_in_clean_process
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.units import human_seconds

REPLAY_NOTE_S = 4.0
"""How long ``R``'s "measuring…" message stays: the timeline says the same meanwhile."""
FOUND_NOTE_S = 12
"""How long the measured figures stay on the message row (the gain panel keeps them)."""


Notify = Callable[..., None]
"""A screen's ``notify``: a message (``severity=``, ``timeout=``)."""

_RANDOM_DELAY = re.compile(r"/delay/\d+-\d+")


def random_delay_note(batch: Batch) -> str:
    """What a replay of ``batch`` cannot repeat: the demo server's random delays
    (``/delay/MIN-MAX``) are drawn anew for every request, so the concurrent run and the
    one-by-one run wait different times; "" when no fetch of the batch has one."""
    ranges = sorted({match.group(0) for spec in batch.specs if spec.kind == "fetch"
                     for arg in spec.args for match in _RANDOM_DELAY.finditer(arg)})
    if not ranges:
        return ""
    return (f" Random delays ({', '.join(ranges)}) differ from run to run: the gain holds on "
            "average.")


class ReplayKey:
    """The last ``R``'s replay, and what the screen is told about it."""

    def __init__(self, manager: TaskManager, notify: Notify) -> None:
        self._manager = manager
        self._notify = notify
        self.run: CleanReplay | None = None
        """The last replay started (tasks/clean_replay.py)."""
        self._told: CleanReplay | None = None
        """The replay whose findings were said already (said once)."""

    def start(self) -> bool:
        """Replay the last batch in a clean process, or say why not; True if one started."""
        batch = self._manager.last_batch
        if batch is None:
            self._notify("launch a batch first, then R replays it one by one", severity="warning")
            return False
        if not batch.done:
            self._notify(f"batch #{batch.id} is still running: wait, or C to cancel it",
                         severity="warning")
            return False
        running = self.run
        if running is not None and not running.done:  # two at once would time each other
            self._notify(f"still measuring batch #{running.original.id}: wait, or C to stop it",
                         severity="warning")
            return False
        estimate = batch.timing(self._manager.clock()).sequential_estimate_s
        self.run = replay_in_clean_process(self._manager, batch)
        self._notify(
            f"measuring batch #{batch.id} in a clean process (about {human_seconds(estimate)}, "
            "estimate) · C cancels",
            timeout=REPLAY_NOTE_S,
        )
        return True

    def sync(self) -> None:
        """Say once what a replay in a clean process found (or why it failed)."""
        run = self.run
        if run is None or not run.done or run is self._told:
            return
        self._told = run
        if run.error is not None:
            self._notify(f"replay of batch #{run.original.id}: {run.error}", severity="warning")
        elif run.speedup is not None and run.clean_wall_s and run.sequential_s is not None:
            share = run.screen_share or 0.0
            self._notify(
                f"batch #{run.original.id} in a clean process: "
                f"{human_seconds(run.clean_wall_s)} concurrently, "
                f"{human_seconds(run.sequential_s)} one by one: {run.speedup:.1f}× measured; "
                f"beside the screen it took {human_seconds(run.screen_wall_s)} ({share:+.0%})."
                f"{random_delay_note(run.original)}",
                timeout=FOUND_NOTE_S,
            )
