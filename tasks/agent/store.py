"""What a viewer knows about a watched program: the batches of the stream, applied.

``WatchState.apply(message)`` takes each decoded frame (``wire.read_message``) and keeps the
latest snapshot of every task, the executor jobs, bounded histories of lag samples, spikes
and warnings, the loops, the program's status and the agent's counts. A screen polls it on a
timer and redraws what changed: ``version`` rises on every applied batch and each task's
``changed`` entry says in which version it last changed. ``report()`` is the headless JSON.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict
from typing import Any

from loopscope.tasks.agent import wire
from loopscope.tasks.agent.model import (
    AgentWarning,
    Counts,
    ExecutorJob,
    Frame,
    LagSample,
    LagSpike,
    LoopInfo,
    ProgramState,
    ProgramStatus,
    TaskSnapshot,
    TaskState,
)


class WatchState:
    """The viewer's copy of a watched program, fed by ``apply``."""

    def __init__(self, *, lag_window: int = 2400, spike_window: int = 200,
                 warning_window: int = 500, job_window: int = 2000) -> None:
        self.tasks: dict[int, TaskSnapshot] = {}
        self.changed: dict[int, int] = {}
        """Task id -> the ``version`` in which it last changed."""
        self.jobs: dict[int, ExecutorJob] = {}
        self._job_window = job_window
        self.lag: deque[LagSample] = deque(maxlen=lag_window)
        self.spikes: deque[LagSpike] = deque(maxlen=spike_window)
        self.warnings: deque[AgentWarning] = deque(maxlen=warning_window)
        self.loops: dict[int, LoopInfo] = {}
        self.status: ProgramStatus | None = None
        self.counts = Counts()
        self.hello: dict[str, Any] = {}
        self.agent_time = 0.0
        """The agent's clock at its latest batch."""
        self.batches = 0
        self.final = False
        """True once the agent sent its last batch (the program is exiting)."""
        self.version = 0

    def apply(self, message: dict[str, Any]) -> None:
        """Apply one message from the agent (unknown kinds are ignored: newer agents)."""
        kind = message.get("kind")
        if kind == "hello":
            self.hello = message
            return
        if kind != "batch":
            return
        self.version += 1
        version = self.version
        self.batches += 1
        self.agent_time = message.get("t", self.agent_time)
        if message.get("full"):
            self.tasks.clear()
        for row in message.get("tasks", ()):
            task = wire.decode_task(row)
            self.tasks[task.id] = task
            self.changed[task.id] = version
        for task_id in message.get("gone", ()):
            self.tasks.pop(task_id, None)
            self.changed.pop(task_id, None)
        for row in message.get("jobs", ()):
            job = wire.decode_job(row)
            self.jobs[job.id] = job
        while len(self.jobs) > self._job_window:
            del self.jobs[next(iter(self.jobs))]
        self.lag.extend(wire.decode_lag(row) for row in message.get("lag", ()))
        self.spikes.extend(wire.decode_spike(row) for row in message.get("spikes", ()))
        self.warnings.extend(wire.decode_warning(row) for row in message.get("warnings", ()))
        for row in message.get("loops", ()):
            loop = wire.decode_loop(row)
            self.loops[loop.id] = loop
        if "status" in message:
            self.status = wire.decode_status(message["status"])
        if "counts" in message:
            self.counts = wire.decode_counts(message["counts"])
        if message.get("final"):
            self.final = True

    def children(self, task_id: int | None) -> list[TaskSnapshot]:
        """The tasks created by ``task_id`` (None: the roots), oldest first."""
        return [task for task in self.tasks.values() if task.parent == task_id]

    def by_state(self) -> dict[str, int]:
        counts = {state.value: 0 for state in TaskState}
        for task in self.tasks.values():
            counts[task.state.value] += 1
        return counts

    def mark_exited(self, exit_code: int | None, error: str | None = None) -> None:
        """The supervisor saw the process end: record it even if the agent could not."""
        old = self.status
        if old is not None and old.state is ProgramState.EXITED and old.exit_code is not None:
            return
        self.status = ProgramStatus(
            ProgramState.EXITED,
            old.pid if old else 0,
            old.argv if old else (),
            old.python if old else "",
            exit_code,
            (old.error if old and old.error else error),
        )
        self.version += 1

    def report(self) -> dict[str, Any]:
        """Everything known, as plain JSON data (the shape README documents)."""
        status = self.status
        return {
            "program": None if status is None else wire.status_row(status),
            "counts": {
                "created": self.counts.created,
                "finished": self.counts.finished,
                "kept": len(self.tasks),
                "by_state": self.by_state(),
                "dropped": self.counts.dropped,
            },
            "loops": [asdict(loop) for loop in self.loops.values()],
            "tasks": [_task_json(task) for task in self.tasks.values()],
            "jobs": [_plain(asdict(job)) for job in self.jobs.values()],
            "lag": _lag_summary(self.lag),
            "spikes": [_plain(asdict(spike)) for spike in self.spikes],
            "warnings": [_plain(asdict(warning)) for warning in self.warnings],
            "batches": self.batches,
        }


def _plain(value: Any) -> Any:
    """Enums to their values, tuples to lists, recursively."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "value") and not isinstance(value, int | float | str):
        return value.value
    return value


def _frame_json(frame: Frame | None) -> dict[str, Any] | None:
    if frame is None:
        return None
    return {"function": frame.function, "file": frame.file, "line": frame.line,
            "library": frame.library}


def _task_json(task: TaskSnapshot) -> dict[str, Any]:
    # By hand, not dataclasses.asdict: a report can hold 10,000 tasks.
    error = task.error
    return {
        "id": task.id, "name": task.name, "coro": task.coro, "loop": task.loop,
        "parent": task.parent, "created_at": _frame_json(task.created_at),
        "state": task.state.value, "created_t": task.created_t, "ended_t": task.ended_t,
        "busy_s": task.busy_s, "scheduled_s": task.scheduled_s, "idle_s": task.idle_s,
        "steps": task.steps, "longest_step_s": task.longest_step_s,
        "longest_step_line": _frame_json(task.longest_step_line),
        "blocked_at": _frame_json(task.blocked_at),
        "await_chain": [_frame_json(frame) for frame in task.await_chain],
        "where": _frame_json(task.where), "awaiting": task.awaiting,
        "awaiting_task": task.awaiting_task, "suspended_t": task.suspended_t,
        "result": task.result,
        "error": None if error is None else {
            "type": error.type, "message": error.message, "traceback": error.traceback,
        },
    }


def _lag_summary(samples: deque[LagSample]) -> dict[str, Any]:
    values = sorted(sample.lag_ms for sample in samples)
    if not values:
        return {"samples": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}

    def rank(fraction: float) -> float:
        return round(values[min(len(values) - 1, round(fraction * (len(values) - 1)))], 3)

    return {"samples": len(values), "p50_ms": rank(0.5), "p99_ms": rank(0.99),
            "max_ms": round(values[-1], 3)}
