"""The headless report: every task of a batch and its gain, as a dict (for JSON) or a table.

Figures are labelled: ``sequential_estimate_s`` and ``speedup`` are ESTIMATES from summed task
durations; ``measured_sequential_s`` and ``measured_speedup`` come from a real sequential replay.
"""

from __future__ import annotations

from typing import Any

from loopscope.tasks.batch import Batch
from loopscope.tasks.lag import LagStats
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.safe_text import printable
from loopscope.tasks.timing import Timing, union_length
from loopscope.tasks.units import human_bytes, human_seconds


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def task_row(record: TaskRecord, now: float) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "target": record.target,
        "state": record.state.value,
        "wait_s": _round(record.wait_s(now)),
        "run_s": _round(record.run_s(now)),
        "bytes": record.bytes_done,
        "result": record.result or None,
        "error": record.error,
    }


def build_report(
    batch: Batch, now: float, lag: LagStats, replay: Batch | None = None
) -> dict[str, Any]:
    """The JSON report of ``loopscope run``: summary keys first, then the tasks."""
    timing = batch.timing(now)
    return {
        "spec": batch.text,
        "wall_s": _round(timing.wall_s),
        "sequential_estimate_s": _round(timing.sequential_estimate_s),
        "gained_s": _round(timing.gained_s),
        "speedup": _round(timing.speedup, 2),
        "measured_sequential_s": _round(timing.measured_sequential_s),
        "measured_speedup": _round(timing.measured_speedup, 2),
        "counts": {state.value: batch.counts[state] for state in TaskState},
        "lag": lag.as_dict(),
        "tasks": [task_row(record, now) for record in batch.records],
        "replay_tasks": None if replay is None else [task_row(r, now) for r in replay.records],
    }


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_text(report: dict[str, Any]) -> str:
    """A readable table of the tasks, then the summary with estimates labelled as such.

    Targets and outcomes are escaped again here (records already hold escaped text; this
    keeps a report dict built by other code from writing to the terminal). Characters the
    output cannot encode are the printer's job (``safe_text.fit_encoding``)."""
    lines = [
        f"{'id':>6}  {'kind':<6} {'state':<9} {'wait':>9} {'run':>9} {'bytes':>10}  "
        f"{'target':<28} result / error"
    ]
    for task in report["tasks"]:
        outcome = printable(task["error"] or task["result"] or "")
        lines.append(
            f"{task['id']:>6}  {task['kind']:<6} {task['state']:<9} "
            f"{human_seconds(task['wait_s']):>9} {human_seconds(task['run_s']):>9} "
            f"{human_bytes(task['bytes']) if task['bytes'] else '':>10}  "
            f"{_cut(printable(task['target']), 28):<28} {_cut(outcome, 60)}"
        )
    lines.append("")
    lines.extend(summary_lines(report))
    return "\n".join(lines)


def summary_lines(report: dict[str, Any]) -> list[str]:
    counts = "  ".join(f"{state} {n}" for state, n in report["counts"].items())
    timing = Timing(
        report["wall_s"] or 0.0,
        report["sequential_estimate_s"] or 0.0,
        report["measured_sequential_s"],
    )
    lines = [
        f"tasks               {len(report['tasks'])}   ({counts})",
        f"wall                {human_seconds(timing.wall_s)}   from the launch to the last finish",
        f"sequential (est.)   {human_seconds(timing.sequential_estimate_s)}"
        "   ESTIMATE: the sum of task run times",
    ]
    if timing.speedup is not None:
        lines.append(
            f"gained (est.)       {human_seconds(max(0.0, timing.gained_s))}"
            f"   speedup ~{timing.speedup:.1f}x (estimate; lies when tasks contend for CPU)"
        )
    else:
        lines.append("gained (est.)       –   speedup n/a: no task ran, nothing to compare")
    if timing.measured_speedup is not None and timing.measured_sequential_s is not None:
        lines.append(
            f"sequential (meas.)  {human_seconds(timing.measured_sequential_s)}"
            f"   MEASURED by a replay one after another: speedup {timing.measured_speedup:.1f}x"
        )
    elif "scenario" not in report:
        lines.append("sequential (meas.)  –   run with --sequential to measure it")
    lag = report["lag"]
    lines.append(
        f"event-loop lag      p50 {lag['p50_ms']:.1f} ms  p99 {lag['p99_ms']:.1f} ms"
        f"  max {lag['max_ms']:.1f} ms"
    )
    return lines


def build_scenario_report(
    name: str,
    batches: list[Batch],
    now: float,
    lag: LagStats,
    log: list[str],
    data: dict[str, Any],
) -> dict[str, Any]:
    """The same report as ``build_report``, over every batch a scenario ran, plus what the
    scenario itself found (its log and its figures, e.g. the race's measured times).

    Wall is the time during which any of its concurrent batches ran; sequential batches (a
    replay, a one-by-one round) are the yardstick and are left out of the estimate.
    """
    concurrent = [b for b in batches if not b.sequential]
    spans = [span for b in concurrent if (span := b.span(now)) is not None]
    estimate = sum(b.timing(now).sequential_estimate_s for b in concurrent)
    timing = Timing(union_length(spans), estimate)
    records = [record for batch in batches for record in batch.records]
    counts = {state.value: sum(b.counts[state] for b in batches) for state in TaskState}
    return {
        "scenario": name,
        "wall_s": _round(timing.wall_s),
        "sequential_estimate_s": _round(timing.sequential_estimate_s),
        "gained_s": _round(timing.gained_s),
        "speedup": _round(timing.speedup, 2),
        "measured_sequential_s": None,
        "measured_speedup": None,
        "counts": counts,
        "lag": lag.as_dict(),
        "tasks": [task_row(record, now) for record in records],
        "log": [printable(line) for line in log],
        "results": {key: value.as_json() if hasattr(value, "as_json") else value
                    for key, value in data.items()},  # typed results (the race's) as JSON
    }
