"""Counts read right at one: "1 chunk", "1 line" (issue 10 saw "1 chunks")."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loopscope.tasks.manager import TaskManager


@pytest.mark.parametrize(
    ("mode", "result"), [("chunks", "read 2 B in 1 chunk"), ("lines", "read 1 line, 2 B")]
)
async def test_a_read_of_one_chunk_or_line_says_so(
    manager: TaskManager, tmp_path: Path, mode: str, result: str
) -> None:
    path = tmp_path / "one.txt"
    path.write_text("a\n")
    batch = manager.launch(f"read {path} mode={mode}")
    await asyncio.wait_for(batch.wait(), 30)
    assert batch.records[0].result == result
