"""The ``loopscope`` command: the dashboard by default, or a headless run, or the demo server.

Textual is imported only when the dashboard opens, so ``loopscope run`` starts quickly.
Every user error is one line on stderr and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from loopscope import __version__
from loopscope.tasks.errors import KindFileError, SpecError
from loopscope.tasks.options import EngineOptions, OptionError
from loopscope.tasks.safe_text import fit_stream
from loopscope.tasks.secrets import mask_text, shorten
from loopscope.tasks.spec import MAX_REPEAT, TaskSpec, check_launch_size, parse_specs
from loopscope.tasks.stopping import Stopped, run_until_stopped
from loopscope.tasks.watch.supervisor import GRACE_S

if TYPE_CHECKING:
    from loopscope.tasks.kinds.kind import Kind

PROG = "loopscope"

SPEC_HELP_HEAD = f"""\
the spec language:
  KIND ARGS [xN] [key=value ...]     several specs on one line are separated by ';'
  xN runs N copies (1 to {MAX_REPEAT:,} in one launch). A URL starting with / goes to the
  embedded demo server on 127.0.0.1 (routes: /delay/MS or /delay/MIN-MAX, /status/CODE,
  /bytes/N, /sensor/ID, /users/ID, /orders/ID, /flaky?p=0.3).

"""

SPEC_HELP_TAIL = """

your own kinds: --kinds FILE loads async functions declared with @kind (examples/my_kinds.py).
secrets: auth=env:NAME and header=Name:env:NAME read credentials from the environment.

examples:
  loopscope                                   open the dashboard
  loopscope run "fetch /delay/200 x100" --json
  loopscope run "cpu 3000000 x4 in=thread" --sequential   (see the estimate lie)
  loopscope run "fetch /delay/100 x50" --limit 5          (ten waves of five)
  loopscope run --kinds examples/my_kinds.py "orders 7 x10 retries=1"
  loopscope demo-server --port 8080
  loopscope scenarios                         the teaching scenarios
  loopscope run --scenario race --json        one, run to completion

