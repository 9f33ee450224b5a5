"""Lag spikes and warnings from the watched program, newest last, each blamed on a task.

A spike names the task and the line its longest step ran to: the step that held the loop.
The panel shows as many of the newest events as fit and redraws only when one arrives.

Two figures describe one spike, and they differ on purpose. ``step held`` is the step's own
duration, measured around it (the figure the task's busy and longest step show). ``probe lag``
is how late the agent's lag probe ran: the probe is posted every 50 ms tick, so it sees only
the part of the step after it was posted, and reads less than the step (a 0.300 s
``time.sleep`` shows as ``step held 0.300 s`` and, say, ``probe lag 0.253 s``). Every
duration here uses ``human_seconds``, the format of the rest of the screen.
"""

from __future__ import annotations

from rich.text import Text

from loopscope.tasks.agent.model import AgentWarning, LagSample, LagSpike, WarningKind
from loopscope.tasks.units import human_seconds
from loopscope.tasks.watch.places import where
from loopscope.tasks.watch.store import WatchStore
from loopscope.widgets.text_wrap import hanging, newest_that_fit
from loopscope.widgets.watch_panel import WatchPanel

BARS = "▁▂▃▄▅▆▇█"


def lag_line(samples: list[LagSample], width: int) -> Text:
    """``probe lag ▁▁▂▁█▁▁ now 0.000 s, max 0.301 s``: the newest samples that fit, scaled to
    the max."""
    text = Text("probe lag ", style="bold")
    if not samples:
        text.append("no sample yet", "dim")
        return text
    now_ms = samples[-1].lag_ms
    peak = max(sample.lag_ms for sample in samples)
    tail = f" now {human_seconds(now_ms / 1000)}, max {human_seconds(peak / 1000)}"
    room = max(0, width - len(text) - len(tail))
    shown = samples[-room:] if room else []
    scale = max(peak, 1.0)
    bars = "".join(BARS[min(7, int(s.lag_ms / scale * 7.999))] for s in shown)
    text.append(bars, "bold red" if peak >= 100 else "")
    text.append(tail, "dim")
    return text


def offset(at_s: float) -> str:
    """``+0.912 s``: when an event came, since the first batch (the one duration format)."""
    return f"+{human_seconds(at_s)} "


def spike_text(spike: LagSpike, at_s: float) -> Text:
    """``+0.912 s crawler.py:18 step held 0.301 s #2 worker-0 · probe lag 0.253 s``: the line
    that held the loop first (the line is what the user looks for), then the step's own
    duration; the probe's figure last (see the module). A narrow panel wraps it."""
    text = Text()
    text.append(offset(at_s), "dim")
    if spike.line is not None:
        text.append(f"{where(spike.line)} ", "bold")
    probe = f"probe lag {human_seconds(spike.lag_ms / 1000)}"
    if spike.step_s > 0:
        text.append(f"step held {human_seconds(spike.step_s)}", "bold red")
    else:  # no step to blame (a plain callback): the probe's figure is all there is
        text.append(probe, "bold red")
    if spike.task is not None:
        text.append(f" #{spike.task} {spike.task_name or ''}".rstrip())
    if spike.step_s > 0:
        text.append(f" · {probe}", "dim")
    return text


def warning_text(warning: AgentWarning, at_s: float) -> Text:
    text = Text()
    text.append(offset(at_s), "dim")
    text.append(f"{warning.kind.value}: ", "bold yellow")
    text.append(warning.message)
    return text


SAME_STEP_S = 1.0
"""A slow-step warning this close to a spike blamed on the same task is that spike again."""


def shown_warnings(warnings: list[AgentWarning], spikes: list[LagSpike]) -> list[AgentWarning]:
    """The warnings worth a line: a slow-step warning repeats the lag spike of the same step
    (same task, same moment), which already says how long the step held the loop and where;
    it is shown only when no such spike came (the trial counted each stall twice)."""
    blamed = [(spike.task, spike.at) for spike in spikes if spike.task is not None]
    return [
        warning for warning in warnings
        if warning.kind is not WarningKind.SLOW_STEP
        or not any(task == warning.task and abs(at - warning.at) <= SAME_STEP_S
                   for task, at in blamed)
    ]


def event_texts(store: WatchStore, newest: int | None = None) -> list[Text]:
    """The lag spikes and the warnings worth a line, oldest first: of each kind the
    ``newest`` (all if None)."""
    spikes = list(store.spikes)[-newest:] if newest else list(store.spikes)
    warnings = list(store.warnings)[-newest:] if newest else list(store.warnings)
    events: list[tuple[float, Text]] = [
        (s.at, spike_text(s, store.relative(s.at))) for s in spikes
    ]
    events += [(w.at, warning_text(w, store.relative(w.at)))
               for w in shown_warnings(warnings, spikes)]
    events.sort(key=lambda pair: pair[0])
    return [text for _, text in events]


ALL_HINT = "w: all, whole"
"""The panel's subtitle when an event is cut or left out: the key that shows them whole."""


class WatchEvents(WatchPanel):
    """The newest lag spikes and warnings that fit, oldest at the top, each wrapped."""

    def render(self) -> Text:
        store = self.store
        width = self.content_size.width or self.size.width
        lag = lag_line(list(store.state.lag)[-width:], width)
        lines, cut = self._event_lines(width)
        if self._hint(cut):  # here too: a resize changes what fits
            self.call_later(self.refresh)  # the border is drawn already: it shows next frame
        if not lines:
            quiet = "no lag spike or warning" + ("" if self.ended else " yet")
            return Text("\n").join([lag, Text(quiet, style="dim")])
        return Text("\n").join([lag, *lines])

    def _event_lines(self, width: int) -> tuple[list[Text], bool]:
        """The rows of the newest events that fit, and whether any event is cut or left out
        (a long cause, a long path or task name, is cut to fit at 80x24: the panel has no
        room to scroll, so its subtitle says which key shows them whole)."""
        store = self.store
        room = max(1, self.size.height - 1)  # under the probe's line
        events = event_texts(store, newest=room)
        if not events:
            return [], False
        lines = newest_that_fit(events, width, room)
        every = len(store.spikes) + len(shown_warnings(list(store.warnings),
                                                       list(store.spikes)))
        cut = (every > len(events)
               or sum(len(hanging(text, width)) for text in events) > len(lines))
        return lines, cut

    def _hint(self, cut: bool) -> bool:
        """The subtitle for ``cut``; True if it changed."""
        subtitle = ALL_HINT if cut else ""
        if self.border_subtitle == subtitle:  # each assignment repaints the panel
            return False
        self.border_subtitle = subtitle
        return True

    def sync(self) -> None:
        store = self.store
        lag = store.state.lag
        key = (store.events_version, len(lag), lag[-1] if lag else None, self.ended)
        if key != self._version:
            self._version = key
            count = len(store.spikes) + len(shown_warnings(list(store.warnings),
                                                           list(store.spikes)))
            self.border_title = f"Lag & warnings {count:,}" if count else "Lag & warnings"
            width = self.content_size.width
            if width:  # laid out: the hint in the same frame as the events
                self._hint(self._event_lines(width)[1])
            self.refresh()
