"""What the watch list draws besides text columns: each task's life as a bar on a shared axis
(the ``lanes`` view), the axis itself with a ``!`` where the loop was held, and the fitting of
a cell's text to its column. Pure functions of their arguments, kept apart from the list's
scrolling and caching (``watch_task_list``)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style

from loopscope.tasks.agent.model import LagSpike, TaskSnapshot


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` in exactly ``width`` cells: cut with "…", or padded (on the left if right)."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else text[:width]
    return text.rjust(width) if right else set_cell_size(text, width)


def axis_text(axis: tuple[float, float], spikes: Iterable[LagSpike], width: int) -> str:
    """``0 s`` at the left, the span at the right, ``!`` where the loop was held."""
    start, end = axis
    cells = [" "] * width
    span = max(end - start, 1e-9)
    for spike in spikes:
        x = int((spike.at - start) / span * width)
        if 0 <= x < width:
            cells[x] = "!"
    right = f"{end - start:.1f} s"
    text = "".join(cells)
    if width > len(right) + 4:
        text = "0 s" + text[3 : width - len(right)] + right
    return text


def lane(task: TaskSnapshot, axis: tuple[float, float], width: int, base: Style,
         bar: Style) -> list[Segment]:
    """The task's life as a bar: from its creation to its end (or to now)."""
    start, end = axis
    span = max(end - start, 1e-9)
    born = max(0.0, (task.created_t - start) / span)
    died = (task.ended_t if task.ended_t is not None else end) - start
    first = min(width - 1, int(born * width))
    last = max(first + 1, min(width, round(died / span * width)))
    return [
        Segment(" " * first, base),
        Segment("█" * (last - first), bar),
        Segment(" " * (width - last), base),
    ]
