"""The program's garbage collector, paused while the agent's thread builds what it sends.

A batch allocates hundreds of rows (lists, under the GIL the program needs). Each 700
allocations set off a young collection, there in the agent's thread, which moved the
program's young objects into an older generation ahead of their time and shifted every later
collection. With 100,000 short tasks that put the program's full collections where its
heap was largest: its 9 full collections took 206-282 ms under ``watch --json``, and 158-170
ms when no collection could start inside a batch (three runs each, a workload of about 0.95 s;
the whole workload 0.98-1.19 s against 0.93-0.95 s). The rows are freed
once the batch is encoded, so pausing costs the program nothing it would have collected.

The pause is global (CPython has one collector per interpreter): if the program turns its
collector off while a batch is being built (it can run only when the agent's thread yields
the GIL meanwhile), the end of the batch turns it back on. A batch lasts a few milliseconds.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block (one left on stays on after it)."""
    was_on = gc.isenabled()
    if was_on:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
