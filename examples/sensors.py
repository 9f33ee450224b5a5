"""Five sensors polled concurrently: each poll waits on its sensor, none waits on another.

    python examples/sensors.py
    loopscope watch examples/sensors.py

Each sensor is a task that polls three times; a reading takes 50-400 ms (simulated with
``asyncio.sleep``, so it runs offline). Together they take about as long as the slowest
sensor, not the sum of all of them.
"""

from __future__ import annotations

import asyncio
import random


async def read_sensor(sensor: int) -> float:
    await asyncio.sleep(random.uniform(0.05, 0.4))  # the sensor answers
    return round(random.uniform(60.0, 80.0), 1)


async def poll(sensor: int, times: int = 3) -> list[float]:
    readings = []
    for _ in range(times):
        readings.append(await read_sensor(sensor))
    return readings


async def main() -> None:
    tasks = [asyncio.create_task(poll(n), name=f"sensor-{n}") for n in range(1, 6)]
    for task in tasks:
        readings = await task
        print(f"{task.get_name()}: {readings} °F")


if __name__ == "__main__":
    asyncio.run(main())
