"""``python -m loopscope.agent [--connect ADDR | --listen ADDR] script.py|-m module [ARGS]``."""

from __future__ import annotations

from loopscope.tasks.agent.runner import main

if __name__ == "__main__":
    raise SystemExit(main())
