"""``loopscope.agent``: watch this program's event loops from ``loopscope attach``.

One line in a long-running program::

    import loopscope.agent; loopscope.agent.install()

or run any program under the agent: ``python -m loopscope.agent script.py [ARGS]``. The agent
lives in ``loopscope.tasks.agent``; this name is the short, documented door to it.
"""

from __future__ import annotations

from loopscope.tasks.agent.runner import Agent, install

__all__ = ["Agent", "install"]
