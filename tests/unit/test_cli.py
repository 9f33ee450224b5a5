"""`loopscope run`: the JSON shape, the table, and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

TASK_KEYS = {"id", "kind", "target", "state", "wait_s", "run_s", "bytes", "error"}


def loopscope(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "loopscope", *args], capture_output=True, text=True, timeout=timeout
    )


def test_run_json_shape(refused_port: int) -> None:
    out = loopscope(
        "run", f"fetch /delay/50 x10; fetch http://127.0.0.1:{refused_port}/", "fail", "--json"
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    for key in ("wall_s", "sequential_estimate_s", "gained_s", "speedup", "counts", "lag"):
        assert key in report
    assert report["measured_sequential_s"] is None
    assert report["measured_speedup"] is None
    assert report["counts"] == {
        "pending": 0, "running": 0, "done": 10, "exception": 2, "cancelled": 0,
    }
    assert set(report["lag"]) == {"p50_ms", "p99_ms", "max_ms"}
    assert len(report["tasks"]) == 12
    assert all(set(task) >= TASK_KEYS for task in report["tasks"])
    errors = [task["error"] for task in report["tasks"] if task["error"]]
    assert f"ClientConnectorError: Cannot connect to host 127.0.0.1:{refused_port}" in errors[0]
    assert errors[1] == "InjectedFailure: this task fails on purpose"
    assert report["speedup"] > 1


def test_run_sequential_measures() -> None:
    out = loopscope("run", "sleep 0.1 x3", "--sequential", "--json")
    report = json.loads(out.stdout)
    assert report["measured_sequential_s"] >= 0.3
    assert report["measured_speedup"] > 1.5


def test_run_table_labels_estimates() -> None:
    out = loopscope("run", "sleep 0.01 x3", "--limit", "5", "--workers", "4")
    assert out.returncode == 0
    assert "ESTIMATE" in out.stdout
    assert "sleep" in out.stdout
    assert "run with --sequential to measure it" in out.stdout


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fetc /x", "unknown kind"),
        ("sleep 1 x0", "x1 to x100,000"),
        ("sleep 1 x100001", "x1 to x100,000"),
        ("fetch example.com", "http://"),
    ],
)
def test_a_malformed_spec_exits_2_with_one_line(spec: str, message: str) -> None:
    out = loopscope("run", spec)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert "Traceback" not in out.stderr


def test_help_explains_the_spec_language() -> None:
    out = loopscope("run", "--help")
    assert out.returncode == 0
    for word in ("fetch URL", "cpu N", "--sequential", "ESTIMATES", "100,000"):
        assert word in out.stdout


def test_no_speedup_when_no_task_ran() -> None:
    """Trial: ``read /nonexistent`` fails before it runs; it said ``speedup ~0.0x``."""
    out = loopscope("run", "read /nonexistent")
    assert out.returncode == 0, out.stderr
    assert "0.0x" not in out.stdout
    assert "speedup n/a: no task ran" in out.stdout
    report = json.loads(loopscope("run", "read /nonexistent", "--json").stdout)
    assert report["speedup"] is None
