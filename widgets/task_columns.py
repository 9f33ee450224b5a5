"""The task list's columns: what each shows, how it is cut to fit, and how it sorts.

Text is cut where it loses least: a path or URL in the middle, so the file name (usually the
only part that differs between rows) stays; other text at the end, with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size

from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.units import human_bytes, human_seconds

BAR = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int
    """Fixed width, or the minimum width of a flexible column."""
    flexible: bool = False
    right: bool = False
    middle: bool = False
    """Cut in the middle (paths), not at the end."""


# In the order they are dropped from the right when the list is narrow: last goes first.
COLUMNS = (
    Column("id", "id", 4, right=True),
    Column("state", "state", 10),
    Column("kind", "kind", 8),
    Column("run", "run", 7, right=True),
    Column("target", "target", 8, flexible=True, middle=True),
    Column("wait", "wait", 7, right=True),
    Column("bytes", "bytes", 10, right=True),
    Column("outcome", "result / error", 16, flexible=True),
)
DISPLAY_ORDER = ("id", "kind", "target", "state", "wait", "run", "bytes", "outcome")
SORTABLE = DISPLAY_ORDER
STATE_ORDER = {state: n for n, state in enumerate(TaskState)}


def progress_text(record: TaskRecord) -> str:
    """Bytes done, or a percentage and a small bar while a sized transfer runs."""
    if record.state is TaskState.RUNNING and record.bytes_total:
        fraction = min(1.0, record.bytes_done / record.bytes_total)
        eighths = int(fraction * 5 * 8)
        bar = "█" * (eighths // 8) + (BAR[eighths % 8] if eighths < 40 else "")
        return f"{int(fraction * 100):>3}% {bar:<5}"
    return human_bytes(record.bytes_done) if record.bytes_done else ""


def cell_text(record: TaskRecord, key: str, now: float) -> str:
    if key == "id":
        return str(record.id)
    if key == "kind":
        return record.kind
    if key == "target":
        return record.target
    if key == "state":
        return record.status
    if key == "wait":
        return human_seconds(record.wait_s(now))
    if key == "run":
        return human_seconds(record.run_s(now)) if record.started is not None else ""
    if key == "bytes":
        return progress_text(record)
    return record.error or record.result


def sort_key(key: str, now: float) -> Callable[[TaskRecord], Any]:
    """The value a column sorts by (numbers as numbers, the state in its life order)."""
    if key == "id":
        return lambda r: r.id
    if key == "state":
        return lambda r: (STATE_ORDER[r.state], r.status)
    if key == "wait":
        return lambda r: r.wait_s(now)
    if key == "run":
        return lambda r: r.run_s(now)
    if key == "bytes":
        return lambda r: r.bytes_done
    if key == "outcome":
        return lambda r: (r.error or r.result).casefold()
    return lambda r: getattr(r, key).casefold()


def fit(text: str, width: int, *, right: bool = False, middle: bool = False) -> str:
    """``text`` in exactly ``width`` cells: padded, or cut with an ellipsis."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text.rjust(width) if right else set_cell_size(text, width)
    if width == 1:
        return "…"
    if middle:
        return cut_middle(text, width)
    return set_cell_size(text, width - 1) + "…"


def cut_middle(text: str, width: int) -> str:
    """Keep the start and the last path segment: ``/srv/data/…/sample-07.bin``."""
    slash = text.rfind("/")
    tail = text[slash:] if slash > 0 else ""
    if tail and cell_len(tail) + 2 <= width:
        head = set_cell_size(text[:slash], width - cell_len(tail) - 1)
        return head + "…" + tail
    keep = width - 1
    return "…" + text[-keep:] if keep > 0 else "…"


def layout(width: int, id_width: int) -> list[tuple[Column, int]]:
    """Columns that fit in ``width``, with their widths, in display order."""
    chosen: list[Column] = []
    widths: dict[str, int] = {}
    used = 0
    for column in COLUMNS:
        column_width = max(column.width, id_width) if column.key == "id" else column.width
        need = column_width + 1
        if used + need > width:
            break
        chosen.append(column)
        widths[column.key] = column_width
        used += need
    spare = max(0, width - used)
    flexible = [c for c in chosen if c.flexible]
    # give the target up to 32 cells, the outcome the rest
    for column in flexible:
        share = spare if column is flexible[-1] else min(spare, 32 - column.width)
        share = max(0, share)
        widths[column.key] += share
        spare -= share
    order = {key: n for n, key in enumerate(DISPLAY_ORDER)}
    chosen.sort(key=lambda c: order[c.key])
    return [(c, widths[c.key]) for c in chosen]
