"""ccxt and ccxt.pro against the simulator: Binance spot, Binance USDⓈ-M, Bybit and OKX.

Each client is built with its default options; only the base URLs in its
``urls["api"]`` tree are rewritten (the real hosts replaced by the simulator's,
paths kept), as docs/simulator.md shows. The one heuristic that cannot work on
loopback: ccxt.pro's Binance client takes a connection whose URL contains
``/stream`` for spot (the real host is ``stream.binance.com``); the simulator's
spot websocket URL is given the user name ``stream`` (``ws://stream@127.0.0.1:…``)
so the check still tells spot from futures.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.compat.conftest import Urls, run_async, within

ccxt = pytest.importorskip("ccxt")
ccxt_pro = pytest.importorskip("ccxt.pro")

pytestmark = pytest.mark.timeout(60)


def rebase(tree: Any, hosts: dict[str, str]) -> Any:
    """``tree`` (a ccxt ``urls["api"]`` value) with every URL under a key of ``hosts`` moved."""
    if isinstance(tree, dict):
        return {key: rebase(value, hosts) for key, value in tree.items()}
    if isinstance(tree, str):
        for old, new in hosts.items():
            if tree.startswith(old):
                return new + tree[len(old) :]
    return tree


def binance_hosts(urls: Urls) -> dict[str, str]:
    """The real Binance hosts and the simulator's (spot, USDⓈ-M, COIN-M)."""
    b = urls["binance"]
    inverse_rest = b.get("inverse.rest", b["linear.rest"])
    inverse_ws = b.get("inverse.ws", b["linear.ws"])
    return {
        "https://api.binance.com": b["spot.rest"],
        "https://fapi.binance.com": b["linear.rest"],
        "https://dapi.binance.com": inverse_rest,
        # ccxt.pro takes a URL containing "/stream" for spot: keep the word in it.
        "wss://stream.binance.com:9443": b["spot.ws"].replace("://", "://stream@", 1),
        "wss://fstream.binance.com": b["linear.ws"],
        "wss://dstream.binance.com": inverse_ws,
    }


def bybit_urls(client: Any, urls: Urls) -> dict[str, Any]:
    """Bybit's ``urls["api"]`` on the simulator (REST on one host, one socket per category)."""
    b = urls["bybit"]
    api = {key: b["spot.rest"] for key, value in client.urls["api"].items() if key != "ws"}
    ws = dict(client.urls["api"].get("ws", {}))  # ccxt.pro's clients only
    ws["public"] = {
        "spot": b["spot.ws"] + "/v5/public/spot",
        "linear": b["linear.ws"] + "/v5/public/linear",
        "inverse": b["linear.ws"] + "/v5/public/inverse",
        "option": b["linear.ws"] + "/v5/public/option",
    }
    api["ws"] = ws
    return api


def okx_urls(urls: Urls) -> dict[str, str]:
    """OKX's ``urls["api"]`` on the simulator."""
    return {"rest": urls["okx"]["spot.rest"], "ws": urls["okx"]["spot.ws"] + "/ws/v5"}


def point(client: Any, venue: str, urls: Urls) -> Any:
    """``client`` with its base URLs on the simulator (nothing else changed)."""
    if venue == "binance":
        client.urls["api"] = rebase(client.urls["api"], binance_hosts(urls))
    elif venue == "bybit":
        client.urls["api"] = bybit_urls(client, urls)
    else:
        client.urls["api"] = okx_urls(urls)
    return client


# (ccxt class name, venue, a spot-or-swap symbol, the market type it must be)
CASES = [
    ("binance", "binance", "BTC/USDT", "spot"),
    ("binanceusdm", "binance", "BTC/USDT:USDT", "swap"),
    ("bybit", "bybit", "BTC/USDT", "spot"),
    ("bybit", "bybit", "ETH/USDT:USDT", "swap"),
    ("okx", "okx", "BTC/USDT", "spot"),
    ("okx", "okx", "SOL/USDT:USDT", "swap"),
]
IDS = [f"{name}-{symbol}" for name, _, symbol, _ in CASES]


