"""The manager's temporary folder: generated sample files to read, scratch paths to write.

One folder per manager, made on first use, off the loop, and removed when the manager closes.
If closing never gets that far (an error on the way out, a script that forgets ``aclose``),
a finalizer removes it when the interpreter exits, so nothing loopscope made stays behind.
A sample that fails to generate (a full disk) leaves no partial file, and the next task
tries again in the same folder rather than making another.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import weakref
from concurrent.futures import Executor
from pathlib import Path

from loopscope.tasks.samples import write_samples


class ScratchSpace:
    def __init__(self, executor: Executor):
        self._executor = executor
        self._lock = asyncio.Lock()
        self.directory: Path | None = None
        self._cleanup: weakref.finalize[..., ScratchSpace] | None = None
        self._samples: list[Path] | None = None
        self._sample_turn = itertools.count()
        self._scratch_turn = itertools.count(1)

    async def _folder(self) -> Path:
        """The one folder, made the first time it is needed (call with the lock held)."""
        if self.directory is None:
            loop = asyncio.get_running_loop()
            made = Path(
                await loop.run_in_executor(self._executor, tempfile.mkdtemp, "", "loopscope-")
            )
            self.directory = made
            self._cleanup = weakref.finalize(self, shutil.rmtree, made, True)
        return self.directory

    async def sample_file(self) -> Path:
        """One of the generated sample files, in turn."""
        async with self._lock:
            if self._samples is None:
                folder = await self._folder()
                loop = asyncio.get_running_loop()
                self._samples = await loop.run_in_executor(
                    self._executor, write_samples, folder / "samples"
                )
            samples = self._samples
        return samples[next(self._sample_turn) % len(samples)]

    async def path(self, stem: str = "write", suffix: str = ".bin") -> Path:
        """A fresh path in the temporary folder."""
        async with self._lock:
            folder = await self._folder()
        return folder / f"{stem}-{next(self._scratch_turn)}{suffix}"

    async def remove(self) -> None:
        """Remove the folder and everything in it (the exit finalizer is then not needed)."""
        if self.directory is not None:
            directory, self.directory = self.directory, None
            self._samples = None
            if self._cleanup is not None:
                self._cleanup.detach()
                self._cleanup = None
            await asyncio.to_thread(shutil.rmtree, directory, True)
