"""The scenario log travels as typed entries: the widget styles each by its kind."""

from __future__ import annotations

from types import SimpleNamespace

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.geometry import Region

from loopscope.tasks.scenarios import LogEntry, LogKind
from loopscope.widgets.scenario_log import ScenarioLog, entry_text


def test_entries_are_styled_by_kind_not_by_their_words() -> None:
    failed = entry_text(LogEntry(LogKind.FAILED, "the scenario failed: ValueError: x"))
    assert failed.plain == "✗ the scenario failed: ValueError: x"
    assert str(failed.style) == "bold red"
    # a note whose words happen to start with a glyph is still a note
    note = entry_text(LogEntry(LogKind.NOTE, "✗ is how a failure is marked"))
    assert note.plain == "✗ is how a failure is marked"
    assert str(note.style) == ""
    started = entry_text(LogEntry(LogKind.STARTED, "The strategy race"))
    assert started.plain == "▶ The strategy race"
    assert str(started.style) == "bold"


def test_reports_keep_readable_lines() -> None:
    entries = [LogEntry(LogKind.STARTED, "Sensors"), LogEntry(LogKind.NOTE, "round 1"),
               LogEntry(LogKind.STOPPED, "stopped")]
    assert [entry.line for entry in entries] == ["▶ Sensors", "round 1", "■ stopped"]


class FakeRun:
    """A scenario run's log without a scenario: what the panel reads, and nothing else."""

    def __init__(self) -> None:
        self.scenario = SimpleNamespace(name="fake")
        self.context = SimpleNamespace(log=[], version=0)

    def say(self, text: str, kind: LogKind = LogKind.NOTE) -> None:
        self.context.log.append(LogEntry(kind, text))
        self.context.version += 1


class LogApp(App[None]):
    CSS = "ScenarioLog { border: round white; height: 8; width: 40; }"

    def compose(self) -> ComposeResult:
        yield ScenarioLog()


async def test_every_drawn_line_fills_the_panel_up_to_its_right_border() -> None:
    """Short lines used to end the strip early: the border followed the text, stale text stayed."""
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(ScenarioLog)
        run = FakeRun()
        run.say("Sensors", LogKind.STARTED)
        log.follow(run)  # type: ignore[arg-type]
        for text in ("ok", "a much longer line that has to wrap onto a second row of the panel",
                     "x", "round 2", "y" * 100, "z"):
            run.say(text)
            log.sync()
            await pilot.pause()
            width = log.outer_size.width
            lines = log.render_lines(Region(0, 0, width, log.outer_size.height))
            for strip in lines:
                # measured from the text: a Strip may claim a width its segments do not fill
                assert cell_len(strip.text) == width, strip.text
                text_line = strip.text
                assert text_line[0] in "│╭╰", text_line
                assert text_line[-1] in "│╮╯▁▇█▆▅▄▃▂ ", text_line
        inner = [strip.text[1:-1] for strip in lines[1:-1]]
        # the newest line is drawn, and short lines are padded (no leftovers after "z")
        assert inner[-1].rstrip(" ▁▇█▆▅▄▃▂") == "z"


async def test_a_duration_stays_with_its_unit_when_a_line_wraps() -> None:
    """Trial: at 80x24 the limits scenario's log read "measured 1.023" / "s for 50 fetches"."""
    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(ScenarioLog)
        run = FakeRun()
        run.say("Sensors", LogKind.STARTED)
        log.follow(run)  # type: ignore[arg-type]
        log.sync()
        await pilot.pause()
        width = log.scrollable_content_region.width
        room = width - len(" 1.023")  # "1.023" ends the first row exactly
        prefix = " ".join(["a"] * ((room + 1) // 2))
        prefix = prefix if len(prefix) == room else "b" + prefix
        assert len(prefix) == room
        line = prefix + " 1.023 s for 50"
        run.say(line)
        log.sync()
        await pilot.pause()
        rows = [log.render_line(y).text.rstrip(" ▁▇█▆▅▄▃▂") for y in range(log.size.height)]
        assert not any(row.strip() == "s for 50" or row.endswith(" 1.023") for row in rows)
        assert any(row.strip().startswith("1.023 s for 50") for row in rows)
