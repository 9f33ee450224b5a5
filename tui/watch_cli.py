"""``loopscope watch`` and ``loopscope attach``: the headless forms here, the dashboard's in
``watch_app`` (imported only when it opens, so ``--json`` never loads textual)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

PROG = "loopscope"
TIMEOUT_STATUS = 124
"""Like timeout(1): the program was stopped because --timeout ran out."""


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 2


def _print_json(report: dict[str, Any]) -> None:
    # One write: json.dump writes each token on its own (8 million writes, 20 s, for a
    # report of 50,000 tasks; json.dumps builds it in memory first).
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    sys.stdout.flush()


def watch(args: argparse.Namespace) -> int:
    target: list[str] = list(args.target)
    module = args.module is not None
    if module:
        target = [args.module, *target]
    elif not target:
        return _fail("watch: give a script (or -m module) to run")
    elif not os.path.isfile(target[0]):
        return _fail(f"watch: no such file: {target[0]}")
    if args.timeout is not None and args.timeout <= 0:
        return _fail("watch: --timeout must be more than 0")
    if not args.grace > 0:
        return _fail("watch: --grace must be more than 0")
    if not args.json:
        try:
            from loopscope.tui.watch_app import run_watch
        except ImportError:
            return _fail("watch: the dashboard is not built yet; use --json")
        return run_watch(target, module=module, grace_s=args.grace)
    from loopscope.tasks.agent.headless import watch_headless

    try:
        report, code = asyncio.run(watch_headless(target, module=module, timeout=args.timeout,
                                                  grace=args.grace))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; the program was stopped", file=sys.stderr)
        return 130
    _print_json(report)
    if report["program"].get("stopped_by") == "timeout":
        return TIMEOUT_STATUS
    return code


async def _say_hello(address: str, token: str | None) -> None:
    """Connect to the agent, hear its hello and hang up (it takes the next viewer)."""
    from loopscope.tasks.agent.viewer import connect

    connection = await connect(address, token)
    await connection.close()


def attach(args: argparse.Namespace) -> int:
    from loopscope.tasks.agent.address import AddressError, parse_address

    token = args.token or os.environ.get("LOOPSCOPE_TOKEN")
    try:
        parse_address(args.address)
    except AddressError as error:
        return _fail(f"attach: {error}")
    from loopscope.tasks.agent.wire import ProtocolError

    if not args.json:
        try:
            from loopscope.tui.watch_app import run_attach
        except ImportError:
            return _fail("attach: the dashboard is not built yet; use --json")
        try:  # a wrong address or token is one line here, not an empty dashboard
            asyncio.run(_say_hello(args.address, token))
        except (OSError, ProtocolError, TimeoutError, EOFError) as error:
            return _fail(f"attach: cannot reach an agent at {args.address}: {error}")
        return run_attach(args.address, token)
    from loopscope.tasks.agent.headless import attach_snapshot

    try:
        report = asyncio.run(attach_snapshot(args.address, token, args.seconds))
    except (OSError, ProtocolError, TimeoutError, EOFError) as error:
        return _fail(f"attach: cannot reach an agent at {args.address}: {error}")
    _print_json(report)
    return 0
