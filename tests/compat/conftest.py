"""Third-party clients against the simulator: the shared simulator and helpers.

The simulator runs in a process of its own for the whole package (a venue is
another machine); each client runs in the test's thread, as its users run it: the synchronous
clients directly, the asyncio ones under ``asyncio.run`` (never inside trio).
Every test has a hard time limit (``pytest.mark.timeout``) and every awaited
client call its own (:func:`run_async`), so a client that waits for a frame
the simulator never sends fails the test instead of hanging it.

The clients come from the ``compat`` extra (``pip install -e '.[dev,compat]'``);
a module whose client is missing is skipped.
"""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: Seconds one client call may take before the test fails.
CALL_TIMEOUT = 15.0

Urls = dict[str, dict[str, str]]


@pytest.fixture(scope="package")
def sim_urls() -> Iterator[Urls]:
    """``{venue: {"<market>.rest": url, "<market>.ws": url}}`` of a simulator serving all venues.

    The simulator runs in a process of its own (``sim_process.py``), as a venue
    runs on a machine of its own.
    """
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("sim_process.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        first: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: first.put(proc.stdout.readline()), daemon=True)
        reader.start()
        line = first.get(timeout=60)
        assert line, "the simulator process ended before it served"
        yield json.loads(line)
    finally:
        proc.stdin.close()  # the simulator's signal to stop
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_async(main: Callable[[], Awaitable[T]], timeout: float = 3 * CALL_TIMEOUT) -> T:
    """Run an asyncio client's coroutine to completion in this thread, within ``timeout``."""

    async def bounded() -> T:
        return await asyncio.wait_for(main(), timeout)

    return asyncio.run(bounded())


async def within(awaitable: Awaitable[T]) -> T:
    """Await one asyncio client call, failing after :data:`CALL_TIMEOUT` seconds."""
    return await asyncio.wait_for(awaitable, CALL_TIMEOUT)


class Received:
    """The websocket messages an asyncio ccxt.pro ``client`` is handed from now on.

    A venue pushes an account change only to the sockets subscribed when it happens,
    so a test placing an order waits here for the venue's acknowledgement of its
    subscription instead of sleeping. Made before the client opens its first socket.
    """

    def __init__(self, client: Any) -> None:
        self.messages: list[Any] = []
        handle = client.handle_message

        def spy(socket: Any, message: Any) -> Any:
            self.messages.append(message)
            return handle(socket, message)

        client.handle_message = spy

    async def until(self, count: int, acknowledges: Callable[[Any], bool]) -> None:
        """Wait (at most :data:`CALL_TIMEOUT`) for ``count`` messages that ``acknowledges``."""
        deadline = time.monotonic() + CALL_TIMEOUT
        while sum(1 for m in self.messages if isinstance(m, dict) and acknowledges(m)) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"fewer than {count} acknowledgements in {self.messages!r}")
            await asyncio.sleep(0.01)


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
