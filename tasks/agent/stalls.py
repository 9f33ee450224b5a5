"""Lag probes and stall sampling: how late each loop runs, and what holds it when it is late.

The sender's thread posts a probe to each running loop (``post_probe``); when the probe runs
it records its lateness as a lag sample, and a spike of 100 ms or more is blamed on the slow
step that caused it. While a probe is late the thread samples the loop thread's stack
(``sample_stalls``), so a loop blocked for seconds is blamed on a line while it is blocked.
"""

from __future__ import annotations

from types import CodeType, FrameType

from loopscope.tasks.agent.places import is_library_file
from loopscope.tasks.agent.recorder import STALL_S, LoopState, Recorder, TaskRecord


def post_probe(recorder: Recorder, state: LoopState) -> None:
    """Post a probe to the loop; when it runs it records how late it was."""
    loop = state.ref()
    if loop is None or state.probe_t or not loop.is_running():
        return
    state.probe_t = sent = recorder.clock()

    def arrived() -> None:
        now = recorder.clock()
        state.probe_t = 0.0
        lag_ms = max(0.0, (now - sent) * 1000)
        if len(recorder.lag) == recorder.lag.maxlen:
            recorder.dropped["lag"] += 1
        recorder.lag.append([now, round(lag_ms, 3), state.id])
        if lag_ms >= recorder.slow_step_s * 1000:
            _spike(recorder, state, lag_ms, sent, now)

    try:
        loop.call_soon_threadsafe(arrived)
    except RuntimeError:  # closed meanwhile
        state.probe_t = 0.0


def _spike(recorder: Recorder, state: LoopState, lag_ms: float, since: float,
           now: float) -> None:
    task: TaskRecord | None = None
    line: tuple[CodeType, int] | None = None
    step_s = 0.0
    slow = state.last_slow
    if slow is not None and slow[3] >= since:
        task, step_s, line, _ = slow
    elif state.stall is not None:
        task, code, lineno = state.stall
        line = (code, lineno)
        step_s = lag_ms / 1000
    state.stall = None
    if len(recorder.spikes) == recorder.spikes.maxlen:
        recorder.dropped["spikes"] += 1
    recorder.spikes.append([now, round(lag_ms, 3), state.id, task, line, step_s])


def sample_stalls(recorder: Recorder, frames: dict[int, FrameType]) -> None:
    """For each loop stalled since its probe was posted, note the line that holds it."""
    now = recorder.clock()
    for state in recorder.loops:
        if not state.probe_t or now - state.probe_t < STALL_S:
            continue
        loop = state.ref()
        thread_id = getattr(loop, "_thread_id", None)
        frame = frames.get(thread_id) if thread_id is not None else None
        if frame is None:
            continue
        code, line = program_frame(frame)
        current = state.current
        state.stall = (current, code, line)
        # Only a step that itself has run this long is "holding the loop": a late probe
        # behind thousands of short steps blames none of them.
        if current is not None and now - state.step_t >= STALL_S:
            current.blocked = (code, line)


def prune_loops(recorder: Recorder, keep_closed: int = 20) -> None:
    """Forget loops that are gone or closed, beyond the newest ``keep_closed`` of them
    (a program that calls ``asyncio.run`` in a loop makes a new loop each time)."""
    ended = [
        state for state in recorder.loops
        if (loop := state.ref()) is None or loop.is_closed()
    ]
    for state in ended[: max(0, len(ended) - keep_closed)]:
        recorder.loops.remove(state)


def program_frame(frame: FrameType) -> tuple[CodeType, int]:
    """The innermost frame that is the program's own, not the standard library's."""
    innermost = frame
    while frame is not None:
        code = frame.f_code
        if not is_library_file(code.co_filename):
            return code, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return innermost.f_code, innermost.f_lineno
