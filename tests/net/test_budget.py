"""ConnectionBudget: connection attempts per period, and open sockets at once."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence

import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

from connector.net.ws import ConnectionBudget, Heartbeat, WsConnection
from connector.supervision.backoff import Backoff


async def test_attempts_within_the_budget_do_not_wait(autojump_clock: trio.abc.Clock) -> None:
    budget = ConnectionBudget("test", attempts=3, period=10.0)
    start = trio.current_time()
    for _ in range(3):
        await budget.wait_attempt()
    assert 0.0 == trio.current_time() - start


async def test_attempt_beyond_the_budget_waits_until_the_oldest_leaves_the_period(
    autojump_clock: trio.abc.Clock,
) -> None:
    budget = ConnectionBudget("test", attempts=3, period=10.0)
    started: list[float] = []
    for pause in (0.0, 2.0, 2.0, 0.0, 0.0, 0.0):
        await trio.sleep(pause)
        await budget.wait_attempt()
        started.append(trio.current_time())

    # Attempts at 0, 2, 4 use the budget; the 4th waits for 0 + 10, the 5th for
    # 2 + 10, the 6th for 4 + 10.
    assert [0.0, 2.0, 4.0, 10.0, 12.0, 14.0] == pytest.approx(started)


async def test_budget_recovers_after_a_quiet_period(autojump_clock: trio.abc.Clock) -> None:
    budget = ConnectionBudget("test", attempts=2, period=5.0)
    await budget.wait_attempt()
    await budget.wait_attempt()
    await trio.sleep(6.0)
    start = trio.current_time()
    await budget.wait_attempt()
    await budget.wait_attempt()
    assert 0.0 == trio.current_time() - start


async def test_concurrent_attempts_never_exceed_the_budget_in_any_period(
    autojump_clock: trio.abc.Clock,
) -> None:
    budget = ConnectionBudget("test", attempts=2, period=10.0)
    started: list[float] = []

    async def attempt() -> None:
        await budget.wait_attempt()
        started.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        for _ in range(6):
            nursery.start_soon(attempt)

    worst = max(sum(1 for t in started if s <= t < s + 10.0) for s in started)
    assert 2 >= worst


class _Quiet:
    """A frame handler that subscribes to nothing and counts its opens."""

    def __init__(self) -> None:
        self.opens = 0
        self.opened = trio.Event()

    def on_open(self) -> Sequence[str]:
        self.opens += 1
        self.opened.set()
        return []

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> None:
        pass

    def on_stale(self, key: object) -> None:
        pass

    def on_close(self, reason: str) -> None:
        pass


class _Venue:
    """Counts sockets open at once; holds the first one open until released."""

    def __init__(self) -> None:
        self.open_now = 0
        self.most_open = 0
        self.accepted = 0
        self.first_accepted = trio.Event()
        self.release_first = trio.Event()

    async def handler(self, request: WebSocketRequest) -> None:
        ws = await request.accept()
        self.accepted += 1
        first = self.accepted == 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        self.first_accepted.set()
        try:
            with contextlib.suppress(ConnectionClosed):
                if first:
                    await self.release_first.wait()
                    await ws.aclose()
                else:
                    await trio.sleep_forever()
        finally:
            self.open_now -= 1


async def test_open_socket_slots_limit_concurrent_sockets() -> None:
    venue = _Venue()
    budget = ConnectionBudget("test", max_open=1)
    handlers = [_Quiet(), _Quiet()]
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            listener = await nursery.start(serve_websocket, venue.handler, "127.0.0.1", 0, None)
            url = f"ws://127.0.0.1:{listener.port}/ws"
            conns = [
                WsConnection(
                    venue="test",
                    conn_id=f"c{i}",
                    url=url,
                    handler=handler,
                    heartbeat=Heartbeat(interval=3600.0, ping=None, timeout=3600.0),
                    budget=budget,
                    backoff=Backoff(initial=0.05, maximum=0.1, jitter=0.0),
                    rng=random.Random(i),
                )
                for i, handler in enumerate(handlers)
            ]
            for conn in conns:
                await nursery.start(conn.run)
            await venue.first_accepted.wait()
            await trio.sleep(0.3)  # time enough for the second socket, were it allowed
            assert (1, 1) == (venue.accepted, venue.open_now)
            assert [0, 1] == sorted(c.statistics().connects for c in conns)
            waiting = next(i for i, c in enumerate(conns) if c.statistics().connects == 0)

            venue.release_first.set()  # the venue closes the first: its slot frees up
            await handlers[waiting].opened.wait()
            await trio.sleep(0.2)
            assert conns[waiting].statistics().connected
            assert 1 == venue.open_now
            nursery.cancel_scope.cancel()
    assert 1 == venue.most_open
    assert 1 == budget.open_slots.value
    assert [1, 1] == [h.opens for h in handlers]
