"""The teaching scenarios: each a named piece of data plus a small coroutine in the engine.

Run one with ``start(manager, name)``; ``loopscope scenarios`` lists them and
``loopscope run --scenario NAME`` runs one to completion.
"""

from __future__ import annotations

from typing import Any

from loopscope.tasks.manager import TaskManager
from loopscope.tasks.scenarios.base import (
    LogEntry,
    LogKind,
    Scenario,
    ScenarioContext,
    ScenarioRun,
)
from loopscope.tasks.scenarios.basics import BASIC_SCENARIOS
from loopscope.tasks.scenarios.files import FILE_SCENARIOS
from loopscope.tasks.scenarios.network import NETWORK_SCENARIOS
from loopscope.tasks.scenarios.race import RACE_SCENARIOS

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (*NETWORK_SCENARIOS[:1], *NETWORK_SCENARIOS[1:2], *FILE_SCENARIOS,
                     *NETWORK_SCENARIOS[2:3], *BASIC_SCENARIOS[:2], *NETWORK_SCENARIOS[3:],
                     *BASIC_SCENARIOS[2:], *RACE_SCENARIOS)
}
"""In the order the issue lists them: sensors, downloads, files, chain, futures, gather,
limits, timeouts, blocking, race."""


def start(
    manager: TaskManager, name: str, *, headless: bool = False, **options: Any
) -> ScenarioRun:
    """Start scenario ``name`` on ``manager``. Raises KeyError for an unknown name."""
    scenario = SCENARIOS[name]
    merged = {**(scenario.headless_options if headless else {}), **options}
    return ScenarioRun(manager, scenario, merged)


__all__ = [
    "SCENARIOS", "LogEntry", "LogKind", "Scenario", "ScenarioContext", "ScenarioRun", "start",
]
