"""The clean process's side: ``python -m loopscope.tasks.isolated_child`` runs one job.

The job arrives as one line of JSON on stdin; events and the result go out on stdout (see
tasks/protocol.py); anything else the job prints goes to stderr. Jobs:

* ``lane``: one lane of the strategy race (tasks/race_lanes.py);
* ``replay``: what ``loopscope run SPECS --sequential`` does: the batch concurrently, then
  the same specs one after another, in a TaskManager of its own, streaming the replay's
  tasks as they move;
* ``server``: the demo server, until stdin closes (so the race's requests are answered by
  a process that neither the screen nor the lane being timed slows down).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from loopscope.tasks.protocol import emit

POLL_S = 0.05
"""How often the replay job looks for changed tasks to announce (a screen's pace, not more)."""


def main() -> int:
    job = json.loads(sys.stdin.readline())
    sys.stdout = sys.stderr  # a stray print must not corrupt the event stream
    try:
        if job["job"] == "lane":
            from loopscope.tasks.race_lanes import run_lane

            wall = run_lane(job["strategy"], job["workload"], job["argument"], job["count"],
                            job["processes"])
            emit("result", wall_s=wall)
        elif job["job"] == "replay":
            asyncio.run(replay(job))
        elif job["job"] == "server":
            asyncio.run(serve())
        else:
            emit("error", message=f"unknown job {job['job']!r}")
            return 2
    except Exception as error:
        emit("error", message=f"{type(error).__name__}: {error}")
        return 1
    return 0


async def serve() -> None:
    from loopscope.tasks.demo_server import DemoServer

    loop = asyncio.get_running_loop()
    async with DemoServer() as server:
        emit("result", url=server.url)
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


async def replay(job: dict[str, Any]) -> None:
    from loopscope.tasks.gc_tuning import tune_garbage_collector
    from loopscope.tasks.kinds.loader import load_kinds_files
    from loopscope.tasks.manager import TaskManager
    from loopscope.tasks.options import EngineOptions

    load_kinds_files(job.get("kinds", []))  # the user's kinds the batch uses
    tune_garbage_collector()  # as `loopscope run` does: the same measurement, the same process
    async with TaskManager(EngineOptions(**job["engine"])) as manager:
        emit("timing", on=True)  # the watching screen keeps quiet until both walls are taken
        batch = manager.launch(job["specs"])
        await batch.wait()
        replay = manager.replay_sequential(batch)
        emit("launch", at=replay.created)
        announcer = Announcer(manager, replay.id)
        task = asyncio.get_running_loop().create_task(announcer.run())
        await replay.wait()
        emit("timing", on=False)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        announcer.flush()  # the last ones
        now = manager.clock()
        timing = batch.timing(now)
        emit("result", wall_s=timing.wall_s, estimate_s=timing.sequential_estimate_s,
             sequential_s=replay.timing(now).wall_s,
             counts={state.value: n for state, n in replay.counts.items()})


class Announcer:
    """Streams one batch's tasks as they move, read from the ledger at a screen's pace."""

    def __init__(self, manager: Any, batch_id: int) -> None:
        self.manager = manager
        self.batch_id = batch_id
        self.sent: dict[int, str] = {}
        self.version = 0

    async def run(self) -> None:
        while True:
            self.flush()
            await asyncio.sleep(POLL_S)

    def flush(self) -> None:
        """Emit what changed in the batch since the last flush."""
        manager, sent = self.manager, self.sent
        self.version, ids = manager.changes_since(self.version)
        for record in sorted(filter(None, map(manager.get, ids)), key=lambda r: r.id):
            if record.batch_id != self.batch_id:
                continue
            last = sent.get(record.id)
            if last is None:
                emit("new", job=record.id, kind=record.kind, target=record.target,
                     at=record.created)
            if record.started is not None and last in (None, "pending"):
                emit("start", job=record.id, at=record.started)
            if record.state.finished and last != "finished":
                emit("end", job=record.id, at=record.finished or time.perf_counter(),
                     state=record.state.value, result=record.result, error=record.error)
                sent[record.id] = "finished"
            else:
                sent[record.id] = "running" if record.started is not None else "pending"


if __name__ == "__main__":
    raise SystemExit(main())
