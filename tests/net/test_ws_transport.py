"""WsClientTransport against independent servers on loopback; failures: ConnectionLost.

The servers are trio-websocket's (wsproto), the simulator's (hypercorn), and, for
what no correct server sends, raw bytes after a wsproto handshake.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable

import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request

from connector import sim
from connector.errors import ConnectionLost
from connector.net.ws_transport import WsClientTransport, WsClose


async def _echo_then_close(request: WebSocketRequest) -> None:
    ws = await request.accept()
    with contextlib.suppress(ConnectionClosed):
        message = await ws.get_message()
        await ws.send_message(f"echo {message}")
        await ws.aclose(4001, "done here")


async def _serve(nursery: trio.Nursery, handler: object) -> str:
    listener = await nursery.start(serve_websocket, handler, "127.0.0.1", 0, None)
    return f"ws://127.0.0.1:{listener.port}/ws"


async def test_messages_pings_and_the_venue_close_code() -> None:
    transport = WsClientTransport()
    received: list[str | bytes] = []
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, _echo_then_close)
            async with transport.connect(url) as ws:

                async def reader() -> None:
                    received.append(await ws.receive())

                async with trio.open_nursery() as inner:
                    inner.start_soon(reader)
                    await ws.ping()  # the pong is read by the task in receive()
                    await ws.send("hi")
                assert ["echo hi"] == received
                with pytest.raises(ConnectionLost, match="closed by venue: 4001 done here"):
                    await ws.receive()
                assert WsClose(code=4001, reason="done here") == ws.close_info
                with pytest.raises(ConnectionLost, match="closed by venue"):
                    await ws.send("after close")
            nursery.cancel_scope.cancel()


async def test_messages_sent_before_a_close_are_all_delivered_and_the_close_echoed() -> None:
    closed: list[tuple[int, str | None]] = []
    done = trio.Event()

    async def burst_then_close(request: WebSocketRequest) -> None:
        ws = await request.accept()
        for i in range(50):
            await ws.send_message(f"m{i}" if i % 2 else f"m{i}".encode())
        await ws.aclose(4002, "bye")  # returns once our echo of the close came
        assert ws.closed is not None
        closed.append((ws.closed.code, ws.closed.reason))
        done.set()

    got: list[str | bytes] = []
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, burst_then_close)
            async with WsClientTransport().connect(url) as ws:
                await trio.sleep(0.1)  # everything, close included, is in the socket buffer
                with pytest.raises(ConnectionLost, match="closed by venue: 4002 bye"):
                    while True:
                        got.append(await ws.receive())
            await done.wait()
            nursery.cancel_scope.cancel()
    assert [f"m{i}" if i % 2 else f"m{i}".encode() for i in range(50)] == got
    assert [(4002, "bye")] == closed


async def test_server_pings_are_answered_by_the_receiving_task() -> None:
    async def ping_then_send(request: WebSocketRequest) -> None:
        ws = await request.accept()
        with trio.fail_after(5):
            await ws.ping(b"are you there")  # returns once our pong came
        await ws.send_message("pong seen")
        await trio.sleep_forever()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, ping_then_send)
            async with WsClientTransport().connect(url) as ws:
                assert "pong seen" == await ws.receive()
            nursery.cancel_scope.cancel()


async def test_our_close_reaches_the_server_with_its_code_and_reason() -> None:
    seen: list[tuple[int, str | None]] = []
    done = trio.Event()

    async def read_until_closed(request: WebSocketRequest) -> None:
        ws = await request.accept()
        try:
            while True:
                await ws.get_message()
        except ConnectionClosed as exc:
            seen.append((exc.reason.code, exc.reason.reason))
        done.set()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, read_until_closed)
            async with WsClientTransport().connect(url) as ws:
                await ws.send("hello")
                await ws.aclose(4100, "going")
                await ws.aclose(4200, "again")  # idempotent
                assert WsClose(code=4100, reason="going") == ws.close_info
                with pytest.raises(ConnectionLost, match="closed by us: 4100 going"):
                    await ws.receive()
            await done.wait()
            nursery.cancel_scope.cancel()
    assert [(4100, "going")] == seen


async def test_a_close_while_another_task_receives_ends_that_receive() -> None:
    async def quiet(request: WebSocketRequest) -> None:
        await request.accept()
        await trio.sleep_forever()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, quiet)
            async with WsClientTransport().connect(url) as ws:

                async def reader() -> None:
                    with pytest.raises(ConnectionLost, match="closed by us: 1000"):
                        await ws.receive()

                async with trio.open_nursery() as inner:
                    inner.start_soon(reader)
                    await trio.sleep(0.05)
                    await ws.aclose()
            nursery.cancel_scope.cancel()


async def test_an_oversized_message_closes_with_1009() -> None:
    closes: list[int] = []

    async def big(request: WebSocketRequest) -> None:
        ws = await request.accept()
        await ws.send_message("small")
        await ws.send_message("x" * 2000)
        with contextlib.suppress(ConnectionClosed):
            await ws.get_message()
        assert ws.closed is not None
        closes.append(ws.closed.code)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, big)
            async with WsClientTransport(max_message_size=1000).connect(url) as ws:
                assert "small" == await ws.receive()
                with pytest.raises(ConnectionLost, match="protocol error: 1009 a message of over"):
                    await ws.receive()
                assert ws.close_info is not None and 1009 == ws.close_info.code
            await trio.sleep(0.1)
            nursery.cancel_scope.cancel()
    assert [1009] == closes


async def test_refused_handshake_names_the_status_and_body() -> None:
    async def reject(request: WebSocketRequest) -> None:
        await request.reject(404, body=b"no such stream")

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, reject)
            with pytest.raises(ConnectionLost, match=r"refused .*: HTTP 404 no such stream"):
                async with WsClientTransport().connect(url):
                    pass
            nursery.cancel_scope.cancel()


async def _tcp_server(
    nursery: trio.Nursery, handler: Callable[[trio.SocketStream], Awaitable[None]]
) -> int:
    listeners = await nursery.start(trio.serve_tcp, handler, 0)
    return int(listeners[0].socket.getsockname()[1])


async def test_a_server_that_never_answers_the_handshake_times_out() -> None:
    async def silent(stream: trio.SocketStream) -> None:
        await trio.sleep_forever()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _tcp_server(nursery, silent)
            transport = WsClientTransport(connect_timeout=0.3)
            with pytest.raises(ConnectionLost, match=r"timed out after 0\.3 s"):
                async with transport.connect(f"ws://127.0.0.1:{port}/ws"):
                    pass
            nursery.cancel_scope.cancel()


async def _accept_raw(stream: trio.SocketStream) -> WSConnection:
    """A wsproto server's handshake; the caller then writes raw frames."""
    ws = WSConnection(ConnectionType.SERVER)
    while True:
        ws.receive_data(await stream.receive_some(65536))
        if any(isinstance(e, Request) for e in ws.events()):
            break
    await stream.send_all(ws.send(AcceptConnection()))
    return ws


