"""The dashboard: task list, gain and system panels, timeline, status line, command bar.

Widgets pull the manager's changes on one timer (10 Hz, once a second while idle: see
tui/pull_cadence.py) inside ``app.batch_update()``; no message is posted per task event, so
100,000 tasks cost the screen what ~50 visible rows do.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget

from loopscope.tasks.clean_replay import CleanReplay
from loopscope.tasks.errors import LoopscopeError, SpecError
from loopscope.tasks.isolated import STOPWATCHES
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.records import TaskRecord, TaskState
from loopscope.tasks.scenarios import ScenarioRun
from loopscope.tasks.scenarios import start as start_scenario
from loopscope.tasks.scenarios.race_results import RaceResults
from loopscope.tasks.units import plural
from loopscope.tui.bar_commands import (
    Command,
    SetLimits,
    parse_command,
    set_line,
    without_colon,
)
from loopscope.tui.frame_pacing import FramePacer
from loopscope.tui.keymap import dashboard_sections
from loopscope.tui.launch_keys import (
    DEFAULT_BATCH_SIZE,
    LAUNCH_SPECS,
    launch_spec,
    next_batch_size,
)
from loopscope.tui.panel_titles import gain_title, task_list_title, timeline_title
from loopscope.tui.pull_cadence import REFRESH_S, PullCadence
from loopscope.tui.replay_key import ReplayKey
from loopscope.tui.screens.detail import DetailScreen
from loopscope.tui.screens.help import HelpScreen
from loopscope.tui.screens.paced_drawing import PacedDrawing
from loopscope.tui.screens.scenarios import RaceScreen, ScenarioPicker
from loopscope.tui.screens.search import SearchScreen
from loopscope.widgets.command_bar import CommandBar
from loopscope.widgets.gain_panel import GainPanel
from loopscope.widgets.key_footer import KeyFooter
from loopscope.widgets.notice_line import NoticeLine
from loopscope.widgets.scenario_log import ScenarioLog
from loopscope.widgets.status_line import StatusLine
from loopscope.widgets.system_panel import SystemPanel
from loopscope.widgets.task_list import TaskList
from loopscope.widgets.timeline import Timeline

PACED_ABOVE = 500
TIMED_REFRESH_S = 0.5
"""While a clean process times its work (a race lane, ``R``), the screen pulls and draws at
most this often: a lane that needs both cores must not share them with a 10 Hz redraw."""
FILTERS: tuple[TaskState | None, ...] = (None, *TaskState)


class MainScreen(PacedDrawing, Screen[None]):
    """Everything on one screen, driven from the keyboard."""

    LAUNCH = Binding.Group("launch", compact=True)
    BATCH = Binding.Group("batch", compact=True)
    CANCEL = Binding.Group("cancel", compact=True)
    BINDINGS = [
        # Footer label (description), help and palette text (tooltip), and an id for keymaps.
        # The help screen, the palette and the README keys table are generated from this list.
        Binding("f", "launch('fetch')", "fetch", id="launch.fetch", group=LAUNCH,
                tooltip="Launch fetches from the demo server "
                        f"({LAUNCH_SPECS['fetch'].format(n='N')})"),
        Binding("r", "launch('read')", "read", id="launch.read", group=LAUNCH,
                tooltip="Launch file reads of the generated sample files, with aiofiles"),
        Binding("s", "launch('sleep')", "sleep", id="launch.sleep", group=LAUNCH,
                tooltip="Launch sleeps: asyncio.sleep(1), batch-size times"),
        Binding("t", "launch('thread')", "thread", id="launch.thread", group=LAUNCH,
                tooltip="Launch thread jobs: a blocking 1 s wait in the thread pool"),
        Binding("p", "launch('cpu')", "cpu", id="launch.cpu", group=LAUNCH,
                tooltip="Launch CPU jobs: a sum of squares in the process pool"),
        Binding("x", "launch('fail')", "fail", id="launch.fail", group=LAUNCH,
                tooltip="Launch failing tasks: each raises an exception"),
        Binding("b", "launch('block')", "block", id="launch.block", group=LAUNCH,
                tooltip="Block the event loop 1.5 s with time.sleep: the screen freezes, then "
                        "the lag spike names the task"),
        Binding("plus,equals_sign", "batch_size(1)", "batch +", id="batch.bigger", group=BATCH,
                tooltip="Bigger batches: every launch key starts 1, 10, 100 or 1000 tasks"),
        Binding("minus", "batch_size(-1)", "batch -", id="batch.smaller", group=BATCH,
                tooltip="Smaller batches"),
        Binding("colon", "command_bar", "spec", id="command-bar.open",
                tooltip="Open the command bar: any spec (fetch /delay/300 x20 timeout=1), "
                        "set limit=5, clear"),
        Binding("L", "edit_limits", "limits", id="limits.edit",
                tooltip="Change the connection limit, per-host limit, thread and process "
                        "pool sizes while running (opens the command bar on 'set ...')"),
        Binding("c", "cancel_selected", "cancel", id="cancel.one", group=CANCEL,
                tooltip="Cancel the selected task"),
        Binding("C", "cancel_all", "cancel all", id="cancel.all", group=CANCEL,
                tooltip="Cancel everything: every batch, task and scenario"),
        Binding("ctrl+l", "clear_finished", "clear", id="clear",
                tooltip="Clear the finished rows and reset the session totals (also :clear)"),
        Binding("R", "replay", "replay", id="replay",
                tooltip="Measure the last batch's real gain: in a clean process, away from the "
                        "screen, the batch again and then one task after another"),
        Binding("enter", "details", "details", id="details",
                tooltip="Show the selected task's details: timings, traceback, result"),
        Binding("F", "cycle_filter", "filter", id="filter",
                tooltip="Filter the list by state: all, pending, running, done, exception, "
                        "cancelled"),
        Binding("slash", "search", "find", id="search",
                tooltip="Find text in the task list (id, kind, target, state, result); then n "
                        "and N go to the next and previous match"),
        Binding("n", "scenarios", "scenarios", id="scenarios",
                tooltip="Run a teaching scenario (C stops it)"),
        Binding("w", "show_race", "race chart", id="race.show",
                tooltip="Reopen the last race's chart after closing it"),
        Binding("question_mark", "help", "help", id="help",
                tooltip="Help: every key, the spec language, what the figures mean"),
        Binding("q", "app.quit", "quit", id="quit",
                tooltip="Quit: cancel everything and return to the shell"),
    ]
    FOOTER_AT_80 = frozenset(
        {"launch.fetch", "launch.sleep", "launch.cpu", "launch.fail", "launch.block",
         "command-bar.open", "cancel.all", "scenarios", "help", "quit"}
    )
    """The keys the footer keeps when not all of them fit (80 columns)."""

    def __init__(
        self,
        manager: TaskManager,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        scenario_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.manager = manager
        self.batch_size = batch_size
        self.scenario_options = scenario_options or {}
        """Per-scenario option overrides (tests make the slow ones quick)."""
        self.scenario_run: ScenarioRun | None = None
        self._race_shown: ScenarioRun | None = None
        self._titles: dict[str | None, str] = {}
        self._quiet_key: tuple[object, ...] | None = None
        self._sampled: tuple[int, int] | None = None
        """The clock's second and the psutil sample's version at the last sync: the lag line
        and the process figures are redrawn when either moves."""
        self.cadence = PullCadence()
        """How often ``_pull`` runs: 10 Hz, once a second while idle (tui/pull_cadence.py)."""
        self._pull_timer: Timer | None = None
        self._pull_every = REFRESH_S
        self._pacer = FramePacer()
        """When the next pull is due (``_pull``), from what the last frame cost."""
        self._was_quiet = False
        """Whether the last pull found a clean process timing its work (see ``_pull``)."""
        self.race_results: RaceResults | None = None
        """The last race's results: ``w`` reopens its chart after it was closed."""
        self._replay_key = ReplayKey(manager, self.notify)
        """``R``: the last batch replayed in a clean process, and what the screen is told."""
        self.timed_refresh_s: float | None = TIMED_REFRESH_S
        """How often to pull while a clean process times its work; None pulls as usual
        (bench/truth_bench.py measures what that costs, side by side)."""

    def compose(self) -> ComposeResult:
        manager = self.manager
        with Horizontal(id="top"):
            task_list = TaskList(manager, id="task-list")
            task_list.border_title = "Tasks"
            yield task_list
            with Vertical(id="side"):
                gain = GainPanel(manager, id="gain")
                gain.border_title = "Gain"
                yield gain
                system = SystemPanel(manager, id="system")
                system.border_title = "Process & loop"
                yield system
                # wide screens: the log fills the side column under the panels
                yield ScenarioLog(id="scenario-log", classes="scenario-log")
        with Horizontal(id="bottom"):
            timeline = Timeline(manager, id="timeline")
            timeline.border_title = "Timeline"
            yield timeline
            # narrow screens: no room in the side column, so the log sits beside the timeline
            yield ScenarioLog(id="scenario-log-narrow", classes="scenario-log")
        yield CommandBar(id="command-bar")
        status = StatusLine(manager, id="status")
        status.batch_size = self.batch_size
        yield status
        yield KeyFooter(essential=self.FOOTER_AT_80)
        yield NoticeLine(id="notice")  # messages, in the footer's place (tui/notices.py)

    @property
    def clean_replay(self) -> CleanReplay | None:
        """The last ``R``: a replay measured in a clean process (tasks/clean_replay.py)."""
        return self._replay_key.run

    def on_mount(self) -> None:
        self.query_one(TaskList).focus()
        self.sync()
        self._pull_timer = self.set_interval(self._pull_every, self._pull)
        self.manager.on_busy(self._engine_busy)

    def _engine_busy(self, busy: bool) -> None:
        if busy:
            self.wake()

    def wake(self) -> None:
        """Something happened (a batch started, a key was pressed): pull at 10 Hz again."""
        if self.cadence.wake():
            self._retime(self.cadence.interval)

    @property
    def pull_interval(self) -> float:
        """How often the screen pulls from the engine now (seconds)."""
        return self._pull_every

    def _retime(self, interval: float) -> None:
        """Pull every ``interval`` from now on (a new timer: Textual's cannot be changed)."""
        if interval == self._pull_every or self._pull_timer is None:
            return
        self._pull_timer.stop()
        self._pull_every = interval
        self._pull_timer = self.set_interval(interval, self._pull)

    def sync(self, *, force: bool = False) -> None:
        """Pull the engine's changes into every widget, as one screen update.

        ``force`` draws a big live timeline now rather than when its redraw budget allows
        (tests and screenshots draw the final state this way).

        Each widget compares what it would show with what it shows and refreshes only on a
        difference, so an idle dashboard draws nothing (see bench/tui_bench.py's idle figures).
        """
        with self.app.batch_update():
            task_list = self.query_one(TaskList)
            task_list.sync()
            self.query_one(GainPanel).sync()
            self.query_one(SystemPanel).sync()
            self.query_one(StatusLine).sync()
            self._sync_scenario()
            self._replay_key.sync()
            timeline = self.query_one(Timeline)
            timeline.sync(force=force)
            self._set_title(timeline, timeline_title(timeline))
            self._set_title(self.query_one(GainPanel), gain_title(self.manager.last_batch))
            self._set_title(task_list, task_list_title(task_list, len(self.manager.records)))

    def _pull(self) -> None:
        """The 10 Hz timer: while nothing runs and nothing changed, one comparison and out;
        once idle a while, it runs once a second (``PullCadence``).

        A frame of a busy dashboard costs tens of milliseconds: the next pull waits as
        ``FramePacer`` says, so the screen never takes more than about 1/FRAME_BUDGET of the
        loop. Only while more than PACED_ABOVE tasks are live: a few tasks draw at 10 Hz. While a
        clean process times its work (a race lane, ``R``), at most every TIMED_REFRESH_S,
        and not at once when its stopwatch starts: a lane that needs every core then loses a
        few percent of one, not a tenth. (A pull as the stopwatch started, with the lane's new
        rows to lay out, came just as the lane's jobs started: during the 0.2 s processes lane
        the dashboard used 6% of one core with it, 1.5% without, medians of 12 runs.)
        """
        pacer = self._pacer
        start = pacer.clock()
        keep_quiet = STOPWATCHES.timing and self.timed_refresh_s is not None
        if keep_quiet and not self._was_quiet and self.timed_refresh_s is not None:
            # a stopwatch just started: its jobs start now too, so the first pull waits
            pacer.hold(start + self.timed_refresh_s)
        self._was_quiet = keep_quiet
        if not pacer.due(start) and (self.manager.live_count > PACED_ABOVE or keep_quiet):
            return
        busy = self._busy()
        changed = self._changed()
        sampled = (int(self.manager.clock()), self.manager.process.version)
        if busy or changed or sampled != self._sampled:
            self._sampled = sampled
            began = self.manager.clock()
            self.sync()
            self._note_own_work(began, "updating the screen")
            pacer.pulled(start)
            if keep_quiet and self.timed_refresh_s is not None:
                pacer.hold(start + self.timed_refresh_s)
        self._retime(self.cadence.pulled(busy=busy or keep_quiet, changed=changed))

    def _busy(self) -> bool:
        """Something runs that the screen follows: tasks, a batch, a scenario, a replay."""
        manager = self.manager
        run = self.scenario_run
        replay = self.clean_replay
        return bool(
            manager.live_count
            or manager.batches_in_flight
            or (run is not None and not run.done)
            or (replay is not None and not replay.done)
        )

    def _changed(self) -> bool:
        """True when something was done or happened: the engine's version, the spikes, the
        list's sort or filter, a scenario or replay moved on. (A new psutil sample and the lag
        line change once a second however idle: ``_pull`` syncs for them without counting them
        as changes, or the screen would never slow down.)"""
        manager = self.manager
        spikes = manager.lag.spikes
        run = self.scenario_run
        task_list = self.query_one(TaskList)
        key = (
            task_list.sort_column,
            task_list.sort_reverse,
            task_list.search_text,
            task_list.state_filter,
            manager.version,
            manager.history_version,
            len(spikes),
            spikes[-1] if spikes else None,
            None if run is None else (run.context.version, run.done),
            None if self.clean_replay is None else (id(self.clean_replay), self.clean_replay.done),
        )
        if key != self._quiet_key:
            self._quiet_key = key
            return True
        return False

    def _set_title(self, widget: Widget, title: str) -> None:
        """Set a border title only when it changed: every assignment repaints the widget."""
        if self._titles.get(widget.id) != title:
            self._titles[widget.id] = title
            widget.border_title = title

    # --- actions -----------------------------------------------------------------------------

    def launch_text(self, text: str) -> int:
        """Launch a line of specs; returns the number of tasks. Raises SpecError."""
        batch = self.manager.launch(text)
        self.sync()
        return batch.planned

    def action_launch(self, kind: str) -> None:
        self.launch_text(launch_spec(kind, self.batch_size))

    def action_batch_size(self, step: int) -> None:
        self.batch_size = next_batch_size(self.batch_size, step)
        self.query_one(StatusLine).batch_size = self.batch_size

    def action_command_bar(self) -> None:
        self.query_one(CommandBar).open()

    def on_command_bar_submitted(self, event: CommandBar.Submitted) -> None:
        bar = self.query_one(CommandBar)
        try:
            command = parse_command(event.text)
            if command is None:
                text = without_colon(event.text)
                result = f"launched {plural(self.launch_text(text), 'task')}"
            else:
                result = self.run_command(command)
        except SpecError as error:
            bar.show_error(error.message, error.position, error.word)
        except LoopscopeError as error:
            bar.show_error(str(error))
        else:
            bar.show_result(result)

    def run_command(self, command: Command) -> str:
        """Run a command-bar command (``set``, ``clear``); returns what to say."""
        if isinstance(command, SetLimits):
            self.manager.set_limits(**command.changes)
            self.sync()
            return "now " + self._limits_line()
        return self.clear_finished()

    def clear_finished(self) -> str:
        """Drop the finished rows and reset the session totals; says what happened."""
        count = self.manager.clear_finished()
        self.sync()
        return f"cleared {plural(count, 'finished task')}; session totals reset"

    def action_clear_finished(self) -> None:
        self.notify(self.clear_finished())

    def _limits_line(self) -> str:
        m = self.manager
        return set_line(m.connector_limit, m.limit_per_host, m.thread_workers, m.process_workers)

    def action_edit_limits(self) -> None:
        self.query_one(CommandBar).open(self._limits_line())

    def action_cancel_selected(self) -> None:
        record = self.query_one(TaskList).selected
        if record is None:
            self.notify("no task selected", severity="warning")
        elif not self.manager.cancel(record.id):
            self.notify(f"task #{record.id} has already ended ({record.state.value})")

    def action_cancel_all(self) -> None:
        run = self.scenario_run
        stopping = run is not None and not run.done
        count = self.manager.cancel_all()
        cancelled = f"cancelled {plural(count, 'task')}"
        if run is not None and stopping:
            also = f"; {cancelled}" if count else ""
            self.notify(f"scenario {run.scenario.name} stopped{also}")
        else:
            self.notify(cancelled)

    def action_replay(self) -> None:
        """``R``: the last batch measured again in a clean process (tui/replay_key.py)."""
        if self._replay_key.start():
            self.sync()

    def action_details(self, record: TaskRecord | None = None) -> None:
        record = record or self.query_one(TaskList).selected
        if record is not None:
            self.app.push_screen(DetailScreen(self.manager, record))

    def on_task_list_selected(self, event: TaskList.Selected) -> None:
        self.action_details(self.manager.get(event.task_id))

    def action_cycle_filter(self) -> None:
        task_list = self.query_one(TaskList)
        index = FILTERS.index(task_list.state_filter)
        task_list.state_filter = FILTERS[(index + 1) % len(FILTERS)]
        self.query_one(StatusLine).state_filter = task_list.state_filter
        self.sync()

    def action_search(self) -> None:
        task_list = self.query_one(TaskList)
        self.app.push_screen(SearchScreen(task_list.search_text), self._search)

    def _search(self, text: str | None) -> None:
        """Find ``text``; an empty search, or escape (``None``), clears the search, so the
        title loses ``/text`` and ``n`` opens the scenarios again."""
        text = text or ""
        task_list = self.query_one(TaskList)
        if not task_list.search(text) and text.strip():
            self.notify(f"no task matches {text.strip()!r}", severity="warning")
        self.sync()

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(dashboard_sections(type(self))))

    # --- scenarios ---------------------------------------------------------------------------

    def action_scenarios(self) -> None:
        self.app.push_screen(
            ScenarioPicker(
                self.manager, running=lambda: self.scenario_run, start=self.start_scenario
            ),
            self.start_scenario,
        )

    def start_scenario(self, name: str | None) -> None:
        if name is None:
            return
        stopped = ""
        if self.scenario_run is not None and not self.scenario_run.done:
            self.scenario_run.task.cancel()  # one at a time: say so, never silently
            stopped = f"scenario {self.scenario_run.scenario.name} stopped: {name} started. "
        self.scenario_run = start_scenario(
            self.manager, name, **self.scenario_options.get(name, {})
        )
        for log in self.query(ScenarioLog):
            log.follow(self.scenario_run)
        self.notify(
            f"{stopped}scenario {name}: {self.scenario_run.scenario.title}. C stops it."
        )

    def action_show_race(self) -> None:
        """Reopen the last race's chart (it closes with escape; the results stay)."""
        if self.race_results is not None:
            self.app.push_screen(RaceScreen(self.race_results))
        else:
            self.notify("run the race scenario first (n, then race)", severity="warning")

    def _sync_scenario(self) -> None:
        run = self.scenario_run
        if run is None:
            return
        for log in self.query(ScenarioLog):
            log.sync()
        race = run.context.data.get("race")
        if run.done and isinstance(race, RaceResults) and self._race_shown is not run:
            self._race_shown = run
            self.race_results = race
            self.app.push_screen(RaceScreen(race))
