"""How much of its time the agent's sender may take: little while the watched program works
(every batch it builds holds the GIL the program needs), much while the program idles (then a
batch costs the program nothing, and a burst of tasks reaches the screen in seconds)."""

from __future__ import annotations

IDLE_SHARE = 0.25
"""The program (every thread but the sender's) used less than this share of one core since
the last batch: it is idle, and the sender may use ``IDLE_DUTY``."""
IDLE_DUTY = 0.5


def duty_for(program_share: float, duty: float) -> float:
    """The sender's share of time: ``duty`` while the program works, ``IDLE_DUTY`` while it
    is idle (its threads used under ``IDLE_SHARE`` of a core), never less than ``duty``."""
    return max(duty, IDLE_DUTY) if program_share < IDLE_SHARE else duty
