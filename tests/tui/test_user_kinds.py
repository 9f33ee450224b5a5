"""A user's kinds on the dashboard: typed in the command bar, offered in the palette and help."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console
from textual.widgets import Static

from loopscope.tasks.kinds import Kind, registry
from loopscope.tasks.kinds.loader import load_kinds_file
from loopscope.tasks.records import TaskState
from loopscope.tui.screens.help import HelpScreen
from loopscope.widgets.command_bar import CommandBar
from tests.staging import REPO, palette_choose
from tests.tui.conftest import new_app, until


@pytest.fixture
def example_kinds() -> Iterator[list[Kind[object]]]:
    with registry.restoring():
        yield load_kinds_file(REPO / "examples" / "my_kinds.py")


async def test_user_kinds_launch_from_the_command_bar(example_kinds: list[Kind[object]]) -> None:
    app = new_app(kinds=example_kinds)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *"orders 3 x2; sensors 2 every=10ms", "enter")
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.planned == 3
        await until(pilot, lambda: batch.done)
        assert [record.state for record in batch.records] == [TaskState.DONE] * 3
        assert batch.records[0].target == "user 3"
        assert batch.records[0].result.startswith("user-3: ")


async def test_a_bad_word_for_a_user_kind_is_shown_inline(
    example_kinds: list[Kind[object]],
) -> None:
    app = new_app(kinds=example_kinds)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon", *"orders 3 retries=lots", "enter")
        await pilot.pause()
        bar = app.screen.query_one(CommandBar)
        message = str(bar.message.render())
        assert "retries must be a whole number" in message
        assert "retries=lots" in message  # the pointer line shows the offending word
        assert app.manager.last_batch is None


async def test_the_palette_and_help_offer_user_kinds(example_kinds: list[Kind[object]]) -> None:
    app = new_app(kinds=example_kinds)
    async with app.run_test(size=(160, 50)) as pilot:
        await palette_choose(pilot, "launch orders", "Launch orders")
        bar = app.screen.query_one(CommandBar)
        await until(pilot, lambda: bar.is_open)
        assert bar.input.value == "orders 7 x10 "
        await pilot.press("escape", "question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        console = Console(width=300, record=True, file=io.StringIO())
        for static in app.screen.query(Static):
            console.print(static.content)
        shown = console.export_text()
        assert "orders USER [retries=N]" in shown
        assert "yours:" in shown
