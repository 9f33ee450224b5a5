"""loopscope's engine: task specs, the TaskManager, task kinds, timing, monitors, demo server.

It imports no screen code, so it can be used from a plain script::

    from loopscope.tasks.manager import TaskManager

    async with TaskManager() as manager:
        batch = manager.launch("fetch /delay/200 x100")
        await batch.wait()
        print(batch.timing().speedup)

This package's ``__init__`` imports nothing on purpose: process-pool workers import
``loopscope.tasks.workers`` and should not pay for aiohttp on start-up.
"""
