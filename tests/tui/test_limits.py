"""Changing the engine's limits while it runs: ``:set ...`` and the ``L`` key (issue 10)."""

from __future__ import annotations

from textual.pilot import Pilot

from loopscope.tui.app import LoopscopeApp
from loopscope.widgets.command_bar import CommandBar
from loopscope.widgets.status_line import StatusLine
from tests.tui.conftest import new_app, until
from tests.tui.typing import keys_for


def _status(app: LoopscopeApp) -> str:
    return str(app.screen.query_one(StatusLine).render())


async def _bar(pilot: Pilot[int], app: LoopscopeApp, line: str) -> CommandBar:
    await pilot.press("colon", *keys_for(line), "enter")
    bar = app.screen.query_one(CommandBar)
    await until(pilot, lambda: bool(str(bar.message.render()).strip()))
    return bar


async def test_set_changes_every_limit_and_the_status_line_shows_it() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        assert "limit 100" in _status(app)
        bar = await _bar(pilot, app, "set limit=5 per_host=2 workers=8 processes=1")
        assert not bar.message.has_class("-error"), bar.message.render()
        manager = app.manager
        assert (manager.connector_limit, manager.limit_per_host) == (5, 2)
        assert (manager.thread_workers, manager.process_workers) == (8, 1)
        await until(pilot, lambda: "limit 5  per_host 2  workers 8  processes 1" in _status(app))
        assert "now set limit=5 per_host=2 workers=8 processes=1" in str(bar.message.render())


async def test_a_lower_limit_makes_fetches_wait_their_turn() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await _bar(pilot, app, "set limit=2")
        await pilot.press("escape")
        await _bar(pilot, app, "fetch /delay/300 x6")
        batch = app.manager.last_batch
        assert batch is not None
        await until(pilot, lambda: batch.done, timeout=30)
        # Two slots: every fetch after the first two waited for one of those 300 ms fetches
        # to end (a floor set by the server's delay; without the limit none waits at all).
        waits = sorted(r.wait_s(0.0) for r in batch.records)
        assert all(wait >= 0.25 for wait in waits[2:]), waits


async def test_a_bad_value_is_shown_inline_and_nothing_changes() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        bar = await _bar(pilot, app, "set workers=0")
        assert bar.message.has_class("-error")
        assert "workers" in str(bar.message.render())
        assert app.manager.thread_workers == 8  # the test app's size, untouched
        assert bar.input.value == "set workers=0"  # back for fixing
        await pilot.press(*keys_for("\b\b\b\b\b\b\b\b\bprocesses=x"), "enter")
        await until(pilot, lambda: "whole number" in str(bar.message.render()))


async def test_the_L_key_opens_the_bar_on_the_current_limits() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("L")
        bar = app.screen.query_one(CommandBar)
        assert bar.is_open
        manager = app.manager
        assert bar.input.value == (
            f"set limit={manager.connector_limit} per_host={manager.limit_per_host} "
            f"workers={manager.thread_workers} processes={manager.process_workers}"
        )
        await pilot.press("ctrl+u", *keys_for("set per_host=3"), "enter")
        await until(pilot, lambda: manager.limit_per_host == 3)
        await until(pilot, lambda: "per_host 3" in _status(app))
