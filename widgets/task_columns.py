"""The task list's columns: what each shows, how it is cut to fit, and how it sorts.

Text is cut where it loses least: a path or URL in the middle, so the file name (usually the
only part that differs between rows) stays; other text at the end, with an ellipsis.

``busy`` and ``steps`` come from the step hook, which is on only with ``--step-timing``: without
it they show ``—`` (not measured), never a misleading 0, and the list says why. The last
column is where a live task waits (file:line and what it awaits, as on the watch screen) and
how a finished one ended.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.units import human_bytes, human_seconds

BAR = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    width: int
    """The width it gets when there is room (a flexible column: before the spare is shared)."""
    flexible: bool = False
    right: bool = False
    middle: bool = False
    """Cut in the middle (paths), not at the end."""
    least: int = 0
    """The narrowest it may be squeezed to, so a more useful column fits (0: ``width``)."""

    @property
    def narrowest(self) -> int:
        return self.least or self.width


NOT_MEASURED = "—"
"""What ``busy`` and ``steps`` show when step timing is off."""

# In the order of their use to someone watching: a narrow list keeps the first that fit (at
# their ``least`` width), then widens them. At 80 columns the list keeps id, state, kind, a
# target wide enough for "/delay/100-1200" and the run time; at 160 every column fits.
KIND = Column("kind", "kind", 8, least=6)
COLUMNS = (
    Column("id", "id", 4, right=True),
    Column("state", "state", 10),
    KIND,
    Column("target", "target", 12, flexible=True, middle=True),
    Column("run", "run", 7, right=True),
    Column("outcome", "waits at / outcome", 18, flexible=True),
    Column("busy", "busy", 7, right=True),
    Column("steps", "steps", 6, right=True),
    Column("wait", "wait", 7, right=True),
    Column("bytes", "bytes", 10, right=True),
)
DISPLAY_ORDER = (
    "id", "kind", "target", "state", "wait", "run", "busy", "steps", "bytes", "outcome",
)
SORTABLE = DISPLAY_ORDER
STEP_COLUMNS = frozenset({"busy", "steps"})
"""Measured only with step timing on."""
INSIGHT_COLUMNS = STEP_COLUMNS | {"outcome"}
"""Columns that need the tasks' insight sampled (``TaskManager.sample_insight``)."""
STATE_ORDER = {state: n for n, state in enumerate(TaskState)}
ESSENTIAL = frozenset({"id", "state", "kind", "target", "run"})
"""The columns a narrow list keeps first, each at its narrowest (80 columns: all of them)."""
TARGET_READABLE = 16
"""The target's share of the spare comes first, up to this many cells ("sample-64KiB.txt"):
before the other columns widen from their ``least``."""
TARGET_CAP = 18
"""The target column grows up to this many cells; the last column takes the rest (at 20, what
``p`` launches showed whole, but an error's reason lost two cells at 160 columns)."""


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
    if key == "busy":
        return NOT_MEASURED if record.busy_s is None else human_seconds(record.busy_s)
    if key == "steps":
        return NOT_MEASURED if record.steps is None else f"{record.steps:,}"
    return outcome_text(record)


def outcome_text(record: TaskRecord) -> str:
    """A finished task's result or error; where a live one waits, when it was sampled."""
    if record.state.finished or record.error or record.result:
        return record.error or record.result
    where = record.suspended_at
    if where is None:
        return ""
    frame = where.own_frame
    place = frame.place if frame is not None else ""
    return f"{place} {where.awaiting}" if place and where.awaiting else place or (
        where.awaiting or "")


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
    if key == "busy":
        return lambda r: -1.0 if r.busy_s is None else r.busy_s
    if key == "steps":
        return lambda r: -1 if r.steps is None else r.steps
    if key == "outcome":
        return lambda r: outcome_text(r).casefold()
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
    """Keep the start and the last path segment: ``/srv/data/…/sample-07.bin``. Text that is
    no path (``3,000,000 in process``) keeps its start: the number that tells tasks apart.
    A closing note in brackets is what tells rows apart when it is there (the race's
    ``sum of squares to 3,000,000 (threads)``): it is kept, and the rest cut before it."""
    return set_cell_size(_cut(text, width), width)