figures: "sequential_estimate_s" and "speedup" are ESTIMATES (summed task durations);
"measured_sequential_s" and "measured_speedup" come from --sequential, a real replay."""

_SPEC_HELP = "\0the spec language"
"""Stands for the spec help in an epilog until help is printed (listing kinds imports them)."""


def spec_help() -> str:
    """The spec language, one usage line and one help line per kind, from the registry."""
    from loopscope.tasks.kinds.registry import all_kinds

    kinds = "\n".join(f"  {kind.usage}\n      {kind.help}" for kind in all_kinds())
    return SPEC_HELP_HEAD + kinds + SPEC_HELP_TAIL


class _Parser(argparse.ArgumentParser):
    def format_help(self) -> str:
        if self.epilog == _SPEC_HELP:
            self.epilog = spec_help()
        return super().format_help()


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("expected 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="A terminal dashboard that makes Python concurrency visible. With no "
        "command it opens the dashboard.",
        epilog=_SPEC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_kinds_option(parser)
    _add_engine_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run specs as one concurrent batch and print every task and the gain",
        description="Run SPECs as one concurrent batch (the demo server included) and print "
        "a table, or JSON, of every task and the summary. Exit 0 when the batch ran, even if "
        "tasks failed; 2 on a malformed spec.",
        epilog=_SPEC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("specs", nargs="*", metavar="SPEC", help='e.g. "fetch /delay/200 x100"')
    run.add_argument(
        "--scenario", metavar="NAME",
        help="run a teaching scenario to completion instead of SPECs (see `loopscope scenarios`)",
    )
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_kinds_option(run)
    run.add_argument(
        "--sequential",
        action="store_true",
        help="also replay the batch one task after another and report the MEASURED speedup",
    )
    _add_engine_options(run)

    commands.add_parser(
        "scenarios",
        help="list the teaching scenarios",
        description="List the teaching scenarios, each with what it shows. Run one with "
        "`loopscope run --scenario NAME`, or press n in the dashboard.",
    )

    _add_watch_commands(commands)

    demo = commands.add_parser(
        "demo-server",
        help="run the embedded demo HTTP server alone",
        description="Serve the demo routes until Ctrl-C. Binds 127.0.0.1 unless --host says "
        "otherwise.",
    )
    demo.add_argument("--port", type=_positive, default=8080, help="port (0: any free one)")
    demo.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    return parser


def _add_watch_commands(commands: Any) -> None:
    watch = commands.add_parser(
        "watch",
        help="run your own asyncio program under the agent and watch its tasks",
        description="Run SCRIPT (or -m MODULE) with this Python under loopscope's agent and "
        "open the dashboard on it; with --json, run it to the end and print one JSON report "
        "(its output goes to stderr). Exit status: the program's (128+N if signal N ended "
        "it), 124 when --timeout stopped it, 2 on bad usage.",
    )
    watch.add_argument("--json", action="store_true", help="no dashboard: run to the end, "
                       "print the report")
    watch.add_argument("--timeout", type=float, metavar="SECONDS",
                       help="with --json: stop the program after this long (SIGINT, SIGTERM, "
                       "SIGKILL)")
    watch.add_argument("--grace", type=float, default=GRACE_S, metavar="SECONDS",
                       help="when stopping the program: how long it gets after SIGINT, and "
                       f"again after SIGTERM, before the next signal (default {GRACE_S:g})")
    watch.add_argument("-m", dest="module", metavar="MODULE", help="run a module, as python -m")
    watch.add_argument("target", nargs=argparse.REMAINDER, metavar="SCRIPT [ARGS]")

    attach = commands.add_parser(
        "attach",
        help="watch a program that runs loopscope.agent.install()",
        description="Connect to the agent of a running program (unix:PATH, or "
        "127.0.0.1:PORT with --token) and open the dashboard; --json prints one snapshot.",
    )
    attach.add_argument("address", metavar="ADDRESS")
    attach.add_argument("--token", help="the token a TCP agent printed (or LOOPSCOPE_TOKEN)")
    attach.add_argument("--json", action="store_true", help="print a JSON snapshot and leave")
    attach.add_argument("--seconds", type=float, default=1.0,
                        help="with --json: how long to gather batches (default 1)")


def _add_kinds_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kinds", action="append", metavar="FILE", default=argparse.SUPPRESS,
        help="load your own kinds from a Python file (see examples/my_kinds.py); may repeat",
    )


def _load_kinds(args: argparse.Namespace) -> list[Kind[Any]]:
    """The user's kinds, registered; KindFileError says in one line what went wrong."""
    paths = getattr(args, "kinds", [])
    if not paths:
        return []
    from loopscope.tasks.kinds.loader import load_kinds_files

    return load_kinds_files(paths)


def _shown(text: str) -> str:
    """A line the user typed, as an error may quote it: short, secrets masked."""
    return repr(shorten(mask_text(shorten(text, 400)), 60))


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("engine")
    group.add_argument(
        "--limit", type=_positive, default=argparse.SUPPRESS,
        help="connector limit: connections open at once (default 100, 0 = none)",
    )
    group.add_argument(
        "--per-host", type=_positive, default=argparse.SUPPRESS,
        help="connections per host (default 0 = no limit beyond --limit)",
    )
    group.add_argument(
        "--workers", type=_positive, default=argparse.SUPPRESS,
        help="thread-pool workers for thread jobs and file I/O (default 32, at least 1)",
    )
    group.add_argument(
        "--processes", type=_positive, default=argparse.SUPPRESS,
        help="process-pool workers for cpu jobs (default: the number of cores, at least 1)",
    )
    group.add_argument(
        "--step-timing", action="store_true", default=argparse.SUPPRESS,
        help="time every step of loopscope's own tasks (busy time, steps); slows small tasks",
    )


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    fit_stream(sys.stdout)  # an ASCII-only stdout gets "-" for "–", never a UnicodeEncodeError
    fit_stream(sys.stderr)
    try:
        return _main(argv)
    except BrokenPipeError:  # `loopscope ... | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "demo-server":
        return _demo_server(args)
    if args.command == "scenarios":
        return _list_scenarios()
    if args.command == "watch":
        from loopscope.tui.watch_cli import watch

        return watch(args)
    if args.command == "attach":
        from loopscope.tui.watch_cli import attach

        return attach(args)
    return _dashboard(args)


