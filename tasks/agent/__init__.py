"""Watch a user's own asyncio program: the agent inside it, and the stream out of it.

Inside the watched process (no screen code, standard library only):

* ``recorder``  hooks every event loop and records tasks, steps, lag, executor jobs, warnings;
* ``sender``    a daemon thread that turns the records into batches and writes them out;
* ``runner``    ``python -m loopscope.agent [--connect|--listen ADDR] script.py|-m module``,
  and ``install()``, the one-line opt-in for a long-running program.

On the viewer's side (the dashboard, ``loopscope watch --json``, ``loopscope attach``):

* ``model``     the typed records a screen shows (``TaskSnapshot``, ``ExecutorJob``...);
* ``wire``      the versioned, length-prefixed framing and the row formats (protocol doc);
* ``store``     ``WatchState``: batches applied, and the headless JSON report;
* ``viewer``    asyncio connection helpers (``AgentListener``, ``connect``);
* ``headless``  ``loopscope watch --json``: run a program under the agent and report.

This ``__init__`` imports nothing, so the agent adds almost no start-up time to a program.
"""
