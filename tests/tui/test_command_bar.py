"""The command bar: the CLI's spec language from the keyboard, errors inline, never a crash."""

from __future__ import annotations

import pytest

from loopscope.widgets.command_bar import CommandBar
from tests.tui.conftest import new_app, until


async def test_a_spec_launches_a_batch() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon")
        bar = app.screen.query_one(CommandBar)
        assert bar.is_open
        await pilot.press(*"sleep 0.01 x3; fail boom", "enter")
        batch = app.manager.last_batch
        assert batch is not None and batch.planned == 4
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
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"launch sleep")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None and batch.records[0].kind == "sleep"
