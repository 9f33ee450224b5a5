"""A finished task's detail says how it ended, then where it was last suspended, each under a
heading that says which it is.

Trial: ``loopscope watch examples/taskgroup_fail.py``, enter on the failed task: "Was waiting
at taskgroup_fail.py:21" sat just above "ValueError: checksum mismatch", and read as if the
exception came from the line it waited on (it was raised on the next line).
"""

from __future__ import annotations

import io

from rich.console import Console

from loopscope.tasks.agent.model import TaskError
from loopscope.tasks.watch.store import WatchStore
from loopscope.widgets.watch_detail import describe_task
from tests.watch_fake import at, batch, task

ERROR = TaskError("ConnectionError", "/broken: connection reset",
                  "Traceback (most recent call last):\n"
                  '  File "tiny_crawler.py", line 16, in fetch\n'
                  "ConnectionError: /broken: connection reset\n")


def shown(state: str, **ending: object) -> str:
    store = WatchStore()
    store.apply_message(batch([], t=100.0, full=True))
    snapshot = task(6, "broken-page", "fetch", state, None, at(27, "worker"), steps=2,
                    chain=(at(19, "fetch"),), awaiting="sleep(0.05)", life=(100.0, 100.5),
                    **ending)  # type: ignore[arg-type]
    store.apply_message(batch([snapshot]))
    kept = store.get(6)
    assert kept is not None
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(describe_task(kept, store))
    return out.getvalue()


def test_a_failed_task_says_what_it_raised_then_where_it_last_waited() -> None:
    text = shown("exception", error=ERROR)
    assert "Raised ConnectionError: /broken: connection reset" in text
    assert "Last suspended at tiny_crawler.py:19, before it raised" in text
    assert text.index("Raised ") < text.index("Last suspended at")
    assert "Was waiting" not in text
    assert "Suspended at" not in text


def test_a_cancelled_task_says_where_it_was_cancelled() -> None:
    text = shown("cancelled")
    assert "Last suspended at tiny_crawler.py:19, when it was cancelled" in text


def test_a_task_that_returned_says_so() -> None:
    text = shown("done", result="'/about: 200 OK'")
    assert text.index("Returned '/about: 200 OK'") < text.index(
        "Last suspended at tiny_crawler.py:19, before it returned")


def test_a_cancelled_row_keeps_the_line_it_was_cancelled_at() -> None:
    """Trial: at 80 columns the row read "cancelled at task…" (the file and line were cut);
    the state column already says cancelled."""
    from loopscope.widgets.watch_columns import fit_location

    snapshot = task(4, "upload", "upload", "cancelled", 1, at(35, "main"),
                    chain=(at(26, "upload"),), life=(100.0, 100.1))
    assert fit_location(snapshot, 40) == "cancelled at tiny_crawler.py:26"
    assert fit_location(snapshot, 22) == "at tiny_crawler.py:26"
    assert fit_location(snapshot, 18) == "tiny_crawler.py:26"


def test_the_dashboard_detail_says_raised_as_the_watch_detail_does() -> None:
    """One wording for one thing on both screens: "Raised …" and "last suspended at"."""
    from loopscope.tasks.records import TaskRecord, TaskState
    from loopscope.widgets.task_detail import describe_record

    record = TaskRecord(id=3, batch_id=1, kind="fail", target="disk full", created=0.0,
                        started=0.0, finished=0.1, state=TaskState.EXCEPTION)
    record.error_type, record.error_message = "InjectedFailure", "disk full"
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(describe_record(record, 0.1, 0.0))
    assert "Raised InjectedFailure: disk full" in out.getvalue()
