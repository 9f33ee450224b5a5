"""The dashboard's border titles: what the task list, the timeline and the gain panel show.

A title is the one line that says what a panel holds right now (how many tasks, the filter,
the sort, the search; which batches the timeline draws). Plain functions of what the widgets
hold, kept apart from the screen so they read (and can be tested) without one. The screen
sets a title only when it changed: every assignment repaints the widget.
"""

from __future__ import annotations

from loopscope.tasks.batch import Batch
from loopscope.widgets.task_list import TaskList
from loopscope.widgets.timeline import Timeline


def task_list_title(task_list: TaskList, total: int) -> str:
    """"Tasks N", or the filter's count of ``total``; then the sort and the search."""
    shown = task_list.row_count
    title = (
        f"Tasks {total:,}"
        if task_list.state_filter is None
        else f"Tasks: {task_list.state_filter.value} {shown:,} of {total:,}"
    )
    if task_list.sort_column != "id" or task_list.sort_reverse:
        title += f" · by {task_list.sort_column} {'▼' if task_list.sort_reverse else '▲'}"
    if task_list.search_text:
        title += f" · /{task_list.search_text}"
    return title


def timeline_title(timeline: Timeline) -> str:
    """The batch (or the range of batches) the timeline draws."""
    batch = timeline.newest
    if batch is None:
        return "Timeline"
    if len(timeline.batches) > 1:
        return f"Timeline: batches #{timeline.batches[0].id}–#{batch.id}"
    # the border cuts the title with an ellipsis where the width ends, not before
    return f"Timeline: batch #{batch.id} {batch.label or batch.text}"


def gain_title(batch: Batch | None) -> str:
    """The batch the gain panel's figures are about."""
    return "Gain" if batch is None else f"Gain: batch #{batch.id}"
