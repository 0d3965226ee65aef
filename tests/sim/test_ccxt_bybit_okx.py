"""ccxt's own Bybit and OKX clients against the simulator (sync ccxt in this
thread, the simulator in a background thread with its own trio loop)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import ccxt
import pytest
import trio

from connector.sim.standalone import run


@pytest.fixture(scope="module")
def sim_urls() -> Iterator[dict[str, dict[str, str]]]:
    started: queue.Queue[tuple[dict[str, dict[str, str]], trio.lowlevel.TrioToken, trio.Event]] = (
        queue.Queue()
    )

    async def serve() -> None:
        stop = trio.Event()
        with trio.fail_after(120):
            async with run(venues=("bybit", "okx"), rate=200) as sim:
                started.put((sim.urls, trio.lowlevel.current_trio_token(), stop))
                await stop.wait()

    thread = threading.Thread(target=trio.run, args=(serve,), daemon=True)
    thread.start()
    urls, token, stop = started.get(timeout=30)
    try:
        yield urls
    finally:
        trio.from_thread.run_sync(stop.set, trio_token=token)
        thread.join(timeout=10)


def _check(exchange: Any, symbol: str) -> None:
    book = exchange.fetch_order_book(symbol, limit=50)
    assert book["bids"] and book["asks"]
    assert book["bids"][0][0] < book["asks"][0][0]
    ticker = exchange.fetch_ticker(symbol)
    assert ticker["bid"] is not None and ticker["ask"] is not None
    assert ticker["bid"] < ticker["ask"]
    trades = exchange.fetch_trades(symbol, limit=5)
    assert trades and all(t["side"] in ("buy", "sell") for t in trades)


def test_ccxt_bybit_loads_markets_and_fetches_books_tickers_trades(
    sim_urls: dict[str, dict[str, str]],
) -> None:
    base = sim_urls["bybit"]["spot.rest"]
    exchange = ccxt.bybit({"timeout": 10_000})
    exchange.urls["api"] = {k: base for k in ("spot", "futures", "v2", "public", "private")}
    markets = exchange.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT", "BTC/USDT:USDT"} <= set(markets)
    assert 0.1 == markets["BTC/USDT"]["precision"]["price"]
    _check(exchange, "BTC/USDT")
    _check(exchange, "ETH/USDT:USDT")


def test_ccxt_okx_loads_markets_and_fetches_books_tickers_trades(
    sim_urls: dict[str, dict[str, str]],
) -> None:
    exchange = ccxt.okx({"timeout": 10_000})
    exchange.urls["api"] = {"rest": sim_urls["okx"]["spot.rest"]}
    markets = exchange.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT", "BTC/USDT:USDT"} <= set(markets)
    assert 0.01 == markets["BTC/USDT:USDT"]["contractSize"]
    _check(exchange, "BTC/USDT")
    _check(exchange, "SOL/USDT:USDT")
