"""The manager's temporary folder: generated sample files to read, scratch paths to write.

Made on first use, off the loop, and removed when the manager closes.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from concurrent.futures import Executor
from pathlib import Path

from loopscope.tasks.samples import write_samples


class ScratchSpace:
    def __init__(self, executor: Executor):
        self._executor = executor
        self._lock = asyncio.Lock()
        self.directory: Path | None = None
        self._samples: list[Path] | None = None
        self._sample_turn = itertools.count()
        self._scratch_turn = itertools.count(1)

    async def _ensure(self) -> list[Path]:
        async with self._lock:
            if self._samples is None:
                loop = asyncio.get_running_loop()
                self.directory = Path(
                    await loop.run_in_executor(self._executor, tempfile.mkdtemp, "", "loopscope-")
                )
                self._samples = await loop.run_in_executor(
                    self._executor, write_samples, self.directory / "samples"
                )
            return self._samples

    async def sample_file(self) -> Path:
        """One of the generated sample files, in turn."""
        samples = await self._ensure()
        return samples[next(self._sample_turn) % len(samples)]

    async def path(self, stem: str = "write", suffix: str = ".bin") -> Path:
        """A fresh path in the temporary folder."""
        await self._ensure()
        assert self.directory is not None
        return self.directory / f"{stem}-{next(self._scratch_turn)}{suffix}"

    async def remove(self) -> None:
        if self.directory is not None:
            await asyncio.to_thread(shutil.rmtree, self.directory, True)
            self.directory = None
