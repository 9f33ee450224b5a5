"""The agent's overhead: a program's run time under the agent over its plain run, with
``loopscope watch --json`` and with the dashboard attached.

Three programs, each run plainly (``python prog.py``), under ``python -m loopscope watch --json
prog.py``, and under the dashboard (the watch app, headless through Textual's ``run_test`` in
this process, 160x50: it starts the program under the agent, receives every batch and draws
its panels as ``loopscope watch prog.py`` does in a terminal), in rounds: each round runs the
three once (in an order that turns round by round), and a ratio is taken within its round;
the figure is the median of ``--repeats`` rounds' ratios (11 by default: the plain (b)'s own
runs spread 17-50% within one bench on these machines, and 7 rounds' medians moved by more than
the 5% the verdict needs), after one warm-up round:

  (a) 5,000 aiohttp requests (GET /delay/0, gather, connector limit 100, warmed) to the demo
      server running in its own process;
  (b) 100,000 tasks that each ``await asyncio.sleep(0)`` (gathered in chunks of 10,000);
  (c) a million ``loop.call_soon`` callbacks.

Per program and way of watching: the workload's wall time measured inside the program (what
the program experiences: the same perf_counter bracket in every run; the target, <= 1.15x of
the plain run; the rounds' lowest and highest ratios beside it show how much the machine
moved), the process's CPU time over the same bracket (the agent's thread included;
steadier than wall time on a shared machine), and, for ``--json``, the whole command's wall
time (start-up, the agent's connection, the final flush and the report included). The
program writes its figures to the file named by its last argument.

``LOOPSCOPE_PURE_PYTHON=1`` in the environment measures the agent's pure-Python hooks (what
runs where the C hot path could not be built).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from loopscope.tasks.agent.recorder import PURE_PYTHON_ENV

TARGET = 1.15

PROGRAMS = {
    "(a) 5,000 aiohttp requests": """
        import asyncio, json, sys, time
        import aiohttp
        async def main(base):
            connector = aiohttp.TCPConnector(limit=100)
            async with aiohttp.ClientSession(connector=connector) as session:
                async def get():
                    async with session.get(base + "/delay/0") as response:
                        await response.read()
                await asyncio.gather(*(get() for _ in range(200)))  # warm the connections
                start, cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(*(get() for _ in range(5000)))
                return time.perf_counter() - start, time.process_time() - cpu
        wall, cpu = asyncio.run(main(sys.argv[1]))
        with open(sys.argv[-1], "w") as out:
            out.write(json.dumps({"workload_s": wall, "cpu_s": cpu}))
    """,
    "(b) 100,000 tasks x sleep(0)": """
        import asyncio, json, sys, time
        async def one():
            await asyncio.sleep(0)
        async def main():
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(10):
                await asyncio.gather(*(one() for _ in range(10_000)))
            return time.perf_counter() - start, time.process_time() - cpu
        wall, cpu = asyncio.run(main())
        with open(sys.argv[-1], "w") as out:
            out.write(json.dumps({"workload_s": wall, "cpu_s": cpu}))
    """,
    "(c) 1,000,000 call_soon": """
        import asyncio, json, sys, time
        async def main():
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            left = [1_000_000]
            def callback():
                left[0] -= 1
                if not left[0]:
                    done.set_result(None)
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(1_000_000):
                loop.call_soon(callback)
            await done
            return time.perf_counter() - start, time.process_time() - cpu
        wall, cpu = asyncio.run(main())
        with open(sys.argv[-1], "w") as out:
            out.write(json.dumps({"workload_s": wall, "cpu_s": cpu}))
    """,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the demo server did not start on port {port}")


Run = tuple[float, float, float]
"""(workload seconds as the program measured it, the program's CPU seconds for it (its
agent thread included), wall seconds of the whole run)."""


def figures(out: Path) -> tuple[float, float]:
    written = json.loads(out.read_text())
    out.unlink()
    return float(written["workload_s"]), float(written["cpu_s"])


def run_command(command: list[str], out: Path) -> Run:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return (*figures(out), wall)


async def run_dashboard(args: list[str]) -> float:
    """The program under the dashboard: the watch app, headless, until the program exits
    (the app keeps drawing meanwhile, as it would in a terminal)."""
    from loopscope.tui.watch_app import make_watch_app, program_session

    session = program_session(args)
    program = session.program
    assert program is not None
    app = make_watch_app(session)
    start = time.perf_counter()
    async with app.run_test(size=(160, 50)):
        deadline = time.monotonic() + 600
        while program.exit_status is None:
            if time.monotonic() > deadline:
                raise SystemExit("the watched program did not finish")
            # A plain sleep, not ``pilot.pause``: that walks every widget and forces a screen
            # update each time (20 a second here), which a terminal never does; it made the
            # dashboard's own process take several times its share beside the program.
            await asyncio.sleep(0.05)
        wall = time.perf_counter() - start
    code = program.exit_status.returncode
    if code != 0:
        raise SystemExit(f"{' '.join(args)} failed under the dashboard (exit status {code})")
    return wall


def medians(runs: list[Run]) -> tuple[float, float, float]:
    work, cpu, wall = (statistics.median(run[i] for run in runs) for i in range(3))
    return work, cpu, wall


def paired(side: list[Run], plain: list[Run], field: int) -> list[float]:
    """Each round's figure for ``side`` over the plain program's in the same round."""
    return [run[field] / base[field] for run, base in zip(side, plain, strict=True)]


def spread(values: list[float]) -> float:
    """How far apart the slowest and fastest of ``values`` are, over their median."""
    return (max(values) - min(values)) / statistics.median(values)


def main(repeats: int, only: str = "") -> int:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "loopscope", "demo-server", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    missed = 0
    try:
        wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as folder:
            hooks = "pure-Python hooks" if os.environ.get(PURE_PYTHON_ENV) else "C hot path"
            print(f"agent overhead ({hooks}): the program under `loopscope watch --json` and "
                  f"under the dashboard / plain python in the same round, median of {repeats} "
                  f"rounds; target <= {TARGET:.2f}x", flush=True)
            for title, source in PROGRAMS.items():
                if only and not any(f"({key})" in title for key in only):
                    continue
                path = Path(folder) / "prog.py"
                path.write_text(textwrap.dedent(source))
                out = Path(folder) / "figures.json"
                args = [str(path), base, str(out)] if "aiohttp" in title else [str(path), str(out)]
                plain_cmd = [sys.executable, *args]
                json_cmd = [sys.executable, "-m", "loopscope", "watch", "--json", *args]
                runs: dict[str, list[Run]] = {"plain": [], "json": [], "dashboard": []}
                sides = list(runs)
                for round_no in range(repeats + 1):
                    # Each round runs every side once, in an order that turns round by round,
                    # and each side's ratio is taken within its round: the machine's speed
                    # drifts by tens of percent within a minute, and a ratio of two runs
                    # seconds apart is steadier than one of medians taken over the whole run.
                    # Round 0 warms the disk cache and the interpreter's files, and is dropped.
                    turn = round_no % len(sides)
                    for side in sides[turn:] + sides[:turn]:
                        if side == "plain":
                            run = run_command(plain_cmd, out)
                        elif side == "json":
                            run = run_command(json_cmd, out)
                        else:
                            wall = asyncio.run(run_dashboard(args))
                            run = (*figures(out), wall)
                        if round_no:
                            runs[side].append(run)
                work_p, _, wall_p = medians(runs["plain"])
                spread_p = spread([run[0] for run in runs["plain"]])
                print(f"{title:30} plain workload {work_p * 1000:6.0f} ms  "
                      f"(its own runs spread {spread_p:.0%})", flush=True)
                for side, label in (("json", "watch --json"), ("dashboard", "dashboard")):
                    work, _, wall = medians(runs[side])
                    ratios = paired(runs[side], runs["plain"], 0)
                    ratio = statistics.median(ratios)
                    cpu_ratio = statistics.median(paired(runs[side], runs["plain"], 1))
                    missed += ratio > TARGET
                    whole = (f"  whole command {wall_p:.2f} -> {wall:.2f} s {wall / wall_p:.2f}x"
                             if side == "json" else "")
                    print(f"    {label:14} workload {work * 1000:6.0f} ms  ratio {ratio:.2f}x "
                          f"[{'ok' if ratio <= TARGET else 'MISSED'}]  rounds "
                          f"{min(ratios):.2f}-{max(ratios):.2f}x  cpu {cpu_ratio:.2f}x"
                          f"{whole}", flush=True)
    finally:
        server.terminate()
        server.wait(5)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; the whole-command ratio "
          "includes loopscope's own start-up and the report")
    return 1 if missed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11,
                        help="rounds per program, after one warm-up round (default: 11)")
    parser.add_argument("--only", default="", help="the programs to run, e.g. bc (default: all)")
    options = parser.parse_args()
    raise SystemExit(main(options.repeats, options.only))
