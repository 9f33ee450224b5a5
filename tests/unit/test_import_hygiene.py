"""The engine can be used from a plain script: importing it pulls in no screen code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ENGINE_MODULES = [
    "manager", "headless", "report", "demo_server", "spec",
    "lag", "process_stats", "kinds", "workers",
]


def test_the_engine_imports_no_textual_rich_widgets_or_tui() -> None:
    code = (
        "import sys\n"
        + "".join(f"import loopscope.tasks.{name}\n" for name in ENGINE_MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'rich'}"
        " or m.startswith(('loopscope.widgets', 'loopscope.tui')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_process_workers_import_only_the_standard_library() -> None:
    code = (
        "import sys, loopscope.tasks.workers; print(','.join(m for m in sys.modules"
        " if m.startswith(('aiohttp', 'aiofiles', 'psutil'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_module_imports_the_layers_by_their_bare_folder_names() -> None:
    """Every import goes through ``loopscope.``: a bare ``tasks`` would be the user's module."""
    root = Path(__file__).resolve().parents[2]
    bare = re.compile(r"^\s*(from|import) (tasks|widgets|tui)\b", re.MULTILINE)
    offenders = [
        str(path.relative_to(root))
        for folder in ("tasks", "widgets", "tui", "tests", "bench", "scripts", "examples")
        for path in (root / folder).rglob("*.py")
        if bare.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
