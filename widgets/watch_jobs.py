"""The watched program's executor jobs (``loop.run_in_executor``), newest last.

Each line: the job, its state, how long it has waited for a worker or run, the task that
submitted it and the executor. Jobs come from the agent's batches; the panel redraws only when
a batch arrives.
"""

from __future__ import annotations

from rich.text import Text

from loopscope.tasks.agent.model import ExecutorJob, JobState
from loopscope.tasks.units import human_seconds
from loopscope.widgets.text_wrap import hanging, newest_that_fit
from loopscope.widgets.watch_panel import WatchPanel

JOB_STYLES = {
    JobState.QUEUED: "dim",
    JobState.RUNNING: "bold",
    JobState.DONE: "green",
    JobState.EXCEPTION: "bold red",
    JobState.CANCELLED: "yellow",
}


def job_text(job: ExecutorJob, now: float) -> Text:
    """``#3 read_file running 0.201 s · task #5 · default``."""
    text = Text()
    text.append(f"#{job.id} ", "dim")
    text.append(job.function, "bold")
    text.append(f" {job.state.value}", JOB_STYLES[job.state])
    if job.started_t is None:
        waited = (job.ended_t or now) - job.submitted_t
        text.append(f" waited {human_seconds(max(0.0, waited))}")
    else:
        ran = (job.ended_t or now) - job.started_t
        text.append(f" {human_seconds(max(0.0, ran))}")
    if job.error:
        text.append(f" {job.error}", "red")
    if job.task is not None:
        text.append(f" · task #{job.task}", "dim")
    text.append(f" · {job.executor}", "dim")
    return text


class WatchJobs(WatchPanel):
    """The newest executor jobs that fit, oldest at the top, each wrapped."""

    def render(self) -> Text:
        state = self.store.state
        width = self.content_size.width or self.size.width
        room = max(1, self.size.height)
        if not state.jobs:
            quiet = "no executor job" + ("" if self.ended else " yet")
            return Text("\n").join(hanging(
                Text(f"{quiet} (loop.run_in_executor, asyncio.to_thread)", style="dim"), width))
        jobs = list(state.jobs.values())[-room:]
        return Text("\n").join(newest_that_fit(
            [job_text(job, state.agent_time) for job in jobs], width, room))

    def sync(self) -> None:
        state = self.store.state
        if (state.version, self.ended) != self._version:
            self._version = (state.version, self.ended)
            jobs = state.jobs
            running = sum(1 for job in jobs.values() if job.state is JobState.RUNNING)
            self.border_title = f"Executor jobs {len(jobs):,}" + (
                f", {running} running" if running else "")
            self.refresh()
