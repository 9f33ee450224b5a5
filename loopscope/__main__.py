"""``python -m loopscope``: the same as the ``loopscope`` command."""

from __future__ import annotations

from loopscope.tui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
