"""The scenario log travels as typed entries: the widget styles each by its kind."""

from __future__ import annotations

from loopscope.tasks.scenarios import LogEntry, LogKind
from loopscope.widgets.scenario_log import entry_text


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
