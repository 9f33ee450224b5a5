"""What the dashboard shows about a watched program: small typed records, decoded from the wire.

The agent (``loopscope.tasks.agent.recorder``) keeps its own mutable bookkeeping inside the
watched program and sends rows (see ``wire``); the dashboard and the headless report turn the
rows back into these frozen dataclasses (``wire.decode_*``) and keep them in a
``store.WatchState``. Nothing here imports asyncio's internals or any screen code.

Times are seconds on the agent's clock (``time.perf_counter`` in the watched process), so
differences between them are durations; ``WatchState.agent_time`` is the agent's clock at
its latest batch, the "now" to measure a live task's age against.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class TaskState(enum.Enum):
    """Where a watched task is in its life (tokio-console's states plus asyncio's ends)."""

    PENDING = "pending"
    """Created; its first step has not run yet."""
    READY = "ready"
    """Woken up (what it awaited is done, or it yielded): waiting for the loop to run it."""
    RUNNING = "running"
    """Its step is running on the loop right now."""
    SUSPENDED = "suspended"
    """Parked on an await; ``await_chain`` says where."""
    DONE = "done"
    """Returned; ``result`` holds a short summary."""
    EXCEPTION = "exception"
    """Raised; ``error`` holds the type, message and traceback."""
    CANCELLED = "cancelled"
    """Ended by cancellation."""

    __hash__ = object.__hash__

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES

    def __str__(self) -> str:
        return self.value


FINISHED_STATES = frozenset({TaskState.DONE, TaskState.EXCEPTION, TaskState.CANCELLED})


@dataclass(frozen=True, slots=True)
class Frame:
    """One place in the program's source: a function, its file and a line."""

    function: str
    file: str
    line: int
    library: bool = False
    """The standard library's or an installed package's code, not the program's own."""

    @property
    def where(self) -> str:
        """``file:line``, what a user pastes into an editor."""
        return f"{self.file}:{self.line}"

    def __str__(self) -> str:
        return f"{self.function} at {self.where}"


@dataclass(frozen=True, slots=True)
class TaskError:
    """How a task failed: what a failed row and its detail view show."""

    type: str
    """The exception's class name, e.g. ``ValueError`` (qualified when not a builtin)."""
    message: str
    traceback: str
    """The formatted traceback, as Python would print it."""


@dataclass(frozen=True, slots=True)
class TaskSnapshot:
    """One task of the watched program, as of the batch that last changed it."""

    id: int
    """The agent's number for the task, unique for the agent's life (never Python's ``id``)."""
    name: str
    """``Task.get_name()``: ``Task-7`` unless the program named it."""
    coro: str
    """The coroutine's qualified name, e.g. ``Crawler.worker``."""
    loop: int
    """The agent's number for the loop that runs the task (see ``LoopInfo``)."""
    parent: int | None
    """The task that was running when this one was created (None: created outside a task)."""
    created_at: Frame | None
    """The line that created it: the first frame outside asyncio's own modules."""
    state: TaskState
    created_t: float
    ended_t: float | None
    busy_s: float
    """Time in its own steps on the loop."""
    scheduled_s: float
    """Time ready but waiting for the loop (a lower bound: measured from the moment the loop
    began the iteration that ran it, or from when the task yielded)."""
    idle_s: float
    """The rest of its life: suspended on awaits."""
    steps: int
    """How many times the loop ran it (tokio-console's polls)."""
    longest_step_s: float
    longest_step_line: Frame | None
    """Where the longest step ended: the line the task ran to before it yielded."""
    blocked_at: Frame | None
    """Where a step was seen holding the loop for long (sampled while it ran), if ever."""
    await_chain: tuple[Frame, ...]
    """Where it is suspended, outermost coroutine first, down to the innermost frame. For a
    finished task: where it was last seen suspended (e.g. where it waited when cancelled),
    when the agent saw it suspended at all."""
    awaiting: str | None
    """The innermost awaited object, e.g. ``Future pending`` or ``Task worker-3``."""
    awaiting_task: int | None
    """The id of the task it awaits, when the innermost awaited object is a watched task."""
    suspended_t: float | None
    """Since when it has been suspended on the same line (None when not suspended)."""
    result: str | None
    """A short ``repr`` of what it returned (done tasks)."""
    error: TaskError | None

    @property
    def where(self) -> Frame | None:
        """The innermost line of the program's own code where the task is parked (the
        innermost frame of all when every frame is a library's)."""
        for frame in reversed(self.await_chain):
            if not frame.library:
                return frame
        return self.await_chain[-1] if self.await_chain else None


