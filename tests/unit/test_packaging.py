"""One installed name: the wheel holds only ``loopscope/``, and a user's own ``tasks.py``,
``widgets/`` and ``tui.py`` neither shadow loopscope nor are shadowed by it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import loopscope

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Build from a copy: an in-tree build leaves build/ behind, whose stale files would end
    # up in the next wheel.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("loopscope", "tasks", "widgets", "tui"):
        shutil.copytree(
            ROOT / name, source / name, symlinks=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    (built,) = out.glob("loopscope-*.whl")
    return built


def test_the_wheel_holds_only_the_loopscope_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "loopscope", f"loopscope-{loopscope.__version__}.dist-info"
    }
    for module in ("tasks/manager.py", "widgets/task_list.py", "tui/cli.py", "tui/loopscope.tcss"):
        assert f"loopscope/{module}" in names


def test_a_users_tasks_widgets_and_tui_do_not_collide(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    project = tmp_path / "project"
    (project / "widgets").mkdir(parents=True)
    (project / "tasks.py").write_text("WHOSE = 'the user'\n")
    (project / "widgets" / "__init__.py").write_text("WHOSE = 'the user'\n")
    (project / "tui.py").write_text("WHOSE = 'the user'\n")
    # The unpacked wheel comes before the development install; the user's directory comes
    # first of all (``python -m`` and ``-c`` put the working directory at sys.path[0]).
    env = {**os.environ, "PYTHONPATH": str(site)}

    run = subprocess.run(
        [sys.executable, "-m", "loopscope", "run", "sleep 0.1 x3", "--json"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["counts"]["done"] == 3

    mine = subprocess.run(
        [sys.executable, "-c",
         "import tasks, widgets, tui, loopscope.tasks.manager as m; "
         "print(tasks.WHOSE, widgets.WHOSE, tui.WHOSE); print(m.__file__)"],
        cwd=project, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    whose, where = mine.stdout.splitlines()
    assert whose == "the user the user the user"
    assert Path(where).is_relative_to(site)
