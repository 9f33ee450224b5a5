"""Scenario texts describe what each scenario does, in words a user can check on screen."""

from __future__ import annotations

import re

from loopscope.tasks.scenarios import SCENARIOS


def test_no_scenario_is_described_by_where_its_idea_came_from() -> None:
    for scenario in SCENARIOS.values():
        assert not re.search(r"\b(seeds?|issue|brief)\b", scenario.explanation, re.I), (
            scenario.name
        )


def test_the_chain_scenario_says_what_it_fetches_and_how() -> None:
    text = SCENARIOS["chain"].explanation
    assert text.startswith("For each of three users")
    assert "asyncio.gather" in text


def test_the_limits_scenario_promises_measured_times_not_guesses() -> None:
    text = SCENARIOS["limits"].explanation
    assert "about" not in text
    assert "measured" in text
