"""How much running tasks concurrently gained over running them one after another.

Two kinds of figure, always labelled apart:

* the **estimate**: the sum of each task's own run time, as if they had run back to back.
  It is honest for work that waits (sleeps, network) and lies under contention: four
  GIL-bound jobs overlapped in threads each take ~4x longer, so their sum claims ~4x
  while the truth is ~1x;
* the **measured** sequential time: the same specs replayed one after another, timed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Timing:
    """Gain figures for a batch or a whole session. All in seconds."""

    wall_s: float
    """First start to last finish (or to now, while tasks run)."""
    sequential_estimate_s: float
    """ESTIMATE: the sum of task run times."""
    measured_sequential_s: float | None = None
    """MEASURED: wall time of a sequential replay of the same specs, if one was run."""
    measured_wall_s: float | None = None
    """The concurrent wall time the measured figure is compared with (same batches)."""

    @property
    def gained_s(self) -> float:
        """ESTIMATE of the seconds saved: sequential estimate minus wall."""
        return self.sequential_estimate_s - self.wall_s

    @property
    def speedup(self) -> float | None:
        """ESTIMATE: sequential estimate / wall; None when no task ran (``read /nonexistent``
        fails before it starts: a 0.0x would be a figure about nothing)."""
        if self.wall_s <= 0 or self.sequential_estimate_s <= 0:
            return None
        return self.sequential_estimate_s / self.wall_s

    @property
    def measured_gained_s(self) -> float | None:
        if self.measured_sequential_s is None:
            return None
        return self.measured_sequential_s - (self.measured_wall_s or self.wall_s)

    @property
    def measured_speedup(self) -> float | None:
        """MEASURED: replayed sequential wall / concurrent wall."""
        wall = self.measured_wall_s or self.wall_s
        if self.measured_sequential_s is None or wall <= 0:
            return None
        return self.measured_sequential_s / wall


def merge_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping ``(start, end)`` spans merged: disjoint, sorted by start (so by end too)."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def union_length(spans: Iterable[tuple[float, float]]) -> float:
    """Total length covered by possibly overlapping ``(start, end)`` spans."""
    return sum(end - start for start, end in merge_spans(spans))
