"""Start the agent: ``install()`` inside a program, or ``python -m loopscope.agent`` around one.

``python -m loopscope.agent [--connect ADDR | --listen ADDR] [--token T] script.py [ARGS]``
(or ``-m module [ARGS]``) runs the program as Python would (``sys.argv``, ``__main__``,
``sys.path[0]``) with the agent installed first. Without ``--connect``/``--listen`` the
environment variable ``LOOPSCOPE_AGENT`` decides (``listen:ADDR`` or ``connect:ADDR``), and
without it the agent listens on a private Unix socket whose address it prints on stderr.

``loopscope.agent.install()`` is the one-line opt-in for a long-running program; it reads
the same variable. ``LOOPSCOPE_KEEP_FINISHED`` (default 10,000) bounds the finished tasks
kept; ``LOOPSCOPE_STUCK_S`` (default 10) is how long a task may wait on one line before the
"stuck" warning. A TCP listener (loopback only) needs a token: ``LOOPSCOPE_TOKEN`` or one
it makes up and prints. The exit status of ``python -m loopscope.agent`` is the program's.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from loopscope.tasks.agent.address import (
    AddressError,
    new_token,
    parse_address,
    private_socket_path,
)
from loopscope.tasks.agent.recorder import Recorder
from loopscope.tasks.agent.sender import AgentError, Sender

ENV_ADDRESS = "LOOPSCOPE_AGENT"
ENV_TOKEN = "LOOPSCOPE_TOKEN"
ENV_STUCK = "LOOPSCOPE_STUCK_S"
ENV_KEEP = "LOOPSCOPE_KEEP_FINISHED"
USAGE = (
    "usage: python -m loopscope.agent [--connect ADDR | --listen ADDR] [--token TOKEN] "
    "(script.py | -m module) [ARGS...]"
)


@dataclass
class Agent:
    """The agent running in this process."""

    recorder: Recorder
    sender: Sender
    status: dict[str, Any]
    address: str | None = None
    """Where it listens (for ``loopscope attach``), when it listens."""
    token: str | None = None

    def exited(self, code: int, error: str | None = None) -> None:
        """Record how the program ended; the final batch goes out at interpreter exit."""
        self.status["exit_code"] = code
        if error:
            self.status["error"] = error
        self.status["state"] = "exited"


_agent: Agent | None = None


def install(address: str | None = None, *, token: str | None = None, connect: bool = False,
            quiet: bool = False) -> Agent:
    """Start watching this process's event loops (idempotent; never raises into the program
    for a bad environment: it prints one line on stderr and watches nothing).

    ``address`` (else ``LOOPSCOPE_AGENT``, else a private Unix socket) is where to listen, or
    where to connect with ``connect=True`` (``connect:ADDR`` in the variable).
    """
    global _agent
    if _agent is not None:
        return _agent
    mode = "connect" if connect else "listen"
    if address is None:
        spec = os.environ.get(ENV_ADDRESS, "")
        for prefix in ("listen:", "connect:"):
            if spec.startswith(prefix):
                mode, spec = prefix[:-1], spec[len(prefix):]
        address = spec or None
    status: dict[str, Any] = {
        "state": "running", "pid": os.getpid(), "argv": list(sys.argv),
        "python": sys.version.split()[0], "exit_code": None, "error": None,
    }
    stuck = _float_env(ENV_STUCK, 10.0)
    keep = max(0, int(_float_env(ENV_KEEP, 10_000)))
    recorder = Recorder(stuck_s=stuck, keep_finished=keep)
    token = token or os.environ.get(ENV_TOKEN) or None
    sender = Sender(recorder, status=status, token=token)
    agent = Agent(recorder, sender, status)
    try:
        if mode == "connect":
            if address is None:
                raise AgentError("connect: needs an address")
            sender.connect(address)
        else:
            if address:
                where = parse_address(address)
            else:
                where = parse_address(private_socket_path())
                sender.made_directory = os.path.dirname(where.path or "")
            if where.kind == "tcp" and not token:
                sender.token = token = new_token()
            bound = sender.listen(where)
            agent.address, agent.token = str(bound), token
            if not quiet:
                hint = f" --token {token}" if bound.kind == "tcp" else ""
                print(f"loopscope agent: listening on {bound} "
                      f"(loopscope attach {bound}{hint})", file=sys.stderr, flush=True)
    except (AgentError, AddressError) as error:
        print(f"loopscope agent: {error}; not watching", file=sys.stderr, flush=True)
        return agent
    recorder.install()
    sender.start()
    _agent = agent
    return agent


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _parse(argv: list[str]) -> tuple[dict[str, str], str | None, str | None, list[str]] | str:
    options: dict[str, str] = {}
    rest = list(argv)
    while rest:
        head = rest[0]
        if head in ("--connect", "--listen", "--token"):
            if len(rest) < 2:
                return f"{head} needs a value"
            options[head[2:]] = rest[1]
            del rest[:2]
        elif head.startswith(("--connect=", "--listen=", "--token=")):
            name, _, value = head[2:].partition("=")
            options[name] = value
            del rest[0]
        elif head == "-m":
            if len(rest) < 2:
                return "-m needs a module name"
            return options, None, rest[1], rest[2:]
        elif head in ("-h", "--help"):
            return USAGE
        elif head.startswith("-"):
            return f"unknown option {head}"
        else:
            return options, head, None, rest[1:]
    return "give a script or -m module"


def main(argv: list[str] | None = None) -> int:
    parsed = _parse(sys.argv[1:] if argv is None else argv)
    if isinstance(parsed, str):
        print(USAGE if parsed == USAGE else f"loopscope agent: {parsed}\n{USAGE}",
              file=sys.stderr)
        return 0 if parsed == USAGE else 2
    options, script, module, args = parsed
    if "connect" in options and "listen" in options:
        print("loopscope agent: give --connect or --listen, not both", file=sys.stderr)
        return 2
    if script is not None and not os.path.exists(script):
        print(f"loopscope agent: can't open file {script!r}: no such file", file=sys.stderr)
        return 2
    connect = "connect" in options
    agent = install(options.get("connect") or options.get("listen"), token=options.get("token"),
                    connect=connect)
    return run_program(agent, script, module, args)


def run_program(agent: Agent, script: str | None, module: str | None, args: list[str]) -> int:
    """Run the program as ``python script.py`` / ``python -m module`` would; its exit status."""
    if script is not None:
        sys.argv = [script, *args]
        sys.path[0] = os.path.dirname(os.path.realpath(script))
    else:
        sys.argv = [module or "", *args]
        sys.path[0] = os.getcwd()
    agent.status["argv"] = list(sys.argv)
    error: str | None = None
    try:
        if script is not None:
            runpy.run_path(script, run_name="__main__")
        else:
            runpy.run_module(module or "", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:
        code = _exit_code(exit_.code)
    except KeyboardInterrupt:
        _print_program_traceback()
        code, error = 130, "KeyboardInterrupt"
    except BaseException as exc:
        _print_program_traceback()
        code, error = 1, f"{type(exc).__name__}: {exc}"
    agent.exited(code, error)
    return code


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _print_program_traceback() -> None:
    """The traceback as Python prints it for a script: without runpy's and the agent's frames."""
    kind, value, tb = sys.exc_info()
    here = (os.path.dirname(runpy.__file__ or ""), os.path.dirname(__file__))
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(here):
        tb = tb.tb_next
    traceback.print_exception(kind, value, tb)
    sys.stderr.flush()
