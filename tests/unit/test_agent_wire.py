"""The agent's stream: framing, rows, and a viewer's state built from batches."""

from __future__ import annotations

import asyncio

import pytest

from loopscope.tasks.agent import wire
from loopscope.tasks.agent.address import AddressError, parse_address
from loopscope.tasks.agent.model import (
    AgentWarning,
    Frame,
    LagSpike,
    TaskError,
    TaskSnapshot,
    TaskState,
    WarningKind,
)
from loopscope.tasks.agent.store import WatchState


def snapshot(**changes: object) -> TaskSnapshot:
    fields: dict[str, object] = dict(
        id=3, name="worker-1", coro="Crawler.worker", loop=1, parent=1,
        created_at=Frame("main", "crawler.py", 40), state=TaskState.SUSPENDED,
        created_t=1.0, ended_t=None, busy_s=0.25, scheduled_s=0.01, idle_s=2.0, steps=12,
        longest_step_s=0.2, longest_step_line=Frame("Crawler.worker", "crawler.py", 22),
        blocked_at=None,
        await_chain=(Frame("Crawler.worker", "crawler.py", 21), Frame("Queue.get", "q.py", 9)),
        awaiting="Future pending", awaiting_task=None, suspended_t=2.5, result=None,
        error=None,
    )
    fields.update(changes)
    return TaskSnapshot(**fields)  # type: ignore[arg-type]


def test_a_task_row_round_trips_through_a_frame() -> None:
    task = snapshot(error=TaskError("ValueError", "bad", "Traceback..."))
    frame = wire.encode_frame({"kind": "batch", "tasks": [wire.task_row(task)]})
    decoder = wire.FrameDecoder()
    # Bytes arrive in pieces: nothing comes out until a whole frame is there.
    data = wire.PREAMBLE + frame
    messages = decoder.feed(data[:5]) + decoder.feed(data[5:20]) + decoder.feed(data[20:])
    assert len(messages) == 1
    assert wire.decode_task(messages[0]["tasks"][0]) == task
    assert len(wire.TASK_FIELDS) == len(wire.task_row(task))


def test_frames_are_compact_json() -> None:
    frame = wire.encode_frame({"kind": "batch", "lag": [[1.0, 2.5, 1]]})
    assert frame[4:] == b'{"kind":"batch","lag":[[1.0,2.5,1]]}'
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"HTTP/1.1 200 OK\r\n", "bad magic"),
        (wire.MAGIC + b"\x00\x02", "protocol version 2"),
        (wire.PREAMBLE + (2**31).to_bytes(4, "big"), "exceeds"),
        (wire.PREAMBLE + (3).to_bytes(4, "big") + b"[1]", "not an object"),
    ],
)
def test_a_stream_that_is_not_ours_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(wire.ProtocolError, match=reason):
        wire.FrameDecoder().feed(data)


async def test_the_asyncio_reader_reads_frames_until_the_end() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(wire.PREAMBLE + wire.encode_frame({"kind": "hello"}))
    reader.feed_data(wire.encode_frame({"kind": "batch", "seq": 1}))
    reader.feed_eof()
    await wire.read_preamble(reader)
    assert await wire.read_message(reader) == {"kind": "hello"}
    assert await wire.read_message(reader) == {"kind": "batch", "seq": 1}
    assert await wire.read_message(reader) is None


def test_the_state_keeps_the_latest_snapshot_and_forgets_gone_tasks() -> None:
    state = WatchState()
    state.apply({"kind": "batch", "full": True, "tasks": [
        wire.task_row(snapshot(id=1, parent=None, name="main")),
        wire.task_row(snapshot(id=3)),
    ]})
    state.apply({"kind": "batch", "tasks": [
        wire.task_row(snapshot(id=3, state=TaskState.DONE, result="42", await_chain=())),
    ], "gone": [1],
        "spikes": [wire.spike_row(LagSpike(3.0, 310.0, 1, 3, "worker-1",
                                           Frame("f", "b.py", 7), 0.3))],
        "warnings": [wire.warning_row(AgentWarning(WarningKind.SLOW_STEP, 3.0, 3,
                                                   Frame("f", "b.py", 7), "held 300 ms"))],
        "status": {"state": "exited", "pid": 9, "argv": ["b.py"], "python": "3.11",
                   "exit_code": 0, "error": None},
        "counts": {"created": 2, "finished": {"done": 1}, "dropped": {"lag": 4}},
    })
    assert list(state.tasks) == [3]
    assert state.tasks[3].state is TaskState.DONE
    assert state.changed[3] == state.version == 2
    report = state.report()
    assert report["program"]["exit_code"] == 0
    assert report["tasks"][0]["result"] == "42"
    assert report["spikes"][0]["line"] == {"function": "f", "file": "b.py", "line": 7,
                                          "library": False}
    assert report["warnings"][0]["kind"] == "slow-step"
    assert report["counts"]["dropped"] == {"lag": 4}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("unix:/tmp/a.sock", "unix:/tmp/a.sock"),
        ("/tmp/x/a.sock", "unix:/tmp/x/a.sock"),
        ("127.0.0.1:6670", "127.0.0.1:6670"),
        ("tcp:localhost:1", "localhost:1"),
        (":6670", "127.0.0.1:6670"),
        ("[::1]:80", "[::1]:80"),
    ],
)
def test_addresses(text: str, expected: str) -> None:
    assert str(parse_address(text)) == expected


@pytest.mark.parametrize("text", ["10.0.0.5:80", "example.com:80", "127.0.0.1:x", ""])
def test_remote_or_malformed_addresses_are_refused(text: str) -> None:
    with pytest.raises(AddressError):
        parse_address(text)


def test_a_made_up_token_can_follow_token_on_a_command_line() -> None:
    # a url-safe token began with "-" one time in 32, and `attach --token -x…` then failed
    from loopscope.tasks.agent.address import new_token

    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert not any(token.startswith("-") for token in tokens)
    assert all(len(token) >= 32 for token in tokens)
