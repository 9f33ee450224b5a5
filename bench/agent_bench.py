"""The agent's overhead: a program's run time under ``loopscope watch --json`` over its plain run.

Three programs, each run plainly (``python prog.py``) and under the agent
(``python -m loopscope watch --json prog.py``), alternately, median of ``--repeats`` runs:

  (a) 5,000 aiohttp requests (GET /delay/0, gather, connector limit 100, warmed) to the demo
      server running in its own process;
  (b) 100,000 tasks that each ``await asyncio.sleep(0)`` (gathered in chunks of 10,000);
  (c) a million ``loop.call_soon`` callbacks.

Three ratios per program: the workload's wall time measured inside the program (what the
program experiences: the same perf_counter bracket in both runs; the target, <= 1.15x), the
process's CPU time over the same bracket (the agent's thread included; steadier than wall
time on a shared machine), and the whole command's wall time (start-up, the agent's
connection, the final flush and the report included).
"""

from __future__ import annotations

import argparse
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
        print(json.dumps({"workload_s": wall, "cpu_s": cpu}))
    """,
    "(b) 100,000 tasks x sleep(0)": """
        import asyncio, json, time
        async def one():
            await asyncio.sleep(0)
        async def main():
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(10):
                await asyncio.gather(*(one() for _ in range(10_000)))
            return time.perf_counter() - start, time.process_time() - cpu
        wall, cpu = asyncio.run(main())
        print(json.dumps({"workload_s": wall, "cpu_s": cpu}))
    """,
    "(c) 1,000,000 call_soon": """
        import asyncio, json, time
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
        print(json.dumps({"workload_s": wall, "cpu_s": cpu}))
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


def run_once(command: list[str]) -> tuple[float, float, float]:
    """(workload seconds as the program measured it, the program's CPU seconds for it (its
    agent thread included), wall seconds of the whole command)."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    if "watch" in command:
        report = json.loads(done.stdout)
        tail = report["output"]["tail"]
        line = next(line for line in reversed(tail) if line.startswith("{"))
    else:
        line = done.stdout.strip().splitlines()[-1]
    figures = json.loads(line)
    return float(figures["workload_s"]), float(figures["cpu_s"]), wall


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
            print(f"agent overhead: program under `loopscope watch --json` / plain python, "
                  f"median of {repeats}; target <= {TARGET:.2f}x", flush=True)
            for title, source in PROGRAMS.items():
                if only and not any(f"({key})" in title for key in only):
                    continue
                path = Path(folder) / "prog.py"
                path.write_text(textwrap.dedent(source))
                args = [str(path), base] if "aiohttp" in title else [str(path)]
                plain_cmd = [sys.executable, *args]
                watch_cmd = [sys.executable, "-m", "loopscope", "watch", "--json", *args]
                plain: list[tuple[float, float, float]] = []
                watched: list[tuple[float, float, float]] = []
                for _ in range(repeats):  # alternate, so drift hits both sides alike
                    plain.append(run_once(plain_cmd))
                    watched.append(run_once(watch_cmd))
                work_p, cpu_p, wall_p = (statistics.median(run[i] for run in plain)
                                         for i in range(3))
                work_w, cpu_w, wall_w = (statistics.median(run[i] for run in watched)
                                         for i in range(3))
                ratio = work_w / work_p
                missed += ratio > TARGET
                print(
                    f"{title:30} workload {work_p * 1000:6.0f} -> {work_w * 1000:6.0f} ms "
                    f"ratio {ratio:.2f}x [{'ok' if ratio <= TARGET else 'MISSED'}]  "
                    f"cpu {cpu_w / cpu_p:.2f}x  whole command "
                    f"{wall_p:.2f} -> {wall_w:.2f} s {wall_w / wall_p:.2f}x",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(5)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; the whole-command ratio "
          "includes loopscope's own start-up and the report")
    return 1 if missed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="", help="the programs to run, e.g. bc (default: all)")
    options = parser.parse_args()
    raise SystemExit(main(options.repeats, options.only))
