"""Connection slots (tasks/slots.py): a fetch that gives up its wait never keeps a slot, or
a place in the queue, it will not use."""

from __future__ import annotations

import asyncio

from loopscope.tasks.slots import ConnectionSlots, Limiter


async def test_a_slot_that_came_as_the_wait_was_cancelled_is_passed_on() -> None:
    limiter = Limiter(1)
    assert limiter.take()
    waiting = limiter.wait("second fetch")
    limiter.release()  # the slot goes to the waiter at once
    assert waiting.done()
    assert limiter.held == 1
    limiter.give_up(waiting)  # ...which was cancelled before it ran
    assert limiter.held == 0
    assert limiter.take()  # a later fetch gets it without waiting


async def test_a_cancelled_wait_leaves_the_queue() -> None:
    limiter = Limiter(1)
    assert limiter.take()
    waiting = limiter.wait("second fetch")
    waiting.cancel()
    limiter.give_up(waiting)
    limiter.release()
    assert limiter.held == 0
    assert limiter.take()  # no stale waiter in front of it


async def test_a_wait_is_noted_with_what_it_waits_for() -> None:
    noted: list[tuple[object, str]] = []
    slots = ConnectionSlots(1, 1, lambda who, what: noted.append((who, what)))
    slot = slots.slot_for("http://127.0.0.1:8080/a")
    assert slot.take()
    same_host = slots.slot_for("http://127.0.0.1:8080/b")
    assert same_host is slot  # one shared slot per host: nothing allocated per fetch
    assert not same_host.take()
    other = slots.slot_for("http://localhost:9/")
    assert not other.take()  # its host is free, the overall limit is not
    slot.release()
    assert other.take()
    assert noted == []  # take() never notes a wait; only wait() does
    third = asyncio.ensure_future(other.wait("third"))
    await asyncio.sleep(0)
    assert noted == [("third", "a connection slot for localhost:9")]
    other.release()
    await third  # it holds the host's slot and the overall one now
    assert not slot.take()
    other.release()
    assert slot.take()