async def test_a_masked_server_frame_is_a_protocol_error_closed_with_1002() -> None:
    closes: list[CloseConnection] = []

    async def masked(stream: trio.SocketStream) -> None:
        ws = await _accept_raw(stream)
        await stream.send_all(
            bytes.fromhex("8102") + b"ok" + bytes.fromhex("8185 37fa213d 7f9f4d5158")
        )
        while not closes:
            ws.receive_data(await stream.receive_some(65536) or None)
            closes.extend(e for e in ws.events() if isinstance(e, CloseConnection))

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _tcp_server(nursery, masked)
            async with WsClientTransport().connect(f"ws://127.0.0.1:{port}/") as ws:
                assert "ok" == await ws.receive()
                with pytest.raises(ConnectionLost, match="protocol error: 1002 a masked frame"):
                    await ws.receive()
            nursery.cancel_scope.cancel()
    assert [1002] == [c.code for c in closes]


async def test_a_dropped_connection_is_connection_lost_1006() -> None:
    async def drop(stream: trio.SocketStream) -> None:
        await _accept_raw(stream)
        await stream.send_all(bytes.fromhex("8102") + b"ok")
        await stream.aclose()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _tcp_server(nursery, drop)
            async with WsClientTransport().connect(f"ws://127.0.0.1:{port}/") as ws:
                assert "ok" == await ws.receive()
                with pytest.raises(ConnectionLost, match="without a close frame"):
                    await ws.receive()
                assert WsClose(code=1006) == ws.close_info
            nursery.cancel_scope.cancel()