class JobState(enum.Enum):
    """An executor job's life (``loop.run_in_executor``)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"

    __hash__ = object.__hash__

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ExecutorJob:
    """One ``run_in_executor`` call, shown as a row beside the tasks."""

    id: int
    function: str
    """The callable's qualified name."""
    task: int | None
    """The task that submitted it."""
    loop: int
    executor: str
    """``default`` or the executor's class name."""
    state: JobState
    submitted_t: float
    started_t: float | None
    ended_t: float | None
    error: str | None
    """``Type: message`` when it raised."""


@dataclass(frozen=True, slots=True)
class LagSample:
    """How late the loop ran a probe scheduled from the agent's thread."""

    at: float
    lag_ms: float
    loop: int


@dataclass(frozen=True, slots=True)
class LagSpike:
    """A stretch in which the loop was held, blamed on the step that held it."""

    at: float
    lag_ms: float
    loop: int
    task: int | None
    """The task whose step held the loop (None: a plain callback or unknown)."""
    task_name: str | None
    line: Frame | None
    """The line the step was seen at while it held the loop (or the line it ran to)."""
    step_s: float


class WarningKind(enum.Enum):
    SLOW_STEP = "slow-step"
    """A step held the loop for 100 ms or more."""
    STUCK = "stuck"
    """A task has been suspended on the same line for a long time."""
    NEVER_RETRIEVED = "never-retrieved"
    """A task's or future's exception was never retrieved."""
    DESTROYED_PENDING = "destroyed-pending"
    """A task was garbage-collected while still pending."""
    LOOP_ERROR = "loop-error"
    """Anything else the loop's exception handler was given."""

    __hash__ = object.__hash__

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class AgentWarning:
    """Something the agent noticed that a user should look at."""

    kind: WarningKind
    at: float
    task: int | None
    line: Frame | None
    message: str


@dataclass(frozen=True, slots=True)
class LoopInfo:
    """One event loop of the watched program (a program may run several, in threads)."""

    id: int
    thread: str
    """The name of the thread that runs it."""
    running: bool
    closed: bool
    tasks: int
    """Tasks alive on it now."""
    step_s: float = 0.0
    """How long the callback running on it now has held it (0.0 when idle): a loop blocked
    for 10 s shows here while it is blocked, before any lag sample can arrive."""
    step_task: int | None = None
    """The task whose step that is (None: a plain callback, or idle)."""
    step_line: Frame | None = None
    """Where the thread that runs the loop was seen while the step held it."""


class ProgramState(enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    EXITED = "exited"

    __hash__ = object.__hash__

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ProgramStatus:
    """The watched program as a whole."""

    state: ProgramState
    pid: int
    argv: tuple[str, ...]
    python: str
    exit_code: int | None = None
    """Set once it exited (by the agent when it saw ``SystemExit``, else by the supervisor)."""
    error: str | None = None
    """``Type: message`` of an exception that ended the program (e.g. raised at import)."""


@dataclass(frozen=True, slots=True)
class Counts:
    """Totals since the agent started, kept even when old rows are dropped."""

    created: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    """Finished tasks per end state (``done``/``exception``/``cancelled``)."""
    dropped: dict[str, int] = field(default_factory=dict)
    """What the agent dropped to stay bounded: ``finished_tasks`` (retention), ``lag``,
    ``warnings``, ``jobs`` (samples not sent because the reader was slow), ``batches``."""
