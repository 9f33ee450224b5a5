"""The command bar: the CLI's spec language from the keyboard, errors inline, never a crash."""

from __future__ import annotations

import pytest
from textual import events
from textual.pilot import Pilot

from loopscope.tasks.batch import Batch
from loopscope.tui.app import LoopscopeApp
from loopscope.widgets.command_bar import CommandBar
from loopscope.widgets.spec_input import paste_as_line
from tests.staging import palette_choose
from tests.tui.conftest import new_app, until
from tests.tui.typing import keys_for, type_burst


async def test_a_spec_launches_a_batch() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon")
        bar = app.screen.query_one(CommandBar)
        assert bar.is_open
        await pilot.press(*"sleep 0.01 x3; fail boom", "enter")
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.planned == 4
        assert "launched 4 tasks" in str(bar.message.render())
        await until(pilot, lambda: batch.done)


@pytest.mark.parametrize(
    ("text", "fragment", "word"),
    [
        ("fetc /x", "unknown kind", "fetc"),
        ("sleep 1 x0", "x1 to x100,000", "x0"),
        ("fetch example.com", "http://", "example.com"),
        ("sleep 'oops", "quotation", None),
    ],
)
async def test_bad_specs_are_shown_inline(text: str, fragment: str, word: str | None) -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *text, "enter")
        await pilot.pause()
        bar = app.screen.query_one(CommandBar)
        assert bar.is_open  # still open, the text kept for fixing
        message = str(bar.message.render())
        assert fragment in message
        assert bar.message.has_class("-error")
        assert app.manager.last_batch is None
        assert bar.input.value == text


async def test_escape_closes_the_bar_and_keys_work_again() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", "s")  # the s is typed into the bar, not a launch
        assert app.manager.last_batch is None
        await pilot.press("escape")
        bar = app.screen.query_one(CommandBar)
        assert not bar.is_open
        await pilot.press("s")
        assert app.manager.last_batch is not None


async def test_the_command_palette_offers_the_actions() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await palette_choose(pilot, "launch sleep", "Launch sleep")
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.records[0].kind == "sleep"


# --- keys typed faster than the app answers (issue 10) ----------------------------------------


async def _open_bar_with_an_error(pilot: Pilot[int], app: LoopscopeApp) -> CommandBar:
    await pilot.press("colon", *keys_for("sleep abc"), "enter")
    bar = app.screen.query_one(CommandBar)
    await until(pilot, lambda: bar.message.has_class("-error"))
    return bar


async def test_ctrl_u_then_fast_typing_and_enter_launches_what_was_typed() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        bar = await _open_bar_with_an_error(pilot, app)
        type_burst(app, "ctrl+u", *keys_for("sleep 0.01 x2\n"))
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.text == "sleep 0.01 x2"
        assert batch.planned == 2
        await until(pilot, lambda: "launched 2 tasks" in str(bar.message.render()))
        assert bar.input.value == ""


async def test_fast_backspaces_land_before_the_next_character() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        bar = await _open_bar_with_an_error(pilot, app)
        assert bar.input.value == "sleep abc"  # the rejected line, back for fixing
        type_burst(app, *keys_for("\b\b\b0.01\n"))
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.text == "sleep 0.01"


async def test_a_line_typed_right_after_enter_is_kept() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon")
        type_burst(app, *keys_for("sleep 0.01 x2\nsleep 0.01 x3\nsleep 0.01"))
        await until(pilot, lambda: len(app.manager.batches) == 2)
        await pilot.pause()
        texts = [batch.text for batch in app.manager.batches.values()]
        assert texts == ["sleep 0.01 x2", "sleep 0.01 x3"]
        assert app.screen.query_one(CommandBar).input.value == "sleep 0.01"


async def test_an_error_does_not_overwrite_a_line_typed_after_it() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon")
        type_burst(app, *keys_for("sleep abc\nsleep 1"))
        bar = app.screen.query_one(CommandBar)
        await until(pilot, lambda: bar.message.has_class("-error"))
        await pilot.pause()
        assert bar.input.value == "sleep 1"
        assert "sleep abc" in str(bar.message.render())  # the pointer shows the rejected line


# --- paste -----------------------------------------------------------------------------------


async def test_a_paste_ending_in_a_newline_launches_exactly_what_was_pasted() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon")
        app.post_message(events.Paste("sleep 0.01 x3 ; fail boom\n"))
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.planned == 4
        assert [r.kind for r in batch.records] == ["sleep"] * 3 + ["fail"]
        assert app.screen.query_one(CommandBar).input.value == ""


