"""Without a C compiler, loopscope still installs and the agent still watches: the hot path
(``tasks/agent/_hotpath.c``) is an optional extension, and the Python hooks take over."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import asyncio
from loopscope.tasks.agent import recorder
assert recorder._hotpath is None, "the C hot path was built with no compiler?"
watching = recorder.Recorder()
watching.install()
async def main():
    await asyncio.gather(*(asyncio.sleep(0) for _ in range(10)))
asyncio.run(main())
print(watching.accelerated, watching.created, watching.ended["done"])
"""


def test_a_build_without_a_compiler_installs_the_python_hooks(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("loopscope", "tasks", "widgets", "tui"):
        shutil.copytree(ROOT / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    out = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300, env={**os.environ, "CC": "/bin/false"},
    )
    (wheel,) = out.glob("loopscope-*.whl")
    assert not [name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".so")]
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert run.returncode == 0, run.stderr
    # main, its ten sleeps, and asyncio.run's two shutdown tasks: all done
    assert run.stdout.split() == ["False", "13", "13"]