def _engine_options(args: argparse.Namespace) -> EngineOptions:
    """The engine options the command line gives (OptionError on a value out of range)."""
    mapping = {
        "limit": "connector_limit",
        "per_host": "limit_per_host",
        "workers": "thread_workers",
        "processes": "process_workers",
        "step_timing": "step_timing",
    }
    return EngineOptions(
        **{name: getattr(args, option) for option, name in mapping.items() if hasattr(args, option)}
    )


def _list_scenarios() -> int:
    from loopscope.tasks.scenarios import SCENARIOS

    for scenario in SCENARIOS.values():
        print(f"{scenario.name:10} {scenario.title}")
        print(textwrap.fill(scenario.explanation, width=88, initial_indent=" " * 11,
                            subsequent_indent=" " * 11))
        print()
    return 0


def _run(args: argparse.Namespace) -> int:
    from loopscope.tasks.headless import run_scenario, run_specs
    from loopscope.tasks.report import render_text, summary_lines

    try:
        options = _engine_options(args)
    except OptionError as error:
        return _fail(str(error))

    if args.scenario is not None:
        from loopscope.tasks.scenarios import SCENARIOS

        if args.specs:
            return _fail("give SPECs or --scenario, not both")
        if args.scenario not in SCENARIOS:
            return _fail(f"no scenario {args.scenario!r}; choose one of {', '.join(SCENARIOS)}")
        try:
            report = run_until_stopped(run_scenario(args.scenario, options))
        except Stopped as stopped:
            return _stopped(stopped)
        text = "\n".join([*report["log"], "", *summary_lines(report)])
        return _emit(report, text, as_json=args.json)
    if not args.specs:
        return _fail("give at least one SPEC, or --scenario NAME")
    try:
        _load_kinds(args)
    except KindFileError as error:
        return _fail(str(error))
    specs: list[TaskSpec] = []
    for text in args.specs:
        try:
            specs.extend(parse_specs(text))
        except SpecError as error:
            return _fail(f"bad spec {_shown(text)}: {error}")
    try:
        check_launch_size(specs)
    except SpecError as error:
        return _fail(str(error))
    try:
        report = run_until_stopped(run_specs(specs, options, sequential=args.sequential))
    except Stopped as stopped:
        return _stopped(stopped)
    return _emit(report, render_text(report), as_json=args.json)


def _stopped(stopped: Stopped) -> int:
    """A run stopped by Ctrl-C, SIGTERM or SIGHUP: everything was closed; say so in a line."""
    what = "interrupted" if stopped.signum == signal.SIGINT else f"stopped by {stopped}"
    print(f"{PROG}: {what}", file=sys.stderr)
    return stopped.exit_status


def _emit(report: dict[str, Any], text: str, *, as_json: bool) -> int:
    for notice in report.get("notices", []):  # said once, not once per failed task
        print(f"{PROG}: {notice}", file=sys.stderr)
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")  # one write, not one per token
    else:
        print(text)
    sys.stdout.flush()
    return 0


def _demo_server(args: argparse.Namespace) -> int:
    from loopscope.tasks.demo_server import serve_forever

    try:
        asyncio.run(serve_forever(args.host, args.port))
    except KeyboardInterrupt:
        return 0
    except OSError as error:
        return _fail(f"cannot serve on {args.host}:{args.port}: {error.strerror or error}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    try:
        from loopscope.tui.app import make_app
    except ImportError:  # the dashboard is not built yet
        build_parser().print_help()
        return 0
    try:
        kinds = _load_kinds(args)
        options = _engine_options(args)
    except (KindFileError, OptionError) as error:
        return _fail(str(error))
    app = make_app(options=options, kinds=kinds)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    raise SystemExit(main())
