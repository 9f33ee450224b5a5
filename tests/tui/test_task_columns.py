"""The dashboard's task list shows the engine's own busy time, steps and where each task waits
(issue 9, item 7), in columns that fit: all of them at 160x50, the most useful at 80x24 with a
target wide enough to read. Without --step-timing, busy and steps say "not measured" (—) and
the list says how to turn them on, rather than showing zeros."""

from __future__ import annotations

from loopscope.tasks.options import EngineOptions
from loopscope.widgets.task_columns import layout
from loopscope.widgets.task_list import TaskList
from tests.tui.conftest import new_app, until


def shown(task_list: TaskList) -> list[str]:
    return [task_list.render_line(y).text for y in range(task_list.size.height)]


def row_of(task_list: TaskList, task_id: int) -> str:
    return next(line for line in shown(task_list)[1:] if line.split()[:1] == [str(task_id)])


def cells(task_list: TaskList, task_id: int) -> dict[str, str]:
    """A row cut into its columns, by the layout the list draws with."""
    line = row_of(task_list, task_id)
    found, x = {}, 0
    for column, width in layout(task_list.size.width, 2):
        found[column.key] = line[x : x + width].strip()
        x += width + 1
    return found


async def test_at_160x50_every_column_and_no_zeros_without_step_timing() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *"sleep 3600 x3", "enter", "escape")
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 3)
        header = shown(task_list)[0].split()
        assert header[:9] == ["id", "kind", "target", "state", "wait", "run", "busy", "steps",
                              "bytes"]
        assert "waits at / outcome" in shown(task_list)[0]
        await until(pilot, lambda: "sleep.py:" in cells(task_list, 1)["outcome"])
        row = cells(task_list, 1)
        assert (row["busy"], row["steps"]) == ("—", "—")  # not measured, not 0
        assert "--step-timing" in str(task_list.border_subtitle)


async def test_with_step_timing_busy_and_steps_are_measured() -> None:
    app = new_app(EngineOptions(thread_workers=8, process_workers=2, step_timing=True))
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *"sleep 3600 x2", "enter", "escape")
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 2)
        await until(pilot, lambda: cells(task_list, 1)["steps"] not in ("", "—"))
        row = cells(task_list, 1)
        assert row["busy"].endswith(" s")  # e.g. "0.001 s"
        assert int(row["steps"]) >= 1
        assert not task_list.border_subtitle


async def test_at_80x24_state_and_run_time_fit_beside_a_readable_target() -> None:
    """Trial: at 80 columns the list showed only id, kind, target and state: how long a task
    had run was one ``enter`` away. The run time now fits, and the target stays readable."""
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"sleep 3600 x2", "enter", "escape")
        task_list = app.screen.query_one(TaskList)
        await until(pilot, lambda: task_list.row_count == 2)
        columns = {c.key: w for c, w in layout(task_list.size.width, 2)}
        assert list(columns) == ["id", "kind", "target", "state", "run"]
        assert columns["target"] >= 16  # "sample-64KiB.txt", "/delay/100-1200" whole
        header = shown(task_list)[0]
        assert header.split() == ["id", "kind", "target", "state", "run"]
        await until(pilot, lambda: cells(task_list, 1)["run"].endswith(" s"))
        assert cells(task_list, 1)["state"] == "running"
        assert not task_list.border_subtitle  # no busy/steps column, nothing to explain


def test_a_narrow_list_leaves_columns_out_whole() -> None:
    """However narrow, every column shown is at least as wide as its narrowest, the widths add
    up to the list's width, and the run time goes before the kind is squeezed out."""
    from loopscope.widgets.task_columns import COLUMNS

    narrowest = {c.key: c.narrowest for c in COLUMNS}
    for width in range(20, 161):
        for id_width in (2, 3, 4, 6):
            columns = layout(width, id_width)
            assert sum(w + 1 for _, w in columns) <= width
            for column, w in columns:
                least = max(3, id_width) if column.key == "id" else narrowest[column.key]
                assert w >= least, (width, id_width, column.key)
    keys_at_47 = [c.key for c, _ in layout(47, 4)]  # ids up to 999 at 80 columns
    assert keys_at_47 == ["id", "kind", "target", "state", "run"]
    # trial: at 120 columns "busy" (all "—" without step timing) came in and squeezed the
    # target to "/del…/100-1200"; a column past the outcome never makes the target unreadable
    at_120 = {c.key: w for c, w in layout(72, 3)}
    assert "busy" not in at_120
    assert at_120["target"] >= 16
    assert at_120["kind"] == 8


def test_a_target_that_is_no_path_keeps_its_start() -> None:
    """Trial: CPU targets lost their leading digits (``…0,000 in process``): the number that
    tells one batch from another was the part cut."""
    from loopscope.widgets.task_columns import cut_middle

    assert cut_middle("3,000,000 in process", 12) == "3,000,000 i…"
    assert cut_middle("/srv/data/deep/sample-07.bin", 20) == "/srv/…/sample-07.bin"  # a path


def test_race_rows_keep_their_lane_when_cut() -> None:
    """Trial: in the race every CPU row read "sum of squares to…" (the lane, the only part
    that differs, was cut off), and the I/O rows "GET…/200 (asyncio)", "G…/200 (processes)"."""
    from loopscope.widgets.task_columns import cut_middle

    lanes = ("sequential", "asyncio", "threads", "processes")
    cpu = {cut_middle(f"sum of squares to 3,000,000 ({lane})", 18).rstrip() for lane in lanes}
    assert cpu == {"sum … (sequential)", "sum of … (asyncio)", "sum of … (threads)",
                   "sum o… (processes)"}
    io = [cut_middle(f"GET /delay/200 ({lane})", 18).rstrip() for lane in lanes]
    assert io == ["…/200 (sequential)", "…/200 (asyncio)", "…/200 (threads)",
                  "…/200 (processes)"]
    assert all(len(cut_middle(f"GET /delay/200 ({lane})", 18)) == 18 for lane in lanes)
