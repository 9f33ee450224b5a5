"""What ``R`` says about a batch it cannot repeat exactly: the demo server draws a random
delay (``/delay/MIN-MAX``) anew for every request, so the concurrent and one-by-one runs wait
different times, and the toast says the gain holds on average only."""

from __future__ import annotations

from loopscope.tasks.batch import Batch
from loopscope.tasks.spec import parse_specs
from loopscope.tui.replay_key import random_delay_note


def batch_of(text: str) -> Batch:
    specs = tuple(parse_specs(text))
    return Batch(id=1, specs=specs, created=0.0, planned=sum(spec.repeat for spec in specs))


def test_random_delays_are_named_in_the_replay_note() -> None:
    note = random_delay_note(batch_of("fetch /delay/100-800 x10; fetch /delay/5-50; sleep 1"))
    assert "/delay/100-800, /delay/5-50" in note
    assert "on average" in note


def test_fixed_delays_need_no_note() -> None:
    assert random_delay_note(batch_of("fetch /delay/200 x20; sleep 0.5 x10")) == ""
