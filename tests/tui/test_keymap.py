"""Keys people can find: the footer, ``?`` help, the palette and the README all come from the
bindings, so none of them can describe a key that does something else (issue 10)."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from loopscope.tasks.kinds.registry import all_kinds
from loopscope.tui.keymap import (
    as_binding,
    dashboard_sections,
    key_help,
    markdown_table,
    show_keys,
)
from loopscope.tui.screens.help import HelpScreen
from loopscope.tui.screens.main import MainScreen
from loopscope.widgets.key_footer import KeyFooter
from tests.staging import REPO, palette_choose
from tests.tui.conftest import new_app, until


def _readme_keys_table() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("| key | where | does |")
    return text[start : text.index("\n\n", start)]


def test_the_readme_keys_table_matches_the_bindings() -> None:
    expected = markdown_table(dashboard_sections(MainScreen))
    assert _readme_keys_table() == expected, (
        "README's keys table differs from the bindings: regenerate it with "
        "`python -m loopscope.tui.keymap`"
    )


def test_every_dashboard_binding_has_an_id_a_label_and_a_sentence() -> None:
    rows = key_help(MainScreen.BINDINGS)
    assert rows
    for row in rows:
        assert row.id, row
        assert row.label, row
        assert row.text != row.label, row
    ids = [row.id for row in rows]
    assert len(ids) == len(set(ids))
    assert set(ids) >= MainScreen.FOOTER_AT_80


def test_show_keys() -> None:
    assert show_keys("plus,equals_sign") == "+ ="
    assert show_keys("question_mark") == "?"
    assert show_keys("ctrl+l") == "ctrl+l"
    assert show_keys("up,k") == "↑ k"


def _footer_actions(app: object) -> list[str]:
    footer = app.screen.query_one(KeyFooter)  # type: ignore[attr-defined]
    return [key.action for key in footer.query(FooterKey)]


def _shown_actions() -> list[str]:
    shown = (b for b in map(as_binding, MainScreen.BINDINGS) if b.show)
    return [row.action for row in key_help(shown)]


async def test_the_footer_shows_every_key_at_160_columns() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: bool(_footer_actions(app)))
        assert _footer_actions(app) == _shown_actions()
        assert app.screen.query_one(KeyFooter).shows_every_key()


async def test_the_footer_keeps_the_most_used_keys_at_80_columns() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(_footer_actions(app)))
        actions = _footer_actions(app)
        essential = [
            row.action for row in key_help(MainScreen.BINDINGS)
            if row.id in MainScreen.FOOTER_AT_80
        ]
        assert actions == essential
        assert "help" in actions
        assert "app.quit" in actions
        footer = app.screen.query_one(KeyFooter)
        right_edge = max(key.region.right for key in footer.query(FooterKey))
        assert right_edge <= 80  # quit is on screen, not scrolled off the edge


async def test_the_footer_follows_a_resize() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: bool(_footer_actions(app)))
        await pilot.resize_terminal(160, 50)
        await until(pilot, lambda: _footer_actions(app) == _shown_actions())
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: len(_footer_actions(app)) < len(_shown_actions()))


async def test_help_lists_every_binding_in_its_own_words() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        console = Console(width=300, record=True, file=io.StringIO())
        for static in app.screen.query(Static):
            console.print(static.content)
        shown = console.export_text()
        for _title, rows in dashboard_sections(MainScreen):
            for row in rows:
                assert row.text in shown, row


async def test_the_palette_runs_a_bound_action_by_its_sentence() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await palette_choose(pilot, "launch failing tasks", "Launch failing tasks")
        await until(pilot, lambda: app.manager.last_batch is not None)
        batch = app.manager.last_batch
        assert batch is not None
        assert batch.records[0].kind == "fail"


async def test_in_the_command_bar_the_footer_drops_keys_that_type_characters() -> None:
    app = new_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("colon")
        await until(pilot, lambda: "command_bar" not in _footer_actions(app))
        actions = _footer_actions(app)
        assert "close" in actions  # escape closes the bar
        for typed in ("batch_size(1)", "batch_size(-1)", "launch('fetch')", "help"):
            assert typed not in actions  # + - f ? go into the line


async def test_help_descriptions_keep_their_indent_when_wrapped_at_80x24() -> None:
    app = new_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        static = app.screen.query(Static)[1]  # keys, specs, figures
        console = Console(width=static.content_size.width, record=True, file=io.StringIO())
        console.print(static.content)
        lines = console.export_text().splitlines()
        usages = {f"  {kind.usage}" for kind in all_kinds()}
        first = next(n for n, line in enumerate(lines) if line.rstrip() in usages)
        described = [line for line in lines[first:] if line.strip()]
        # some description wraps: more description lines than kinds
        assert len(described) - len(usages) > len(usages)
        for line in described:
            assert line.rstrip() in usages or line.startswith("      "), line
