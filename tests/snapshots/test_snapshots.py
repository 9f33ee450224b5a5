"""Snapshot tests of each screen, with time frozen by an injected clock (see tests/staging.py).

Update after an intended change with ``pytest tests/snapshots --snapshot-update`` and look at
the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.staging import FakeClock, stage_failed_detail, stage_help, stage_mid_batch, staged_app

Stage = Callable[[Pilot[object], FakeClock], Awaitable[None]]


def _snap(snap_compare: Any, stage: Stage, size: tuple[int, int]) -> bool:
    clock = FakeClock()
    app = staged_app(clock)

    async def run_before(pilot: Pilot[object]) -> None:
        await stage(pilot, clock)

    return bool(snap_compare(app, run_before=run_before, terminal_size=size))


@pytest.mark.parametrize("size", [(160, 50), (80, 24)], ids=["160x50", "80x24"])
def test_main_screen_mid_batch_with_a_failed_task(snap_compare: Any, size: tuple[int, int]) -> None:
    assert _snap(snap_compare, stage_mid_batch, size)


def test_detail_view_with_a_traceback(snap_compare: Any) -> None:
    assert _snap(snap_compare, stage_failed_detail, (160, 50))


def test_help_screen(snap_compare: Any) -> None:
    assert _snap(snap_compare, stage_help, (160, 50))
