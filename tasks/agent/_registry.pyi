"""Types of the agent's optional C look into asyncio's registry (``_registry.c``)."""

from collections.abc import Iterable
from typing import Any

def find(registry: set[Any], ids: Iterable[int], /) -> dict[int, Any]: ...
