"""Files the app generates so ``read`` works with no path and no setup.

Text files of several sizes, made of numbered lines so ``mode=lines`` has something to count.
"""

from __future__ import annotations

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
    """Write one sample file per size into ``directory``; return their paths, smallest first."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for size in SAMPLE_SIZES:
        label = f"{size // 2**20}MiB" if size >= 2**20 else f"{size // 2**10}KiB"
        path = directory / f"sample-{label}.txt"
        if not path.exists() or path.stat().st_size != size:
            path.write_bytes(sample_text(size))
        paths.append(path)
    return paths
