"""Files the app generates so ``read`` works with no path and no setup.

Text files of several sizes, made of numbered lines so ``mode=lines`` has something to count.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

SAMPLE_SIZES = (4 * 2**10, 64 * 2**10, 1 * 2**20, 8 * 2**20)


def sample_text(size: int) -> bytes:
    line = b"%08d the quick brown fox jumps over the lazy event loop\n"
    out = bytearray()
    number = 0
    while len(out) < size:
        out += line % number
        number += 1
    return bytes(out[:size])


def write_samples(directory: Path) -> list[Path]:
    """Write one sample file per size into ``directory``; return their paths, smallest first.

    Each file is written under a temporary name and renamed when complete, so a failure
    (a full disk) leaves no partial sample behind, only the complete ones.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for size in SAMPLE_SIZES:
        label = f"{size // 2**20}MiB" if size >= 2**20 else f"{size // 2**10}KiB"
        path = directory / f"sample-{label}.txt"
        if not path.exists() or path.stat().st_size != size:
            partial = path.with_suffix(".part")
            try:
                partial.write_bytes(sample_text(size))
                os.replace(partial, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    partial.unlink()
                raise
        paths.append(path)
    return paths