def check_book(book: dict[str, Any], symbol: str) -> None:
    assert symbol == book["symbol"]
    assert book["bids"] and book["asks"]
    assert book["bids"][0][0] < book["asks"][0][0]
    assert [b[0] for b in book["bids"]] == sorted((b[0] for b in book["bids"]), reverse=True)
    assert [a[0] for a in book["asks"]] == sorted(a[0] for a in book["asks"])


def check_trades(trades: list[dict[str, Any]], symbol: str) -> None:
    assert trades
    assert all(t["symbol"] == symbol for t in trades)
    assert all(t["side"] in ("buy", "sell") for t in trades)
    assert all(t["price"] > 0 and t["amount"] > 0 for t in trades)


def check_ticker(ticker: dict[str, Any], symbol: str) -> None:
    assert symbol == ticker["symbol"]
    assert ticker["last"] is not None and ticker["last"] > 0
    if ticker["bid"] is not None and ticker["ask"] is not None:
        assert ticker["bid"] < ticker["ask"]


def rest(name: str, venue: str, urls: Urls) -> Any:
    """A ccxt REST client on the simulator, its markets loaded."""
    client = point(getattr(ccxt, name)(), venue, urls)
    client.load_markets()
    return client


@pytest.mark.parametrize(("name", "venue", "symbol", "kind"), CASES, ids=IDS)
def test_ccxt_load_markets_lists_the_symbol(
    sim_urls: Urls, name: str, venue: str, symbol: str, kind: str
) -> None:
    markets = rest(name, venue, sim_urls).markets
    assert markets[symbol]["type"] == kind
    assert markets[symbol]["precision"]["price"] > 0


@pytest.mark.parametrize(("name", "venue", "symbol", "kind"), CASES, ids=IDS)
def test_ccxt_fetch_order_book_is_sorted_and_uncrossed(
    sim_urls: Urls, name: str, venue: str, symbol: str, kind: str
) -> None:
    check_book(rest(name, venue, sim_urls).fetch_order_book(symbol), symbol)


@pytest.mark.parametrize(("name", "venue", "symbol", "kind"), CASES, ids=IDS)
def test_ccxt_fetch_ticker_has_a_last_price(
    sim_urls: Urls, name: str, venue: str, symbol: str, kind: str
) -> None:
    check_ticker(rest(name, venue, sim_urls).fetch_ticker(symbol), symbol)


@pytest.mark.parametrize(("name", "venue", "symbol", "kind"), CASES, ids=IDS)
def test_ccxt_fetch_trades_returns_the_limit(
    sim_urls: Urls, name: str, venue: str, symbol: str, kind: str
) -> None:
    trades = rest(name, venue, sim_urls).fetch_trades(symbol, limit=5)
    check_trades(trades, symbol)
    assert 5 == len(trades)


@pytest.mark.parametrize(("name", "venue", "symbol", "kind"), CASES, ids=IDS)
def test_ccxt_fetch_ohlcv_returns_consistent_candles(
    sim_urls: Urls, name: str, venue: str, symbol: str, kind: str
) -> None:
    candles = rest(name, venue, sim_urls).fetch_ohlcv(symbol, "1m")
    assert candles
    for _ts, open_, high, low, close, volume in candles:
        assert 0 < low <= min(open_, close) <= max(open_, close) <= high
        assert volume >= 0
    assert [c[0] for c in candles] == sorted(c[0] for c in candles)


