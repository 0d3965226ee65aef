"""A third-party client (ccxt, sync) loads every Binance market type and reads trades and candles.

ccxt's ``binance`` asks for spot, USDⓈ-M and COIN-M ``exchangeInfo`` when told
to load every type; its default ``fetch_trades`` reads ``aggTrades`` and
``fetch_ohlcv`` reads ``klines``.
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
            async with sim.run(venues=("binance",), rate=200, seed=5) as s:
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


def client(urls: dict[str, str]) -> Any:
    types = ["spot", "linear", "inverse"]
    c = ccxt.binance({"timeout": 10_000, "options": {"fetchMarkets": {"types": types}}})
    api = dict(c.urls["api"])
    for key in api:
        if key.startswith(("fapi", "dapi")):
            root = "/fapi/" if key.startswith("fapi") else "/dapi/"
            api[key] = urls["linear.rest"] + root + api[key].rsplit("/", 1)[-1]
        elif key in ("public", "private", "v1"):
            api[key] = urls["spot.rest"] + "/api/" + api[key].rsplit("/", 1)[-1]
    c.urls["api"] = api
    return c


def test_ccxt_loads_spot_usdm_and_coin_m_markets(binance_urls: dict[str, str]) -> None:
    markets = client(binance_urls).load_markets()
    assert {"BTC/USDT", "BTC/USDT:USDT"} <= set(markets)
    assert not any(m["inverse"] for m in markets.values())


@pytest.mark.parametrize("symbol", ["BTC/USDT", "BTC/USDT:USDT"])
def test_ccxt_reads_agg_trades_and_candles(binance_urls: dict[str, str], symbol: str) -> None:
    c = client(binance_urls)
    trades = c.fetch_trades(symbol, limit=5)
    candles = c.fetch_ohlcv(symbol, "1m", limit=3)
    assert 5 == len(trades)
    assert all(t["id"] for t in trades)
    assert candles
    assert all(len(row) == 6 and row[2] >= row[3] for row in candles)
