"""USDⓈ-M routed websocket paths, the legacy unrouted ones, and SUBSCRIBE replies.

Facts: docs/venues/binance.md, "Audit (checked 2026-12-02)" B1–B5, B8, B29
and "Facts for issue 10" (the Binance change notice of 2026-03-06, legacy
paths retired 2026-04-23; binance-connector-python#526 for the silent
``/market`` streams on the unrouted path).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from trio_websocket import HandshakeError, WebSocketConnection, open_websocket_url

from connector import sim
from connector.errors import ConfigError


@pytest.fixture
async def binance() -> AsyncIterator[sim.SimRun]:
    with trio.fail_after(60):
        async with sim.run(venues=("binance",), rate=300, seed=3) as s:
            yield s


async def collect(
    s: sim.SimRun, ws: WebSocketConnection, market: str, seconds: float = 2.5
) -> list[Any]:
    """Every frame for ``seconds`` while the market trades (moves make trades)."""
    frames: list[Any] = []
    hub = s.venue("binance")
    with trio.move_on_after(seconds):
        while True:
            hub.move_market(market, "BTCUSDT", 0.2)
            with trio.move_on_after(0.3):
                while True:
                    frames.append(json.loads(await ws.get_message()))
    return frames


def streams_of(frames: list[Any]) -> set[str]:
    return {f["stream"] for f in frames if "stream" in f}


async def subscribe(ws: WebSocketConnection, params: list[str], req_id: int) -> Any:
    await ws.send_message(json.dumps({"method": "SUBSCRIBE", "params": params, "id": req_id}))
    while True:
        frame = json.loads(await ws.get_message())
        if frame.get("id") == req_id:
            return frame


async def test_routed_paths_deliver_their_own_streams_in_ws_and_stream_mode(
    binance: sim.SimRun,
) -> None:
    base = binance.urls["binance"]["linear.ws"]
    with trio.fail_after(30):
        async with open_websocket_url(
            base + "/market/stream?streams=btcusdt@aggTrade/btcusdt@ticker"
        ) as market:
            market_frames = await collect(binance, market, "linear")
        async with open_websocket_url(base + "/public/ws/btcusdt@bookTicker/btcusdt@trade") as ws:
            public_frames = await collect(binance, ws, "linear")
    assert {"btcusdt@aggTrade", "btcusdt@ticker"} == streams_of(market_frames)
    assert {"bookTicker", "trade"} == {f["e"] for f in public_frames}


async def test_a_stream_on_the_wrong_route_is_acknowledged_and_silent(
    binance: sim.SimRun,
) -> None:
    base = binance.urls["binance"]["linear.ws"]
    with trio.fail_after(30):
        async with open_websocket_url(base + "/public/stream") as ws:
            reply = await subscribe(ws, ["btcusdt@aggTrade", "btcusdt@depth@100ms"], 1)
            frames = await collect(binance, ws, "linear")
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
            listed = [f for f in await collect(binance, ws, "linear", 0.5) if f.get("id") == 2]
    assert {"result": None, "id": 1} == reply
    assert {"btcusdt@depth@100ms"} == streams_of(frames)
    assert [{"result": ["btcusdt@aggTrade", "btcusdt@depth@100ms"], "id": 2}] == listed


async def test_unrouted_usdm_paths_deliver_only_public_streams(binance: sim.SimRun) -> None:
    base = binance.urls["binance"]["linear.ws"]
    with trio.fail_after(30):
        async with open_websocket_url(
            base + "/stream?streams=btcusdt@aggTrade/btcusdt@bookTicker/btcusdt@kline_1m"
        ) as ws:
            frames = await collect(binance, ws, "linear")
        async with open_websocket_url(base + "/ws") as raw:
            reply = await subscribe(raw, ["btcusdt@ticker", "btcusdt@trade"], 5)
            raw_frames = await collect(binance, raw, "linear")
    assert {"btcusdt@bookTicker"} == streams_of(frames)
    assert {"result": None, "id": 5} == reply
    assert {"trade"} == {f["e"] for f in raw_frames}


async def test_legacy_routing_serves_every_stream_unrouted_and_no_routed_paths() -> None:
    settings = {"binance": {"routing": "legacy"}}
    async with sim.run(venues=("binance",), rate=300, seed=3, settings=settings) as s:
        base = s.urls["binance"]["linear.ws"]
        with trio.fail_after(30):
            async with open_websocket_url(
                base + "/stream?streams=btcusdt@aggTrade/btcusdt@bookTicker"
            ) as ws:
                frames = await collect(s, ws, "linear")
            with pytest.raises(HandshakeError):
                async with open_websocket_url(base + "/market/ws/btcusdt@aggTrade"):
                    pass
    assert {"btcusdt@aggTrade", "btcusdt@bookTicker"} == streams_of(frames)


def test_routing_setting_refuses_an_unknown_mode() -> None:
    async def main() -> None:
        async with sim.run(venues=("binance",), settings={"binance": {"routing": "split"}}):
            pass

    with pytest.raises(ConfigError, match="routing must be"):
        trio.run(main)


async def test_spot_is_not_routed(binance: sim.SimRun) -> None:
    base = binance.urls["binance"]["spot.ws"]
    with trio.fail_after(30):
        async with open_websocket_url(
            base + "/stream?streams=btcusdt@aggTrade/btcusdt@bookTicker"
        ) as ws:
            frames = await collect(binance, ws, "spot")
    assert {"btcusdt@aggTrade", "btcusdt@bookTicker"} == streams_of(frames)


@pytest.mark.parametrize(
    ("market", "path"), [("spot", "/ws"), ("linear", "/market/ws"), ("linear", "/ws")]
)
async def test_a_malformed_stream_gets_the_invalid_stream_error_and_subscribes_nothing(
    binance: sim.SimRun, market: str, path: str
) -> None:
    url = binance.urls["binance"][f"{market}.ws"] + path
    with trio.fail_after(10):
        async with open_websocket_url(url) as ws:
            error = await subscribe(ws, ["btcusdt@trade", "btcusdt@nonsense"], 3)
            await trio.sleep(0.3)  # stay under five messages a second
            unknown_symbol = await subscribe(ws, ["nopeusdt@aggTrade"], 4)
            await trio.sleep(0.3)
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 5}))
            listed = await subscribe_reply(ws, 5)
    assert {"error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 3} == error
    assert {"result": None, "id": 4} == unknown_symbol
    assert ["nopeusdt@aggTrade"] == listed["result"]


async def subscribe_reply(ws: WebSocketConnection, req_id: int) -> Any:
    while True:
        frame = json.loads(await ws.get_message())
        if frame.get("id") == req_id:
            return frame


async def test_usdm_connections_take_1024_streams(binance: sim.SimRun) -> None:
    url = binance.urls["binance"]["linear.ws"] + "/public/ws"
    names = [f"sym{i}usdt@trade" for i in range(1025)]
    with trio.fail_after(10):
        async with open_websocket_url(url, max_message_size=1 << 22) as ws:
            ok = await subscribe(ws, names[:1024], 1)
            await trio.sleep(0.3)
            too_many = await subscribe(ws, names[1024:], 2)
    assert {"result": None, "id": 1} == ok
    assert (2, 2) == (too_many["error"]["code"], too_many["id"])
