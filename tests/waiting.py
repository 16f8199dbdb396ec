"""Await a condition instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(
    condition: Callable[[], bool], limit_s: float = 10.0, what: str = "condition"
) -> float:
    """Poll ``condition`` every 20 ms; return the seconds it took, fail after ``limit_s``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > limit_s:
            raise AssertionError(f"timed out after {limit_s:g} s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started