async def test_a_paste_without_a_newline_waits_for_enter() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon")
        app.post_message(events.Paste("sleep 0.01"))
        bar = app.screen.query_one(CommandBar)
        await until(pilot, lambda: bar.input.value == "sleep 0.01")

        def last_batch() -> Batch | None:  # read afresh: mypy would keep the `is None` below
            return app.manager.last_batch

        assert last_batch() is None
        await pilot.press(*keys_for(" x2"), "enter")
        await until(pilot, lambda: last_batch() is not None)
        batch = last_batch()
        assert batch is not None
        assert batch.planned == 2


async def test_a_multi_line_paste_is_one_line_of_specs() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon")
        app.post_message(events.Paste("sleep 0.01 x2\n\nfail boom\r\n"))
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.text == "sleep 0.01 x2; fail boom"
        assert batch.planned == 3


def test_paste_as_line() -> None:
    assert paste_as_line("sleep 1") == ("sleep 1", False)
    assert paste_as_line("sleep 1\n") == ("sleep 1", True)
    assert paste_as_line(" a \n\n b \n") == ("a; b", True)
    assert paste_as_line("\n") == ("", True)


async def test_keys_typed_right_after_escape_reach_the_dashboard() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *keys_for("sleep 0.01"))
        type_burst(app, "escape", "s")
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.records[0].kind == "sleep"  # the s key's launch
        bar = app.screen.query_one(CommandBar)
        assert not bar.is_open
        assert bar.input.value == "sleep 0.01"


async def test_escape_after_edit_limits_leaves_the_next_line_empty() -> None:
    """Trial: ``L`` then escape kept ``set limit=…`` in the bar; the next ``:`` appended to
    it (``set limit=100 … processes=2sleep 20 x3``)."""
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("L")
        bar = app.screen.query_one(CommandBar)
        await until(pilot, lambda: bar.is_open and bar.input.value.startswith("set "))
        await pilot.press("escape")
        await until(pilot, lambda: not bar.is_open)
        await pilot.press("colon", *keys_for("sleep 0.01 x3"))
        await until(pilot, lambda: bar.input.value == "sleep 0.01 x3")
        await pilot.press("enter")
        await until(pilot, lambda: app.manager.last_batch is not None)


async def test_palette_scenario_then_enter_runs_a_scenario_not_cancel_everything() -> None:
    """Trial: ctrl+p, "scenario", enter ran "Cancel everything: every batch, task and
    scenario" (it matched as well and came first)."""
    from loopscope.tui.screens.scenarios import ScenarioPicker

    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *keys_for("sleep 3600 x2"), "enter", "escape")
        batch = app.manager.last_batch
        assert batch is not None
        await palette_choose(pilot, "scenario", "teaching scenario")
        await until(pilot, lambda: isinstance(app.screen, ScenarioPicker))
        assert not batch.done  # nothing was cancelled


async def test_a_line_typed_with_its_colon_still_works() -> None:
    """Trial: ``:`` then ``:set limit=5`` said ``unknown kind``."""
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        bar = app.screen.query_one(CommandBar)
        await pilot.press("colon", *keys_for(":set limit=5"), "enter")
        await until(pilot, lambda: "now set limit=5" in str(bar.message.render()))
        await pilot.press(*keys_for(":sleep 0.01 x2"), "enter")
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.planned == 2


async def test_the_palette_offers_the_task_list_keys_too() -> None:
    """Trial: sort, invert, next and previous match were missing from the palette."""
    from loopscope.widgets.task_list import TaskList

    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        task_list = app.screen.query_one(TaskList)
        reverse = task_list.sort_reverse
        await palette_choose(pilot, "invert the sort order", "Invert the sort order")
        await until(pilot, lambda: task_list.sort_reverse is not reverse)


async def test_palette_keys_at_80_columns_opens_help_instead_of_squeezing_the_screen() -> None:
    """Trial: at 80x24 the palette's "Keys" docked a panel that squeezed the task list to
    13 columns. Narrow, it opens the full-width help screen instead."""
    from textual.widgets import HelpPanel

    from loopscope.tui.screens.help import HelpScreen

    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await palette_choose(pilot, "keys", "Keys")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert not app.query(HelpPanel)
        await pilot.press("escape")
        task_list = app.screen.query_one("#task-list")
        assert task_list.size.width > 40  # the dashboard as it was


async def test_palette_keys_when_wide_docks_textuals_panel_and_a_narrow_terminal_closes_it(
) -> None:
    from textual.widgets import HelpPanel

    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await palette_choose(pilot, "keys", "Keys")
        await until(pilot, lambda: bool(app.screen.query(HelpPanel)))
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: not app.screen.query(HelpPanel))
