"""The engine can be used from a plain script: importing it pulls in no screen code."""

from __future__ import annotations

import subprocess
import sys

ENGINE_MODULES = [
    "tasks.manager", "tasks.headless", "tasks.report", "tasks.demo_server", "tasks.spec",
    "tasks.lag", "tasks.process_stats", "tasks.kinds", "tasks.workers",
]


def test_the_engine_imports_no_textual_rich_widgets_or_tui() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in ENGINE_MODULES)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual', 'rich', 'widgets', 'tui'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_process_workers_import_only_the_standard_library() -> None:
    code = (
        "import sys, tasks.workers; print(','.join(m for m in sys.modules"
        " if m.startswith(('aiohttp', 'aiofiles', 'psutil'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
