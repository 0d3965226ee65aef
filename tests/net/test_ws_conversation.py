"""WsConnection holding a conversation: answers, readiness after an ack, transports, status.

Everything runs over connector.testing's in-memory transport, on trio's
autojump clock: no socket, no real waiting.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence

import attrs
import pytest
import trio
import trio.testing

from connector.errors import ConnectionLost
from connector.model import ConnectionEvent, ConnectionStatus
from connector.net.ws import (
    PLANNED_MIN_UPTIME,
    Answer,
    ConnectionBudget,
    Greeting,
    Heartbeat,
    Watchdog,
    WsConnection,
    WsPhase,
)
from connector.supervision.backoff import Backoff
from connector.testing import MemoryPeer, MemoryTransport

QUIET = Heartbeat(interval=1000.0, ping=None, timeout=1000.0)


@attrs.define
class Talker:
    """A handler with a login conversation: ``login`` -> ``login ok`` / ``login bad``."""

    greeting: Greeting | Sequence[str] = ()
    watchdog: Watchdog | None = None
    frames: list[str | bytes] = attrs.field(factory=list)
    opens: int = 0
    closes: list[str] = attrs.field(factory=list)
    stale: list[Hashable] = attrs.field(factory=list)

    def on_open(self) -> Greeting | Sequence[str]:
        self.opens += 1
        if self.watchdog is not None:
            self.watchdog.touch("BTC", trio.current_time())
        return self.greeting

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> Answer | None:
        self.frames.append(data)
        if data == "ping":
            return Answer(frames=["pong"])
        if data == "login ok":
            return Answer(frames=["subscribe"], ready=True)
        if data == "login bad":
            return Answer(fail="login refused: bad key")
        return None

    def on_stale(self, key: Hashable) -> None:
        self.stale.append(key)

    def on_close(self, reason: str) -> None:
        self.closes.append(reason)


LOGIN = Greeting(frames=["login"], ready=False, ack_timeout=30.0)


def _conn(
    transport: MemoryTransport,
    handler: Talker,
    statuses: list[ConnectionEvent] | None = None,
    *,
    heartbeat: Heartbeat = QUIET,
    start_when_ready: bool = False,
) -> WsConnection:
    return WsConnection(
        venue="test",
        conn_id="c1",
        url="ws://venue.test/ws",
        handler=handler,
        heartbeat=heartbeat,
        budget=ConnectionBudget("test"),
        on_status=None if statuses is None else statuses.append,
        transport=transport,
        backoff=Backoff(initial=1.0, maximum=1.0, jitter=0.0),
        watchdog=handler.watchdog,
        rng=random.Random(1),
        start_when_ready=start_when_ready,
    )


def _kinds(statuses: list[ConnectionEvent]) -> list[tuple[ConnectionStatus, str | None]]:
    return [(e.status, e.reason) for e in statuses]


async def test_handler_answers_a_frame_with_frames(autojump_clock: trio.abc.Clock) -> None:
    transport = MemoryTransport()
    handler = Talker(greeting=["subscribe"])
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler)
        await nursery.start(conn.run)
        peer = await transport.accept()
        assert "subscribe" == await peer.receive()

        await peer.send("ping")

        assert "pong" == await peer.receive()
        await trio.testing.wait_all_tasks_blocked()
        assert (1, 2) == (conn.statistics().frames_received, conn.statistics().frames_sent)
        nursery.cancel_scope.cancel()


async def test_plain_frames_make_the_connection_ready_at_once(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    statuses: list[ConnectionEvent] = []
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, Talker(greeting=["subscribe"]), statuses)
        await nursery.start(conn.run)
        peer = await transport.accept()
        assert "subscribe" == await peer.receive()
        await conn.wait_ready()

        assert WsPhase.READY == conn.phase
        assert [(ConnectionStatus.CONNECTING, None), (ConnectionStatus.CONNECTED, None)] == _kinds(
            statuses
        )
        assert all("test" == e.venue and "c1" == e.conn_id for e in statuses)
        nursery.cancel_scope.cancel()


async def test_connection_is_not_connected_until_the_venue_acknowledges(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    statuses: list[ConnectionEvent] = []
    handler = Talker(greeting=LOGIN, watchdog=Watchdog(after=5.0))
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler, statuses)
        await nursery.start(conn.run)
        peer = await transport.accept()
        assert "login" == await peer.receive()
        await trio.sleep(10)  # longer than the watchdog's 5 s, shorter than the ack timeout

        assert [(ConnectionStatus.CONNECTING, None)] == _kinds(statuses)
        assert WsPhase.AWAITING_ACK == conn.phase
        assert conn.statistics().connected
        assert [] == handler.stale  # the watchdog is not armed yet
        with pytest.raises(ConnectionLost, match="not ready"):
            await conn.send_request("order")

        await peer.send("login ok")
        assert "subscribe" == await peer.receive()
        await conn.wait_ready()
        await conn.send_request("order")

        assert "order" == await peer.receive()
        assert [ConnectionStatus.CONNECTING, ConnectionStatus.CONNECTED] == [
            e.status for e in statuses
        ]
        await trio.sleep(0.1)
        assert ["BTC"] == handler.stale  # armed now; its key was touched 10 s ago
        nursery.cancel_scope.cancel()


async def test_run_starts_only_once_ready_when_asked(autojump_clock: trio.abc.Clock) -> None:
    transport = MemoryTransport()

    async def venue() -> None:
        peer = await transport.accept()
        assert "login" == await peer.receive()
        await trio.sleep(3)
        await peer.send("login ok")
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(venue)
        conn = _conn(transport, Talker(greeting=LOGIN), start_when_ready=True)
        start = trio.current_time()
        await nursery.start(conn.run)

        assert 3.0 == pytest.approx(trio.current_time() - start)
        assert WsPhase.READY == conn.phase
        nursery.cancel_scope.cancel()


async def test_no_ack_in_time_fails_the_attempt_and_reconnects_after_backoff(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    statuses: list[ConnectionEvent] = []
    handler = Talker(greeting=Greeting(frames=["login"], ready=False, ack_timeout=5.0))
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler, statuses)
        start = trio.current_time()
        await nursery.start(conn.run)
        first = await transport.accept()
        assert "login" == await first.receive()

        second = await transport.accept()

        assert 6.0 == pytest.approx(trio.current_time() - start)  # 5 s ack timeout + 1 s backoff
        assert first.closed
        assert ["no acknowledgement in 5 s"] == handler.closes
        assert [
            (ConnectionStatus.CONNECTING, None),
            (ConnectionStatus.DISCONNECTED, "no acknowledgement in 5 s"),
            (ConnectionStatus.CONNECTING, None),
        ] == _kinds(statuses)
        assert "login" == await second.receive()
        await second.send("login ok")
        await conn.wait_ready()
        stats = conn.statistics()
        assert (2, 1, WsPhase.READY) == (stats.connects, stats.ack_timeouts, stats.phase)
        nursery.cancel_scope.cancel()


async def test_refusing_answer_drops_the_socket_and_reconnects(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    handler = Talker(greeting=LOGIN)
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler)
        await nursery.start(conn.run)
        first = await transport.accept()
        assert "login" == await first.receive()

        await first.send("login bad")
        with pytest.raises(ConnectionLost):
            await first.receive()
        second = await transport.accept()

        assert ["login refused: bad key"] == handler.closes
        assert 1 == conn.statistics().refusals
        assert "login" == await second.receive()
        nursery.cancel_scope.cancel()


async def test_venue_close_code_and_reason_reach_handler_and_status(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    statuses: list[ConnectionEvent] = []
    handler = Talker(greeting=["subscribe"])
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler, statuses)
        await nursery.start(conn.run)
        peer = await transport.accept()
        await peer.send("a")
        peer.close(1008, "slow consumer")
        await transport.accept()

        assert ["a"] == handler.frames  # sent before the close: still delivered
        assert ["closed by venue: 1008 slow consumer"] == handler.closes
        assert (
            ConnectionStatus.DISCONNECTED,
            "closed by venue: 1008 slow consumer",
        ) in _kinds(statuses)
        nursery.cancel_scope.cancel()


async def test_refused_connects_are_retried_until_the_venue_accepts(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    transport.refuse("HTTP 503")
    handler = Talker(greeting=["subscribe"])
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler)
        await nursery.start(conn.run)
        await trio.sleep(2.5)
        transport.refuse(None)
        peer = await transport.accept()

        assert "subscribe" == await peer.receive()
        assert 3 == transport.refused
        assert ["handshake failed: HTTP 503"] * 3 == handler.closes
        assert 1 == handler.opens
        nursery.cancel_scope.cancel()


async def test_protocol_pings_keep_a_quiet_socket_alive_until_pongs_stop(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    handler = Talker(greeting=["subscribe"])
    hb = Heartbeat(interval=20.0, ping=None, timeout=60.0, protocol_ping=True)
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler, heartbeat=hb)
        await nursery.start(conn.run)
        peer = await transport.accept()
        await trio.sleep(190)  # the venue sends nothing at all

        assert (1, []) == (conn.statistics().connects, handler.closes)
        assert 9 == peer.pings  # at 20, 40, ... 180 s

        peer.answer_pings = False
        start = trio.current_time()
        await transport.accept()

        assert 1 == len(handler.closes)
        assert handler.closes[0].startswith("no data for")
        assert 60 < trio.current_time() - start <= 82
        nursery.cancel_scope.cancel()


async def test_application_ping_text_is_sent_when_idle(autojump_clock: trio.abc.Clock) -> None:
    transport = MemoryTransport()
    hb = Heartbeat(interval=20.0, ping='{"op":"ping"}', timeout=1000.0)
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, Talker(), heartbeat=hb)
        await nursery.start(conn.run)
        peer = await transport.accept()
        await trio.sleep(65)

        received = [await peer.receive() for _ in range(3)]

        assert ['{"op":"ping"}'] * 3 == received
        assert 0 == peer.pings  # no protocol pings unless asked for
        nursery.cancel_scope.cancel()


async def test_send_drops_a_frame_while_down_and_send_request_refuses(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    transport.refuse("down")
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, Talker())
        await nursery.start(conn.run)
        await trio.sleep(0.5)

        await conn.send("dropped")
        with pytest.raises(ConnectionLost):
            await conn.send_request("refused")

        assert 0 == conn.statistics().frames_sent
        nursery.cancel_scope.cancel()


async def test_reconnect_request_drops_the_socket_with_its_reason(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    handler = Talker(greeting=["subscribe"])
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler)
        await nursery.start(conn.run)
        first: MemoryPeer = await transport.accept()
        await conn.wait_ready()

        conn.reconnect("venue error 1003")
        await transport.accept()

        assert first.closed
        assert ["venue error 1003"] == handler.closes
        nursery.cancel_scope.cancel()


async def test_a_planned_replacement_connects_again_at_once_and_counts_no_failure(
    autojump_clock: trio.abc.Clock,
) -> None:
    transport = MemoryTransport()
    handler = Talker(greeting=["subscribe"])
    async with trio.open_nursery() as nursery:
        conn = _conn(transport, handler)
        await nursery.start(conn.run)
        await transport.accept()
        await conn.wait_ready()
        await trio.sleep(PLANNED_MIN_UPTIME)

        for _ in range(3):  # replaced again and again: never slower
            dropped = trio.current_time()
            conn.reconnect("venue closing the connection: serverShutdown", planned=True)
            await transport.accept()
            assert 0 == trio.current_time() - dropped  # no backoff before the new socket
            await conn.wait_ready()
            await trio.sleep(PLANNED_MIN_UPTIME)

        # Replaced right after connecting: a venue that keeps asking is backed off from.
        conn.reconnect("venue closing the connection: serverShutdown", planned=True)
        await transport.accept()
        await conn.wait_ready()
        dropped = trio.current_time()
        conn.reconnect("venue closing the connection: serverShutdown", planned=True)
        await transport.accept()
        assert 1.0 == trio.current_time() - dropped  # the backoff (1 s here)
        nursery.cancel_scope.cancel()


def test_frames_must_be_a_sequence_of_frames_not_one_string() -> None:
    with pytest.raises(TypeError):
        Greeting(frames="login")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Answer(frames="pong")  # type: ignore[arg-type]
    assert ("a", "b") == Greeting(frames=["a", "b"]).frames