async def test_a_ping_the_venue_never_answers_ends_when_the_socket_does() -> None:
    async def ignore_pings_then_drop(stream: trio.SocketStream) -> None:
        await _accept_raw(stream)
        await stream.receive_some(65536)  # the ping, left unanswered
        await stream.aclose()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _tcp_server(nursery, ignore_pings_then_drop)
            async with WsClientTransport().connect(f"ws://127.0.0.1:{port}/") as ws:

                async def reader() -> None:
                    with pytest.raises(ConnectionLost, match="without a close frame"):
                        await ws.receive()

                async with trio.open_nursery() as inner:
                    inner.start_soon(reader)
                    with pytest.raises(ConnectionLost, match="without a close frame"):
                        await ws.ping()
            nursery.cancel_scope.cancel()


async def test_nothing_listening_is_connection_lost() -> None:
    # Bind a port, then close it: nothing listens there any more.
    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    transport = WsClientTransport(connect_timeout=5.0)
    with trio.fail_after(10), pytest.raises(ConnectionLost, match="could not connect"):
        async with transport.connect(f"ws://127.0.0.1:{port}/ws"):
            pass


async def test_a_url_that_is_not_a_websocket_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a ws:// or wss:// URL"):
        async with WsClientTransport().connect("https://example.com/ws"):
            pass


async def test_errors_of_the_block_itself_pass_through_untranslated() -> None:
    transport = WsClientTransport()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, _echo_then_close)
            with pytest.raises(trio.TooSlowError):
                async with transport.connect(url):
                    with trio.fail_after(0.01):
                        await trio.sleep_forever()
            nursery.cancel_scope.cancel()


async def test_the_simulated_binance_pings_are_answered_while_the_client_is_silent() -> None:
    # The simulator drops a client that does not answer for three ping intervals.
    settings = {"binance": {"spot_ping_interval": 0.2}}
    with trio.fail_after(15):
        async with sim.run(venues=("binance",), settings=settings, paused=True) as s:
            url = s.urls["binance"]["spot.ws"] + "/ws"
            async with WsClientTransport().connect(url) as ws:
                replies: list[str | bytes] = []

                async def reader() -> None:
                    replies.append(await ws.receive())

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(reader)
                    await trio.sleep(1.0)  # five intervals
                    assert ws.close_info is None
                    await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 7}))
    assert [{"result": [], "id": 7}] == [json.loads(r) for r in replies]


async def test_receives_a_stream_of_the_simulator() -> None:
    with trio.fail_after(15):
        async with sim.run(venues=("bybit",), rate=200.0) as s:
            url = s.urls["bybit"]["linear.ws"] + "/v5/public/linear"
            async with WsClientTransport().connect(url) as ws:
                await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.50.BTCUSDT"]}))
                frames = [json.loads(await ws.receive()) for _ in range(5)]
    assert frames[0].get("op") == "subscribe" and frames[0]["success"] is True
    assert all(f["topic"] == "orderbook.50.BTCUSDT" for f in frames[1:])
