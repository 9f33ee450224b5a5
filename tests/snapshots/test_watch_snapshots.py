"""Snapshots of the watch screen on deterministic data: the fake agent feed (tests/watch_fake.py,
frames pointing at tests/programs/tiny_crawler.py) and a program that already exited with fixed
output. Update with ``pytest tests/snapshots --snapshot-update`` and look at the SVGs first.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from loopscope.tui.screens.watch import WatchScreen
from loopscope.widgets.watch_detail import WatchDetail
from tests.watch_fake import staged_watch_app

SIZES = pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["160x50", "80x24"])


async def _settle(pilot: Pilot[object]) -> None:
    # the screen's own pull, now: its timer is paced by what frames cost, and on a busy
    # machine a fixed pause could end before the next pull
    for screen in pilot.app.screen_stack:
        if isinstance(screen, WatchScreen):
            screen.sync()
        for detail in screen.query(WatchDetail):  # a pop-up's detail pulls on its own timer
            detail.sync()
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


def _snap(snap_compare: Any, size: tuple[int, int], *keys: str) -> bool:
    async def run_before(pilot: Pilot[object]) -> None:
        await _settle(pilot)
        if keys:
            await pilot.press(*keys)
            await _settle(pilot)

    return bool(snap_compare(staged_watch_app(), run_before=run_before, terminal_size=size))


@SIZES
def test_watch_screen_after_the_program_exited(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, size, "down")


@SIZES
def test_watch_tree_sorted_and_filtered(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, size, "t", "slash", *"work", "enter")


@SIZES
def test_watch_detail_of_a_failed_task(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, size, "down", "down", "down", "down", "down", "enter")


def test_watch_help(snap_compare: Any) -> None:
    assert _snap(snap_compare, (160, 50), "question_mark")


@SIZES
def test_watch_lanes(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, size, "L")
