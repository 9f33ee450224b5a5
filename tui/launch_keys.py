"""What each launch key starts: a spec in the same language as the command bar.

Defaults work offline: fetches hit the embedded demo server with varied delays, reads use the
generated sample files. ``{n}`` is the current batch size.
"""

from __future__ import annotations

BATCH_SIZES = (1, 10, 100, 1000)
DEFAULT_BATCH_SIZE = 10

LAUNCH_SPECS: dict[str, str] = {
    "fetch": "fetch /delay/100-1200 x{n}",
    "read": "read x{n}",
    "sleep": "sleep 1 x{n}",
    "thread": "thread 1 x{n}",
    "cpu": "cpu 2000000 x{n}",
    "fail": "fail x{n}",
    # One task whatever the batch size: blocking the loop N times would freeze it N times over.
    "block": "block 1.5",
}


def launch_spec(kind: str, batch_size: int) -> str:
    return LAUNCH_SPECS[kind].format(n=batch_size)


def next_batch_size(current: int, step: int) -> int:
    """The next size in BATCH_SIZES up (step=1) or down (step=-1), stopping at the ends."""
    sizes = BATCH_SIZES
    if current not in sizes:
        return DEFAULT_BATCH_SIZE
    index = max(0, min(len(sizes) - 1, sizes.index(current) + step))
    return sizes[index]