def _cut(text: str, width: int) -> str:
    """``cut_middle`` without the padding: at most ``width`` cells."""
    if cell_len(text) <= width:
        return text
    note_at = text.rfind(" (") if text.endswith(")") else -1
    if note_at > 0:
        note = text[note_at:]
        room = width - cell_len(note)
        if room >= MIN_HEAD:
            return _cut(text[:note_at], room) + note
    slash = text.rfind("/")
    if slash < 0:
        return set_cell_size(text, width - 1) + "…"
    tail = text[slash:] if slash > 0 else ""
    if tail and cell_len(tail) + 2 <= width:
        head_width = width - cell_len(tail) - 1
        if head_width < MIN_HEAD:  # "G…/200": a head too short to read, left out
            return "…" + tail
        return set_cell_size(text[:slash], head_width) + "…" + tail
    keep = width - 1
    return "…" + text[-keep:] if keep > 0 else "…"


MIN_HEAD = 4
"""A cut text keeps at least this much of its start, or none of it."""


def layout(width: int, id_width: int) -> list[tuple[Column, int]]:
    """Columns that fit in ``width``, with their widths, in display order.

    The most useful columns are chosen first, each at its narrowest (``id_width``: the id
    column need not be wider than the biggest id and a space); a column that does not fit is
    left out whole, never cut. The room left over widens them: the target up to
    TARGET_READABLE, the squeezed columns back to their width, the target up to TARGET_CAP,
    and the last flexible column takes the rest.
    """
    chosen: list[Column] = []
    widths: dict[str, int] = {}
    used = 0
    for column in COLUMNS:
        narrowest = max(3, id_width) if column.key == "id" else column.narrowest
        # past the essentials and the outcome, a column comes in only if the target can still
        # be readable and the kind whole (at 120 columns "busy", all "—" without step timing,
        # had squeezed the target to "/del…/100-1200")
        reserve = 0
        if column.key not in ESSENTIAL and column.key != "outcome" and "target" in widths:
            reserve = max(0, TARGET_READABLE - widths["target"]) + KIND.width - widths["kind"]
        if used + narrowest + 1 + reserve > width:
            break
        chosen.append(column)
        widths[column.key] = narrowest
        used += narrowest + 1
    spare = max(0, width - used)

    def widen(key: str, to: int) -> None:
        nonlocal spare
        if key in widths and to > widths[key]:
            share = min(spare, to - widths[key])
            widths[key] += share
            spare -= share

    widen("target", TARGET_READABLE)
    for column in chosen:
        widen(column.key, max(column.width, id_width) if column.key == "id" else column.width)
    widen("target", TARGET_CAP)
    flexible = [c for c in chosen if c.flexible]
    if flexible and flexible[-1].key != "target":
        widen(flexible[-1].key, widths[flexible[-1].key] + spare)
    elif flexible:
        widen("target", widths["target"] + spare)
    order = {key: n for n, key in enumerate(DISPLAY_ORDER)}
    chosen.sort(key=lambda c: order[c.key])
    return [(c, widths[c.key]) for c in chosen]


def row_strip(record: TaskRecord, columns: list[tuple[Column, int]], width: int, now: float,
              styles: tuple[Style, Style, Style]) -> Strip:
    """One task's row in ``columns`` (``layout``'s), ``styles`` being (base, state, error):
    the state cell in its state's colour, an error outcome in the error colour."""
    base, state_style, error_style = styles
    segments: list[Segment] = []
    used = 0
    for column, column_width in columns:
        text = fit(
            cell_text(record, column.key, now), column_width,
            right=column.right, middle=column.middle,
        )
        style = base
        if column.key == "state":
            style = state_style
        elif column.key == "outcome" and record.error:
            style = error_style
        segments.append(Segment(text + " ", style))
        used += column_width + 1
    if used < width:
        segments.append(Segment(" " * (width - used), base))
    return Strip(segments, max(width, used)).crop(0, width)
