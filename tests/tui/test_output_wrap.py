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
        # the top rows hold the first lines, wrapped at 29 cells between words: read on, row
        # after row, each line is whole (nothing under the scrollbar, no word split)
        joined = "".join("".join(row.split()) for row in shown)
        for line in TRACEBACK[:2]:
            assert "".join(line.split()) in joined  # every character, in order
        assert shown[0].rstrip() == "Traceback (most recent call"
        assert shown[1].rstrip() == "last):"


def test_long_lines_break_between_words_and_fold_a_longer_word() -> None:
    """Trial: "connection reset" wrapped as "connection rese" / "t" at 80x24."""
    from loopscope.widgets.program_output import word_breaks

    text = "worker-0: /broken: connection reset"
    starts = word_breaks(text, 34)
    rows = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    assert rows == ["worker-0: /broken: connection ", "reset"]
    assert word_breaks("x" * 70, 30) == [0, 30, 60]  # no space: folded
