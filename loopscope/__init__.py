"""loopscope: a terminal dashboard that makes Python concurrency visible.

The distribution installs one package, ``loopscope``. Its three layers live at the top of the
repository (``tasks/``, ``widgets/``, ``tui/``) and are mapped under this name by setuptools'
``package-dir`` (see pyproject.toml), so they import as ``loopscope.tasks``,
``loopscope.widgets`` and ``loopscope.tui`` and never collide with a user's own ``tasks.py``.

This module imports nothing heavy: ``import loopscope`` is cheap, and the engine's process
workers import ``loopscope.tasks.workers`` without pulling in aiohttp or textual.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``loopscope.__version__``, read from the installed metadata when first asked for:
    ``importlib.metadata`` pulls in email, zipfile, csv and pathlib, 5,000 objects that the
    garbage collector of every program watched by the agent would walk on each full
    collection, and 30 ms of its start-up."""
    if name != "__version__":
        raise AttributeError(f"module 'loopscope' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("loopscope")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
