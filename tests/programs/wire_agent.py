"""A program that plays the agent's part over the real wire, for end-to-end dashboard tests.

``python wire_agent.py unix:PATH [--stay]`` connects to the dashboard's socket, says hello,
sends a full batch of four tasks, prints to stdout and stderr, then obeys one cancel order (the
task's next snapshot says cancelled). It then exits with status 3, or with ``--stay`` waits
until it is stopped.
"""

import os
import socket
import sys
import time
from typing import Any

from loopscope.tasks.agent import wire
from loopscope.tasks.agent.model import Frame, TaskSnapshot, TaskState


def snapshot(
    id_: int, name: str, state: TaskState, parent: int | None, line: int, awaiting: str | None
) -> TaskSnapshot:
    here = Frame("worker" if parent else "main", __file__, line)
    return TaskSnapshot(
        id=id_, name=name, coro=here.function, loop=1, parent=parent, created_at=here,
        state=state, created_t=1.0, ended_t=None, busy_s=0.002 * id_, scheduled_s=0.0,
        idle_s=0.5, steps=id_, longest_step_s=0.001, longest_step_line=here, blocked_at=None,
        await_chain=(here,) if state is TaskState.SUSPENDED else (), awaiting=awaiting,
        awaiting_task=None, suspended_t=None, result=None, error=None,
    )


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(wire.encode_frame(message))


def receive(sock: socket.socket, decoder: wire.FrameDecoder, kind: str) -> dict[str, Any]:
    while True:
        data = sock.recv(65536)
        if not data:
            sys.exit("the dashboard went away")
        for message in decoder.feed(data):
            if message.get("kind") == kind:
                return message


def main() -> None:
    address = sys.argv[1]
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(address.removeprefix("unix:"))
    sock.sendall(wire.PREAMBLE)
    send(sock, {"kind": "hello", "role": "agent", "pid": os.getpid(), "argv": sys.argv,
                "python": sys.version.split()[0], "version": wire.VERSION})
    decoder = wire.FrameDecoder()
    receive(sock, decoder, "hello")
    tasks = [
        snapshot(1, "main", TaskState.SUSPENDED, None, 58, "gather()"),
        snapshot(2, "poller-a", TaskState.SUSPENDED, 1, 59, "sleep(1.0)"),
        snapshot(3, "poller-b", TaskState.SUSPENDED, 1, 59, "sleep(1.0)"),
        snapshot(4, "stuck-on-event", TaskState.SUSPENDED, 1, 60, "Event.wait()"),
    ]
    send(sock, {"kind": "batch", "t": 2.0, "full": True,
                "tasks": [wire.task_row(task) for task in tasks]})
    print("program says hello", flush=True)
    print("a line on stderr", file=sys.stderr, flush=True)
    order = receive(sock, decoder, "cancel")
    task = next(t for t in tasks if t.id == order["task"])
    done = snapshot(task.id, task.name, TaskState.CANCELLED, task.parent, 60, None)
    send(sock, {"kind": "batch", "t": 3.0, "tasks": [wire.task_row(done)]})
    print(f"cancelled task {task.id} {task.name}", flush=True)
    if "--stay" in sys.argv:
        while True:
            time.sleep(0.05)
    sys.exit(3)


if __name__ == "__main__":
    main()
