"""Closing with work in flight leaves nothing behind: no warnings, tasks, threads or workers."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings

import psutil
import pytest

from loopscope.tasks.errors import ManagerClosed
from loopscope.tasks.manager import TaskManager
from loopscope.tasks.options import EngineOptions
from loopscope.tasks.records import TaskState


def _worker_children() -> list[psutil.Process]:
    """Child processes other than multiprocessing's resource tracker (a stdlib singleton that
    lives as long as this interpreter, not an orphan)."""
    children = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                children.append(child)
        except psutil.NoSuchProcess:
            pass
    return children


async def test_aclose_with_everything_in_flight() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: errors.append(context))
    threads_before = {t.ident for t in threading.enumerate()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manager = TaskManager(EngineOptions(process_workers=2, thread_workers=4))
        await manager.start()
        batch = manager.launch(
            "fetch /delay/5000 x20; fetch /bytes/50000000?delay_ms=5; thread 30 x6; "
            "cpu 3000000000 x2; sleep 30 x100; read mode=lines; write 50M"
        )
        await asyncio.sleep(1.0)
        assert manager.counts[TaskState.RUNNING] > 0
        await asyncio.wait_for(manager.aclose(), 15)
        assert batch.done
        assert batch.counts[TaskState.PENDING] == batch.counts[TaskState.RUNNING] == 0
        del manager
        gc.collect()
        await asyncio.sleep(0.05)
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], caught
    assert errors == []
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert _worker_children() == []
    leftover = [
        t.name for t in threading.enumerate()
        if t.ident not in threads_before and t.name.startswith("loopscope")
    ]
    assert leftover == []


async def test_launching_after_close_is_a_clear_error() -> None:
    manager = TaskManager(EngineOptions(demo_server=False, monitors=False))
    await manager.start()
    await manager.aclose()
    with pytest.raises(ManagerClosed, match="closed"):
        manager.launch("sleep 1")


async def test_aclose_does_not_wait_for_sleeping_demo_handlers() -> None:
    """`fetch /delay/60000 x10` used to hold the close for the full 60 s (the demo server
    waited for its sleeping handlers). The bound below is a safety net, not a timing window."""
    manager = TaskManager(EngineOptions(process_workers=2, thread_workers=4))
    await manager.start()
    batch = manager.launch(
        "fetch /delay/60000 x10; fetch /delay/30000 x1000; thread 60 x8; cpu 3000000000 x2"
    )
    while manager.counts[TaskState.RUNNING] < 20 or not manager.process_workers_busy:
        await asyncio.sleep(0.05)
    await asyncio.wait_for(manager.aclose(), 10)
    assert batch.done
    assert _worker_children() == []


async def test_aclose_leaves_a_stuck_worker_thread_behind_rather_than_wait() -> None:
    manager = TaskManager(EngineOptions(demo_server=False, monitors=False, thread_workers=2))
    await manager.start()
    release = threading.Event()
    manager.thread_pool.submit(release.wait, 60)  # a call that cannot be interrupted
    await asyncio.wait_for(manager.aclose(), 10)
    assert manager.thread_pool.threads_alive() == 1
    release.set()
