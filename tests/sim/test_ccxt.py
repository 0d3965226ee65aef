"""A third-party client (ccxt, sync) reads markets, books, tickers and trades from the simulator.

ccxt's async flavour needs asyncio, so the simulator runs in a background
thread with its own trio loop and the sync ccxt client talks to it.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from connector import sim

ccxt = pytest.importorskip("ccxt")


@pytest.fixture(scope="module")
def binance_urls() -> Iterator[dict[str, str]]:
    ready: queue.Queue[dict[str, str]] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        with trio.fail_after(20) as limit:  # start-up
            async with sim.run(venues=("binance",), rate=200, seed=4) as s:
                s.venue("binance").move_market("spot", "BTCUSDT", 1)
                s.venue("binance").move_market("linear", "BTCUSDT", 1)
                ready.put(s.urls["binance"])
                limit.deadline = math.inf  # the module's tests run meanwhile
                await trio.to_thread.run_sync(stop.wait)
                limit.deadline = trio.current_time() + 10  # shutdown

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    urls = ready.get(timeout=20)
    yield urls
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _client(cls: Any, urls: dict[str, str], types: list[str]) -> Any:
    client = cls({"timeout": 10_000, "options": {"fetchMarkets": {"types": types}}})
    api = dict(client.urls["api"])
    for key in api:
        if key.startswith("fapi"):
            api[key] = urls["linear.rest"] + "/fapi/" + api[key].rsplit("/", 1)[-1]
        elif key in ("public", "private", "v1"):
            api[key] = urls["spot.rest"] + "/api/" + api[key].rsplit("/", 1)[-1]
    client.urls["api"] = api
    return client


def test_ccxt_binance_spot_loads_markets_book_ticker_and_trades(
    binance_urls: dict[str, str],
) -> None:
    client = _client(ccxt.binance, binance_urls, ["spot"])
    markets = client.load_markets()
    book = client.fetch_order_book("BTC/USDT", limit=20)
    ticker = client.fetch_ticker("BTC/USDT")
    # The simulator serves /trades, not /aggTrades.
    trades = client.fetch_trades(
        "BTC/USDT", limit=5, params={"fetchTradesMethod": "publicGetTrades"}
    )
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT"} <= set(markets)
    assert 0.01 == markets["BTC/USDT"]["precision"]["price"]
    assert 20 == len(book["bids"])
    assert book["bids"][0][0] < book["asks"][0][0]
    assert ticker["last"] > 0
    assert 5 == len(trades)


def test_ccxt_binanceusdm_loads_markets_book_ticker_and_trades(
    binance_urls: dict[str, str],
) -> None:
    client = _client(ccxt.binanceusdm, binance_urls, ["linear"])
    markets = client.load_markets()
    book = client.fetch_order_book("BTC/USDT:USDT", limit=50)
    ticker = client.fetch_ticker("BTC/USDT:USDT")
    trades = client.fetch_trades(
        "BTC/USDT:USDT", limit=5, params={"fetchTradesMethod": "fapiPublicGetTrades"}
    )
    assert "BTC/USDT:USDT" in markets
    assert markets["BTC/USDT:USDT"]["linear"]
    assert 0 < len(book["bids"]) <= 50
    assert book["bids"][0][0] < book["asks"][0][0]
    assert ticker["last"] > 0
    assert 5 == len(trades)
