"""loopscope: a terminal dashboard that makes Python concurrency visible.

The distribution installs one package, ``loopscope``. Its three layers live at the top of the
repository (``tasks/``, ``widgets/``, ``tui/``) and are mapped under this name by setuptools'
``package-dir`` (see pyproject.toml), so they import as ``loopscope.tasks``,
``loopscope.widgets`` and ``loopscope.tui`` and never collide with a user's own ``tasks.py``.

This module imports nothing heavy: ``import loopscope`` is cheap, and the engine's process
workers import ``loopscope.tasks.workers`` without pulling in aiohttp or textual.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loopscope")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
