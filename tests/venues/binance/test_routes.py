"""Binance USDⓈ-M routed websocket endpoints (since 2026-04-23), against the simulator.

The venue serves books, best bid/offer and trades on ``/public`` and aggregate
trades and tickers on ``/market``; its old unrouted ``/stream`` path still
acknowledges every subscription but delivers only ``/public`` streams. These
tests show that the client's USDⓈ-M trades and tickers arrive because it asks
``/market`` for them.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import trio
import trio_websocket

from connector import sim
from connector.bus import Bus
from connector.model import Symbol, Ticker, Trade
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

TIMEOUT = 20
PERP = Symbol.parse("BTC-USDT-PERP")


async def _frames(url: str, seconds: float) -> list[dict[str, object]]:
    """Every data frame a combined-stream socket delivers within ``seconds``."""
    got: list[dict[str, object]] = []
    async with trio_websocket.open_websocket_url(url) as ws:
        with trio.move_on_after(seconds):
            while True:
                got.append(json.loads(await ws.get_message()))
    return got


async def test_usdm_trades_and_tickers_arrive_through_the_market_route() -> None:
    bus = Bus()
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("binance",), rate=200.0) as simulated:
            session = VenueSession(
                driver_for("binance"),
                symbols=(PERP,),
                channels=("trades", "ticker"),
                bus=bus,
                urls=lambda: simulated.urls["binance"],
            )
            async with (
                bus.subscribe("trade.binance.>", buffer=10_000) as trades,
                bus.subscribe("ticker.binance.>", buffer=10_000) as tickers,
                trio.open_nursery() as nursery,
            ):
                await nursery.start(session.supervisor.run)
                trade = await trades.receive()
                ticker = await tickers.receive()
                urls = [c.statistics().url for c in session.market_data.connections]
                nursery.cancel_scope.cancel()
            await session.context.aclose()

    assert isinstance(trade, Trade) and PERP == trade.symbol
    assert isinstance(ticker, Ticker) and PERP == ticker.symbol
    assert ["/market/stream"] == [urlsplit(u).path for u in urls]


async def test_the_unrouted_path_acknowledges_but_delivers_only_public_streams() -> None:
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("binance",), rate=200.0) as simulated:
            base = simulated.urls["binance"]["linear.ws"]
            legacy, routed = await _both(
                f"{base}/stream?streams=btcusdt@aggTrade/btcusdt@depth@100ms",
                f"{base}/market/stream?streams=btcusdt@aggTrade",
            )

    assert {"btcusdt@depth@100ms"} == {f["stream"] for f in legacy}
    assert routed and {"btcusdt@aggTrade"} == {f["stream"] for f in routed}


async def _both(first: str, second: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    results: dict[str, list[dict[str, object]]] = {}

    async def one(url: str) -> None:
        results[url] = await _frames(url, 2.0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(one, first)
        nursery.start_soon(one, second)
    return results[first], results[second]
