"""The watch screen's output panel wraps long lines with nothing hidden under its scrollbar.

Trial: at 80x24 a traceback in the panel read ``File "/tmp/trialprog/badimport.py`` then
``, line 2`` (the closing quote was under the scrollbar), and ``raise RuntimeError("boom at
imp`` then ``rt")`` (the ``o`` was)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from loopscope.tasks.watch.output import ProgramOutput
from loopscope.widgets.program_output import ProgramOutputView
from tests.tui.conftest import until

TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/tmp/trialprog/badimport.py", line 2, in <module>',
    '    raise RuntimeError("boom at import")',
    "RuntimeError: boom at import",
]


class OutputApp(App[None]):
    CSS = "ProgramOutputView { width: 30; height: 6; }"

    def __init__(self, output: ProgramOutput) -> None:
        super().__init__()
        self.output = output

    def compose(self) -> ComposeResult:
        yield ProgramOutputView(self.output)


async def test_wrapped_lines_keep_every_character_beside_the_scrollbar() -> None:
    output = ProgramOutput()
    for line in TRACEBACK * 3:  # more rows than the panel: its scrollbar shows
        output.feed("stderr", (line + "\n").encode())
    app = OutputApp(output)
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(ProgramOutputView)
        view.sync()
        await until(pilot, lambda: view.max_scroll_y > 0)
        assert view.text_width == 29  # 30 cells less the scrollbar's one

        def rows() -> list[str]:
            return [view.render_line(y).text for y in range(view.size.height)]

        shown = rows()
        assert all(len(row) == 29 for row in shown)
        # the top six rows hold the first three lines, wrapped at 29 cells: read on, row
        # after row, each line is whole (nothing under the scrollbar)
        joined = "".join(shown)
        for line in TRACEBACK[:3]:
            assert line.strip() in joined
        assert shown[0] + shown[1].rstrip() == TRACEBACK[0]
