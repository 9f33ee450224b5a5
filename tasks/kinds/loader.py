"""Load a user's kinds file (``loopscope --kinds my_kinds.py``).

The file is imported by its path under a module name of its own (``loopscope_user_kinds_1_…``),
never through ``sys.path``, so it cannot shadow or be shadowed by another module. Whatever goes
wrong (a syntax error, an exception at import, a taken kind name) becomes one
:class:`~loopscope.tasks.errors.KindFileError` line naming the file and the line; the kinds it
had registered before failing are taken back out.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import itertools
import re
import sys
import traceback
from pathlib import Path
from typing import Any

from loopscope.tasks.errors import KindError, KindFileError
from loopscope.tasks.failures import one_line
from loopscope.tasks.kinds import registry
from loopscope.tasks.kinds.kind import Kind
from loopscope.tasks.secrets import mask_text

_serial = itertools.count(1)


def load_kinds_file(path: str | Path) -> list[Kind[Any]]:
    """Import ``path`` and return the kinds it registered. Raises KindFileError."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise KindFileError(f"kinds file {file}: no such file")
    stem = re.sub(r"\W", "_", file.stem)
    module_name = f"loopscope_user_kinds_{next(_serial)}_{stem}"
    loader = importlib.machinery.SourceFileLoader(module_name, str(file))
    spec = importlib.util.spec_from_file_location(module_name, file, loader=loader)
    if spec is None:
        raise KindFileError(f"kinds file {file}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    before = set(registry.names())
    with registry.restoring_on_error():
        sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
        try:
            loader.exec_module(module)
        except BaseException as error:
            sys.modules.pop(module_name, None)
            if isinstance(error, KeyboardInterrupt):
                raise
            raise KindFileError(_explain(file, error)) from None
    added = [kind for kind in registry.all_kinds() if kind.name not in before]
    if not added:
        raise KindFileError(f"kinds file {file}: declares no kind (decorate an async def with "
                            "@kind(\"name\", help=...))")
    return added


def load_kinds_files(paths: list[str] | tuple[str, ...]) -> list[Kind[Any]]:
    """Every kind of every file, in order; the first failure raises KindFileError."""
    return [kind for path in paths for kind in load_kinds_file(path)]


def _explain(file: Path, error: BaseException) -> str:
    """``kinds file F, line N: what went wrong`` in one line, secrets masked."""
    line: int | None = None
    if isinstance(error, SyntaxError) and error.filename == str(file):
        line = error.lineno
    else:
        for frame in traceback.extract_tb(error.__traceback__):
            if frame.filename == str(file):
                line = frame.lineno
    where = f"kinds file {file}" + (f", line {line}" if line else "")
    if isinstance(error, KindError):
        return f"{where}: {one_line(str(error))}"
    if isinstance(error, SystemExit):
        return f"{where}: the file called exit() while loading"
    detail = error.msg if isinstance(error, SyntaxError) else one_line(mask_text(str(error)))
    return f"{where}: {type(error).__name__}" + (f": {detail}" if detail else "")
