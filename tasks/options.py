"""How the engine is configured: one typed, validated object.

``TaskManager``, ``loopscope run``, the dashboard (``make_app(options=...)``) and the tests all
build an :class:`EngineOptions`; nothing else configures the engine. Bad values are refused
here, once, with a message a user can act on (``--workers 0`` used to become 32 quietly).

The clock and the DNS resolver are not options: they are things a test injects, passed to
``TaskManager`` beside the options.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from typing import Any

from loopscope.tasks.busy_gc import BUSY_THRESHOLD
from loopscope.tasks.errors import LoopscopeError

DEFAULT_CONNECTOR_LIMIT = 100
DEFAULT_THREAD_WORKERS = 32
DEFAULT_HISTORY_LIMIT = 200_000
DEFAULT_FETCH_TIMEOUT_S = 30.0
LAUNCH_CHUNK = 500
"""Tasks created per loop iteration while launching: 100,000 at once would stall the loop."""
MAX_WORKERS = 1024
"""More threads or processes than this is a typo, not a plan."""


class OptionError(LoopscopeError, ValueError):
    """An engine option is out of range. The message names the option as a user types it."""


def default_process_workers() -> int:
    return os.cpu_count() or 2


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineOptions:
    """Every setting of the engine, with its default."""

    connector_limit: int = DEFAULT_CONNECTOR_LIMIT
    """Most connections open at once; 0 means no limit."""
    limit_per_host: int = 0
    """Most connections to one host at once; 0 means no limit beyond ``connector_limit``."""
    thread_workers: int = DEFAULT_THREAD_WORKERS
    """Workers in the manager's thread pool (thread jobs, file I/O); at least 1."""
    process_workers: int | None = None
    """Workers in the process pool for ``cpu`` jobs; None: one per core. At least 1."""
    history_limit: int = DEFAULT_HISTORY_LIMIT
    """Finished records kept; past it the oldest finished batches are dropped."""
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT_S
    """Default total timeout of one fetch, in seconds (a spec's ``timeout=`` overrides it)."""
    demo_server: bool = True
    """Start the embedded demo server (unless ``demo_url`` points at one already running)."""
    demo_url: str | None = None
    """Where a running demo server is; URLs starting with ``/`` go there."""
    demo_seed: int | None = None
    """Seed of the demo server's random delays and values, for repeatable runs."""
    monitors: bool = True
    """Sample loop lag and the process's own figures."""
    launch_chunk: int = LAUNCH_CHUNK
    """Tasks created per loop iteration while launching."""
    trace_connections: bool = False
    """Watch aiohttp's own connection queue with a TraceConfig (slower; see kinds/fetch)."""
    gc_threshold: int | None = BUSY_THRESHOLD
    """While a batch is in flight, the garbage collector's young-generation threshold is
    raised to at least this, and restored after (tasks/busy_gc.py: ~20 us a request less
    CPU on cheap fetches). None leaves the collector alone."""
    step_timing: bool = False
    """Time every step of the engine's tasks (busy time, steps, longest step) with the agent's
    hook on the loop. Off by default: it slows many small tasks down (tasks/introspect.py)."""

    def __post_init__(self) -> None:
        _check_count("connector limit (--limit)", self.connector_limit, low=0)
        _check_count("per-host limit (--per-host)", self.limit_per_host, low=0)
        _check_count("thread workers (--workers)", self.thread_workers, low=1, high=MAX_WORKERS)
        if self.process_workers is not None:
            _check_count(
                "process workers (--processes)", self.process_workers, low=1, high=MAX_WORKERS
            )
        _check_count("history limit", self.history_limit, low=1)
        _check_count("launch chunk", self.launch_chunk, low=1)
        if self.gc_threshold is not None:
            _check_count("gc threshold", self.gc_threshold, low=1)
        timeout = self.fetch_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise OptionError(f"fetch timeout must be a number of seconds, got {timeout!r}")
        if not math.isfinite(timeout) or timeout <= 0:
            raise OptionError(f"fetch timeout must be more than 0 seconds, got {timeout!r}")

    @property
    def process_pool_size(self) -> int:
        """``process_workers``, or one per core when it is None."""
        return self.process_workers or default_process_workers()

    def replace(self, **changes: Any) -> EngineOptions:
        """A copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)


def _check_count(what: str, value: object, *, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{what} must be a whole number, got {value!r}")
    if value < low:
        more = "0 or more" if low == 0 else f"at least {low}"
        raise OptionError(f"{what} must be {more}, got {value}")
    if high is not None and value > high:
        raise OptionError(f"{what} must be at most {high:,}, got {value:,}")

