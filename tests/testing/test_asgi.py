"""connector.testing's ASGI driving: websocket and REST to an ASGI app, no socket on our side."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable, Hashable, Iterator
from typing import Any

import pytest
import trio

import connector.sim
from connector.errors import ConnectionLost
from connector.net.http import RestClient
from connector.net.rpc import RpcClient
from connector.net.ws import Answer, ConnectionBudget, Greeting, Heartbeat, WsConnection
from connector.supervision.backoff import Backoff
from connector.testing import AsgiApp, AsgiWebsocketTransport, asgi_http_transport

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class EchoApp:
    """A small ASGI app: websocket ``/echo`` echoes until told ``close``; REST echoes the query."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.disconnects: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "http":
            await receive()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": scope["query_string"]})
            return
        assert {"type": "websocket.connect"} == await receive()
        if scope["path"] != "/echo":
            await send({"type": "websocket.http.response.start", "status": 404, "headers": []})
            await send({"type": "websocket.http.response.body", "body": b""})
            return
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnects.append(message)
                return
            if message.get("text") == "close":
                await send({"type": "websocket.close", "code": 4000, "reason": "asked to"})
                return
            await send({"type": "websocket.send", "text": f"echo {message.get('text')}"})


async def test_websocket_to_an_asgi_app_echoes_and_sees_the_app_close() -> None:
    app = EchoApp()
    transport = AsgiWebsocketTransport(app)
    with trio.fail_after(5):
        async with transport.connect("ws://venue.test:8443/echo?streams=a/b") as ws:
            await ws.send("hi")
            assert "echo hi" == await ws.receive()
            await ws.send("close")
            with pytest.raises(ConnectionLost, match="closed by venue: 4000 asked to"):
                await ws.receive()

    scope = app.scopes[0]
    assert ("websocket", "/echo", b"streams=a/b", ("venue.test", 8443)) == (
        scope["type"],
        scope["path"],
        scope["query_string"],
        scope["server"],
    )


async def test_client_close_reaches_the_app_as_a_disconnect() -> None:
    app = EchoApp()
    transport = AsgiWebsocketTransport(app)
    with trio.fail_after(5):
        async with transport.connect("ws://venue.test/echo") as ws:
            await ws.aclose(1000, "bye")

    assert [{"type": "websocket.disconnect", "code": 1000, "reason": "bye"}] == app.disconnects


async def test_handshake_refused_by_the_app_is_connection_lost() -> None:
    transport = AsgiWebsocketTransport(EchoApp())
    with trio.fail_after(5), pytest.raises(ConnectionLost, match="handshake failed: status 404"):
        async with transport.connect("ws://venue.test/nowhere"):
            pass


async def test_rest_to_an_asgi_app_through_the_rest_client() -> None:
    client = RestClient("test", "http://venue.test", transport=asgi_http_transport(EchoApp()))
    try:
        response = await client.get("/status", {"symbol": "BTCUSDT"})
    finally:
        await client.aclose()

    assert (200, b"symbol=BTCUSDT") == (response.status, response.body)


# --------------------------------------------------------------------------- the simulator


def _asgi_apps(root: object, depth: int = 3) -> Iterator[tuple[object, AsgiApp]]:
    """Venue endpoints under a simulator front-end, found by shape (``ws_url`` and an ASGI app).

    By shape rather than by class, so the test survives the simulator's
    modules being reorganised.
    """
    seen: set[int] = set()
    todo: list[tuple[object, int]] = [(root, depth)]
    while todo:
        obj, left = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        app = getattr(obj, "app", None) or getattr(obj, "_app", None)
        if hasattr(obj, "ws_url") and callable(app):
            yield obj, app
            continue
        if left == 0:
            continue
        values = obj.values() if isinstance(obj, dict) else getattr(obj, "__dict__", {}).values()
        todo.extend((v, left - 1) for v in values if not isinstance(v, (str, bytes, int, float)))


class DepthStream:
    """Subscribes to one Binance diff stream; ready once the venue acknowledges the subscription."""

    def __init__(self, updates: trio.MemorySendChannel[dict[str, Any]]) -> None:
        self.updates = updates
        self.rpc: RpcClient | None = None
        self.closes: list[str] = []

    def on_open(self) -> Greeting:
        subscribe = {"method": "SUBSCRIBE", "params": ["btcusdt@depth@0ms"], "id": "sub"}
        return Greeting(frames=[json.dumps(subscribe)], ready=False, ack_timeout=5.0)

    def on_frame(self, data: str | bytes, ts_recv_ns: int) -> Answer | None:
        message = json.loads(data)
        if message.get("id") == "sub":
            if "error" in message:
                return Answer(fail=f"subscribe refused: {message['error']}")
            return Answer(ready=True)
        assert self.rpc is not None
        if self.rpc.on_frame(data, ts_recv_ns):
            return None
        if message.get("e") == "depthUpdate":
            self.updates.send_nowait(message)
        return None

    def on_stale(self, key: Hashable) -> None:
        pass

    def on_close(self, reason: str) -> None:
        self.closes.append(reason)
        assert self.rpc is not None
        self.rpc.connection_lost(reason)


def binance_reply_id(data: str | bytes) -> str | None:
    message = json.loads(data)
    if "id" in message and ("result" in message or "error" in message):
        return str(message["id"])
    return None


async def test_streams_from_the_simulators_asgi_app_in_memory() -> None:
    with trio.fail_after(30):
        async with connector.sim.run(venues=("binance",), paused=True) as sim:
            endpoints = [
                (endpoint, app)
                for endpoint, app in _asgi_apps(sim.frontends["binance"])
                if getattr(endpoint, "market", None) == "spot"
            ]
            assert 1 == len(endpoints)
            app = endpoints[0][1]

            rest = RestClient("binance", "http://binance.sim", transport=asgi_http_transport(app))
            try:
                snapshot = json.loads(
                    (await rest.get("/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5})).body
                )
            finally:
                await rest.aclose()

            send_update, updates = trio.open_memory_channel[dict[str, Any]](100)
            handler = DepthStream(send_update)
            conn = WsConnection(
                venue="binance",
                conn_id="memory-0",
                url="ws://binance.sim/ws",
                handler=handler,
                heartbeat=Heartbeat(interval=3600.0, ping=None, timeout=60.0),
                budget=ConnectionBudget("binance"),
                transport=AsgiWebsocketTransport(app),
                backoff=Backoff(initial=0.1, maximum=0.1, jitter=0.0),
                rng=random.Random(1),
                start_when_ready=True,
            )
            handler.rpc = RpcClient(
                send=conn.send_request, reply_id=binance_reply_id, venue="binance", id_prefix="q"
            )
            async with trio.open_nursery() as nursery:
                await nursery.start(conn.run)  # returns once the SUBSCRIBE was acknowledged
                listed = await handler.rpc.call(
                    lambda rid: json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": rid})
                )

                sim.venue("binance").step(20, market="spot", native_id="BTCUSDT")
                first = await updates.receive()
                second = await updates.receive()

                assert ["btcusdt@depth@0ms"] == json.loads(listed.data)["result"]
                assert snapshot["lastUpdateId"] + 1 == first["U"]
                assert first["u"] + 1 == second["U"]
                assert "BTCUSDT" == first["s"]
                assert 1 == conn.statistics().connects
                nursery.cancel_scope.cancel()
            assert [] == handler.closes