def test_ccxt_binance_spot_markets_keep_the_venue_tick(sim_urls: Urls) -> None:
    client = point(ccxt.binance(), "binance", sim_urls)
    markets = client.load_markets()
    spot_book = client.fetch_order_book("BTC/USDT", limit=20)
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT", "BTC/USDT:USDT"} <= set(markets)
    assert 0.01 == markets["BTC/USDT"]["precision"]["price"]
    assert markets["BTC/USDT:USDT"]["linear"]
    assert 20 == len(spot_book["bids"]) == len(spot_book["asks"])
    # The market-order maximum (MARKET_LOT_SIZE), as listed, far below LOT_SIZE's.
    assert 97.09521512 == markets["BTC/USDT"]["limits"]["market"]["max"]
    assert 120 == markets["BTC/USDT:USDT"]["limits"]["market"]["max"]
    assert markets["BTC/USDT"]["limits"]["amount"]["max"] == 9000


def test_ccxt_binanceusdm_book_honours_the_limit(sim_urls: Urls) -> None:
    client = point(ccxt.binanceusdm(), "binance", sim_urls)
    book = client.fetch_order_book("BTC/USDT:USDT", limit=50)
    assert 0 < len(book["bids"]) <= 50
    assert 0 < len(book["asks"]) <= 50


@pytest.mark.parametrize(
    ("name", "symbol"), [("binance", "BTC/USDT"), ("binanceusdm", "BTC/USDT:USDT")]
)
def test_ccxt_binance_last_prices_are_the_tickers_last(
    sim_urls: Urls, name: str, symbol: str
) -> None:
    # GET /api/v3/ticker/price, /fapi/v2/ticker/price.
    client = rest(name, "binance", sim_urls)
    last = client.fetch_last_prices([symbol])[symbol]
    assert symbol == last["symbol"] and last["price"] > 0


def test_ccxt_bybit_and_okx_markets_list_both_kinds(sim_urls: Urls) -> None:
    bybit = point(ccxt.bybit(), "bybit", sim_urls).load_markets()
    okx = point(ccxt.okx(), "okx", sim_urls).load_markets()
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT", "BTC/USDT:USDT"} <= set(bybit)
    assert 0.1 == bybit["BTC/USDT"]["precision"]["price"]
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT", "BTC/USDT:USDT"} <= set(okx)
    assert 0.01 == okx["BTC/USDT:USDT"]["contractSize"]


@pytest.mark.parametrize(("name", "venue", "symbol", "kind"), CASES, ids=IDS)
def test_ccxt_pro_watches_book_trades_and_ticker(
    sim_urls: Urls, name: str, venue: str, symbol: str, kind: str
) -> None:
    async def main() -> None:
        client = point(getattr(ccxt_pro, name)(), venue, sim_urls)
        try:
            # ccxt.pro builds an OKX book only from a pushed snapshot, which OKX no longer
            # sends: with its defaults it gets no OKX book (pinned by the test below).
            if venue != "okx":
                first = await within(client.watch_order_book(symbol))
                check_book(first, symbol)
                first_nonce = first["nonce"]
                second = await within(client.watch_order_book(symbol))
                check_book(second, symbol)
                if first_nonce is not None:
                    assert second["nonce"] > first_nonce
            trades = await within(client.watch_trades(symbol))
            check_trades(trades, symbol)
            ticker = await within(client.watch_ticker(symbol))
            check_ticker(ticker, symbol)
        finally:
            await client.close()

    run_async(main)


@pytest.mark.parametrize("symbol", ["BTC/USDT", "SOL/USDT:USDT"])
def test_ccxt_pro_okx_default_books_depth_waits_for_a_snapshot_okx_no_longer_pushes(
    sim_urls: Urls, symbol: str
) -> None:
    """ccxt 4.5.90 ignores `books` updates until an `action: snapshot` arrives; OKX delisted
    that snapshot (production August 2026), so the default depth yields no book against the
    venue either. When ccxt follows the REST-snapshot procedure this test fails: check
    OKX books in the test above then."""

    async def main() -> None:
        client = point(ccxt_pro.okx(), "okx", sim_urls)
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.watch_order_book(symbol), 2.0)
        finally:
            await client.close()

    run_async(main)
