"""For tests that add up Binance request weights over several requests.

The simulator's weight window is fixed, as the venue's calendar minute is: a test
that compares the weights of consecutive requests first makes sure that enough of
the current window is left for them all to be counted in it.
"""

from __future__ import annotations

import time

import trio


def _left(now: float, window: float) -> float:
    return window - now % window


async def inside_one_weight_window(margin: float = 10.0, window: float = 60.0) -> None:
    """Return once the window of a simulator on the trio clock has ``margin`` seconds left
    (waiting, when it has fewer, for the next one to begin)."""
    left = _left(trio.current_time(), window)
    if left < margin:
        await trio.sleep(left + 0.05)


def inside_one_wall_minute(margin: float = 10.0) -> None:
    """The same for a limiter on the wall clock's minutes (the spot harness's)."""
    left = _left(time.time(), 60.0)
    if left < margin:
        time.sleep(left + 0.05)
