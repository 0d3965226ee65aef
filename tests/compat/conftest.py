"""Third-party clients against the simulator: the shared simulator and helpers.

The simulator runs under trio in a background thread for the whole package;
each client runs in the test's thread, as its users run it: the synchronous
clients directly, the asyncio ones under ``asyncio.run`` (never inside trio).
Every test has a hard time limit (``pytest.mark.timeout``) and every awaited
client call its own (:func:`run_async`), so a client that waits for a frame
the simulator never sends fails the test instead of hanging it.

The clients come from the ``compat`` extra (``pip install -e '.[dev,compat]'``);
a module whose client is missing is skipped.
"""

from __future__ import annotations

import asyncio
import math
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest
import trio

from connector import sim

T = TypeVar("T")

#: Seconds one client call may take before the test fails.
CALL_TIMEOUT = 15.0

Urls = dict[str, dict[str, str]]


@pytest.fixture(scope="package")
def sim_urls() -> Iterator[Urls]:
    """``{venue: {"<market>.rest": url, "<market>.ws": url}}`` of a simulator serving all venues."""
    ready: queue.Queue[Urls] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        with trio.fail_after(30) as limit:  # start-up
            async with sim.run(venues=("binance", "bybit", "okx"), rate=100, seed=7) as s:
                # A market with a history, as a client meets the real venues: each
                # instrument trades through its book (several fills) before any test.
                for hub in s.venues.values():
                    for market, native_id in list(hub.books):
                        hub.move_market(market, native_id, 1)
                ready.put(s.urls)
                limit.deadline = math.inf  # the package's tests run meanwhile
                await trio.to_thread.run_sync(stop.wait)
                limit.deadline = trio.current_time() + 10  # shutdown

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    urls = ready.get(timeout=30)
    yield urls
    stop.set()
    thread.join(timeout=15)
    assert not thread.is_alive()


def run_async(main: Callable[[], Awaitable[T]], timeout: float = 3 * CALL_TIMEOUT) -> T:
    """Run an asyncio client's coroutine to completion in this thread, within ``timeout``."""

    async def bounded() -> T:
        return await asyncio.wait_for(main(), timeout)

    return asyncio.run(bounded())


async def within(awaitable: Awaitable[T]) -> T:
    """Await one asyncio client call, failing after :data:`CALL_TIMEOUT` seconds."""
    return await asyncio.wait_for(awaitable, CALL_TIMEOUT)


class Inbox:
    """Messages a callback-driven client delivers from its own thread."""

    def __init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue()

    def put(self, message: object) -> None:
        """The client's callback."""
        self._queue.put(message)

    def take(self, count: int, timeout: float = CALL_TIMEOUT) -> list[object]:
        """The next ``count`` messages, failing when they do not all come within ``timeout``."""
        deadline = time.monotonic() + timeout
        taken: list[object] = []
        while len(taken) < count:
            left = deadline - time.monotonic()
            try:
                taken.append(self._queue.get(timeout=max(left, 0.0)))
            except queue.Empty:
                pytest.fail(f"{len(taken)} of {count} messages after {timeout}s: {taken!r}")
        return taken
