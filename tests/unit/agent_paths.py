"""The agent's two hot paths, for tests that must pass on both: the C one (``_hotpath.c``,
when it was built) and the pure-Python fallback (``LOOPSCOPE_PURE_PYTHON=1``)."""

from __future__ import annotations

import pytest

from loopscope.tasks.agent import recorder

C_BUILT = recorder._hotpath is not None  # noqa: SLF001 - which path exists is the point

PATHS = [
    pytest.param(True, id="c-hotpath",
                 marks=pytest.mark.skipif(not C_BUILT, reason="the C hot path is not built")),
    pytest.param(False, id="python-hooks"),
]
"""``accelerated`` values: a Recorder's argument, or (``pure_python_env``) a subprocess's."""


def pure_python_env(accelerated: bool) -> dict[str, str]:
    """The environment a watched subprocess gets for that path."""
    return {} if accelerated else {recorder.PURE_PYTHON_ENV: "1"}
