"""The dashboard shows a hostile server's escapes as text (issue 11, item 15): the engine
stores escaped text, so the task list and the detail view never send ESC or BEL."""

from __future__ import annotations

import asyncio

from loopscope.tasks.options import EngineOptions
from loopscope.tui.app import make_app
from loopscope.widgets.task_list import TaskList
from tests.staging import settle, until
from tests.unit.test_terminal_safety import ESCAPED_REASON, answer_hostile


async def test_the_dashboard_shows_the_escapes_as_text() -> None:
    server = await asyncio.start_server(answer_hostile, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    app = make_app(
        options=EngineOptions(
            thread_workers=2, process_workers=1, monitors=False, demo_server=False
        )
    )
    async with server, app.run_test(size=(160, 50)) as pilot:
        batch = app.manager.launch(f"fetch {url}/fail; fetch {url}/ok")
        await until(pilot, lambda: batch.done)
        await settle(pilot)
        task_list = app.screen.query_one(TaskList)
        rows = "\n".join(task_list.render_line(y).text for y in range(task_list.size.height))
        assert ESCAPED_REASON[:20] in rows
        screens = [rows, app.export_screenshot()]
        await pilot.press("enter")  # the first task's detail view: its error and traceback
        await settle(pilot)
        screens.append(app.export_screenshot())
    for text in screens:
        assert "\x1b" not in text
        assert "\x07" not in text
    assert "pwned" in screens[-1]
