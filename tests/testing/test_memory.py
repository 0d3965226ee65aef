"""connector.testing.MemoryTransport: an in-memory websocket pair with real socket semantics."""

from __future__ import annotations

import pytest
import trio

from connector.errors import ConnectionLost
from connector.net.ws_transport import WsClose
from connector.testing import MemoryPeer, MemoryTransport


async def test_messages_sent_before_a_close_arrive_then_the_close_code() -> None:
    transport = MemoryTransport()
    async with transport.connect("ws://venue.test/ws?x=1") as client:
        peer = await transport.accept()
        await client.send("hello")
        await peer.send("a")
        await peer.send(b"b")
        peer.close(1001, "going away")

        assert "ws://venue.test/ws?x=1" == peer.url
        with pytest.raises(ConnectionLost):  # who closes discards what it had not read
            await peer.receive()
        assert "a" == await client.receive()
        assert b"b" == await client.receive()
        with pytest.raises(ConnectionLost, match="closed by venue: 1001 going away"):
            await client.receive()
        assert WsClose(code=1001, reason="going away") == client.close_info == peer.close_info
        with pytest.raises(ConnectionLost):
            await client.send("too late")


async def test_leaving_the_block_closes_the_socket_for_the_server() -> None:
    transport = MemoryTransport()
    async with transport.connect("ws://venue.test/ws") as client:
        peer = await transport.accept()
        await client.send("bye")

    assert "bye" == await peer.receive()
    with pytest.raises(ConnectionLost, match="closed by client: 1000"):
        await peer.receive()
    assert (1, 0) == (transport.connects, transport.refused)


async def test_a_full_buffer_makes_the_sender_wait(autojump_clock: trio.abc.Clock) -> None:
    transport = MemoryTransport(buffer=2)
    async with transport.connect("ws://venue.test/ws") as client:
        peer = await transport.accept()
        await peer.send("1")
        await peer.send("2")
        with trio.move_on_after(5) as blocked:
            await peer.send("3")
        assert blocked.cancelled_caught

        assert "1" == await client.receive()
        await peer.send("3")
        assert ["2", "3"] == [await client.receive(), await client.receive()]


async def test_refusals_and_a_full_backlog_fail_the_connect() -> None:
    transport = MemoryTransport(backlog=1)
    transport.refuse("HTTP 503")
    with pytest.raises(ConnectionLost, match="handshake failed: HTTP 503"):
        async with transport.connect("ws://venue.test/ws"):
            pass
    transport.refuse(None)
    async with transport.connect("ws://venue.test/ws"):
        with pytest.raises(ConnectionLost, match="backlog full"):
            async with transport.connect("ws://venue.test/ws"):
                pass
    assert (2, 2) == (transport.connects, transport.refused)


async def test_pings_are_answered_unless_the_server_stops(autojump_clock: trio.abc.Clock) -> None:
    transport = MemoryTransport()
    async with transport.connect("ws://venue.test/ws") as client:
        peer = await transport.accept()
        await client.ping()
        peer.answer_pings = False
        with trio.move_on_after(10) as unanswered:
            await client.ping()

        assert unanswered.cancelled_caught
        assert 2 == peer.pings
        peer.close(1006)
        with pytest.raises(ConnectionLost):
            await client.ping()


async def test_a_handler_serves_each_connection_and_closes_when_it_returns() -> None:
    async def echo_once(peer: MemoryPeer) -> None:
        await peer.send(f"echo {await peer.receive()!s}")

    transport = MemoryTransport(echo_once)
    async with transport.connect("ws://venue.test/ws") as client:
        await client.send("hi")
        assert "echo hi" == await client.receive()
        with pytest.raises(ConnectionLost, match="closed by venue: 1000"):
            await client.receive()


async def test_a_failing_handler_fails_the_client_loudly_with_its_own_error() -> None:
    async def broken(peer: MemoryPeer) -> None:
        await peer.receive()
        raise RuntimeError("script bug")

    transport = MemoryTransport(broken)
    with pytest.raises(RuntimeError, match="script bug"):
        async with transport.connect("ws://venue.test/ws") as client:
            await client.send("go")
            await trio.sleep_forever()


async def test_a_handler_that_ignores_the_disconnect_is_cancelled_after_the_grace(
    autojump_clock: trio.abc.Clock,
) -> None:
    cancelled = trio.Event()

    async def stubborn(peer: MemoryPeer) -> None:
        try:
            await trio.sleep_forever()
        finally:
            cancelled.set()

    transport = MemoryTransport(stubborn, grace=3.0)
    start = trio.current_time()
    async with transport.connect("ws://venue.test/ws"):
        pass

    assert cancelled.is_set()
    assert 3.0 == pytest.approx(trio.current_time() - start)
