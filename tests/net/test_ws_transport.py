"""TrioWebsocketTransport against trio-websocket servers on loopback; failures: ConnectionLost."""

from __future__ import annotations

import contextlib

import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketRequest, serve_websocket

from connector.errors import ConnectionLost
from connector.net.ws_transport import TrioWebsocketTransport, WsClose


async def _echo_then_close(request: WebSocketRequest) -> None:
    ws = await request.accept()
    with contextlib.suppress(ConnectionClosed):
        message = await ws.get_message()
        await ws.send_message(f"echo {message}")
        await ws.aclose(4001, "done here")


async def _reject(request: WebSocketRequest) -> None:
    await request.reject(404)


async def _serve(nursery: trio.Nursery, handler: object) -> str:
    listener = await nursery.start(serve_websocket, handler, "127.0.0.1", 0, None)
    return f"ws://127.0.0.1:{listener.port}/ws"


async def test_messages_pings_and_the_venue_close_code() -> None:
    transport = TrioWebsocketTransport()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, _echo_then_close)
            async with transport.connect(url) as ws:
                await ws.ping()
                await ws.send("hi")
                assert "echo hi" == await ws.receive()
                with pytest.raises(ConnectionLost, match="closed by venue: 4001 done here"):
                    await ws.receive()
                assert WsClose(code=4001, reason="done here") == ws.close_info
                with pytest.raises(ConnectionLost):
                    await ws.send("after close")
            nursery.cancel_scope.cancel()


async def test_refused_handshake_is_connection_lost() -> None:
    transport = TrioWebsocketTransport()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, _reject)
            with pytest.raises(ConnectionLost, match="handshake failed"):
                async with transport.connect(url):
                    pass
            nursery.cancel_scope.cancel()


async def test_nothing_listening_is_connection_lost() -> None:
    # Bind a port, then close it: nothing listens there any more.
    sock = trio.socket.socket()
    await sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    transport = TrioWebsocketTransport(connect_timeout=5.0)
    with trio.fail_after(10), pytest.raises(ConnectionLost):
        async with transport.connect(f"ws://127.0.0.1:{port}/ws"):
            pass


async def test_errors_of_the_block_itself_pass_through_untranslated() -> None:
    transport = TrioWebsocketTransport()
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            url = await _serve(nursery, _echo_then_close)
            with pytest.raises(trio.TooSlowError):
                async with transport.connect(url):
                    with trio.fail_after(0.01):
                        await trio.sleep_forever()
            nursery.cancel_scope.cancel()
