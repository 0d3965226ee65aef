"""pybit (Bybit's official client) against the simulator, spot and linear.

pybit builds its URLs from templates (``https://{SUBDOMAIN}.{DOMAIN}.{TLD}``),
so the base URL is changed where pybit keeps it: ``HTTP().endpoint`` after
construction, and the module's ``PUBLIC_WSS`` template before a ``WebSocket``
is built (it connects in its constructor). Everything else is pybit's default.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.compat.conftest import Inbox, Urls

pytest.importorskip("pybit")

from pybit import unified_trading

pytestmark = pytest.mark.timeout(60)

CASES = [("spot", "BTCUSDT"), ("linear", "ETHUSDT")]
IDS = [category for category, _ in CASES]


def http(urls: Urls, category: str) -> Any:
    session = unified_trading.HTTP()
    session.endpoint = urls["bybit"][f"{category}.rest"]
    return session


@pytest.fixture
def websocket(
    sim_urls: Urls, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Any]:
    category: str = request.param
    base = sim_urls["bybit"][f"{category}.ws"]
    monkeypatch.setattr(unified_trading, "PUBLIC_WSS", base + "/v5/public/{CHANNEL_TYPE}")
    ws = unified_trading.WebSocket(testnet=False, channel_type=category)
    try:
        yield ws
    finally:
        ws.exit()


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert 0 == reply["retCode"], reply
    result: dict[str, Any] = reply["result"]
    return result


@pytest.mark.parametrize(("category", "symbol"), CASES, ids=IDS)
def test_pybit_get_instruments_info_lists_the_symbol(
    sim_urls: Urls, category: str, symbol: str
) -> None:
    result = ok(http(sim_urls, category).get_instruments_info(category=category))
    listed = {i["symbol"]: i for i in result["list"]}
    assert symbol in listed
    assert Decimal(listed[symbol]["priceFilter"]["tickSize"]) > 0


@pytest.mark.parametrize(("category", "symbol"), CASES, ids=IDS)
def test_pybit_get_orderbook_is_uncrossed(sim_urls: Urls, category: str, symbol: str) -> None:
    result = ok(http(sim_urls, category).get_orderbook(category=category, symbol=symbol))
    assert symbol == result["s"]
    assert result["b"] and result["a"]
    assert Decimal(result["b"][0][0]) < Decimal(result["a"][0][0])


@pytest.mark.parametrize(("category", "symbol"), CASES, ids=IDS)
def test_pybit_get_tickers_has_bid_below_ask(sim_urls: Urls, category: str, symbol: str) -> None:
    result = ok(http(sim_urls, category).get_tickers(category=category, symbol=symbol))
    (ticker,) = result["list"]
    assert symbol == ticker["symbol"]
    assert Decimal(ticker["lastPrice"]) > 0
    assert Decimal(ticker["bid1Price"]) < Decimal(ticker["ask1Price"])


@pytest.mark.parametrize(("category", "symbol"), CASES, ids=IDS)
def test_pybit_get_public_trade_history_returns_trades(
    sim_urls: Urls, category: str, symbol: str
) -> None:
    result = ok(
        http(sim_urls, category).get_public_trade_history(category=category, symbol=symbol, limit=5)
    )
    assert 5 == len(result["list"])
    assert all(t["side"] in ("Buy", "Sell") for t in result["list"])


@pytest.mark.parametrize(("category", "symbol"), CASES, ids=IDS)
def test_pybit_get_kline_returns_candles(sim_urls: Urls, category: str, symbol: str) -> None:
    result = ok(http(sim_urls, category).get_kline(category=category, symbol=symbol, interval=1))
    assert result["list"]
    for start, open_, high, low, close, volume, _turnover in result["list"]:
        assert int(start) > 0
        prices = [Decimal(open_), Decimal(close)]
        assert 0 < Decimal(low) <= min(prices) <= max(prices) <= Decimal(high)
        assert Decimal(volume) >= 0


@pytest.mark.parametrize(("websocket", "symbol"), CASES, ids=IDS, indirect=["websocket"])
def test_pybit_orderbook_stream_keeps_an_uncrossed_book(websocket: Any, symbol: str) -> None:
    inbox = Inbox()
    # pybit hands every callback its own merged book (the same dict each time): copy it.
    websocket.orderbook_stream(
        depth=50, symbol=symbol, callback=lambda m: inbox.put(copy.deepcopy(m))
    )
    first, second = inbox.take(2)
    assert isinstance(first, dict) and isinstance(second, dict)
    for message in (first, second):
        assert f"orderbook.50.{symbol}" == message["topic"]
        bids = [Decimal(p) for p, _ in message["data"]["b"]]
        asks = [Decimal(p) for p, _ in message["data"]["a"]]
        assert bids and asks
        assert max(bids) < min(asks)
    assert second["data"]["u"] > first["data"]["u"]


@pytest.mark.parametrize(("websocket", "symbol"), CASES, ids=IDS, indirect=["websocket"])
def test_pybit_trade_stream_delivers_trades(websocket: Any, symbol: str) -> None:
    inbox = Inbox()
    websocket.trade_stream(symbol=symbol, callback=inbox.put)
    (message,) = inbox.take(1)
    assert isinstance(message, dict)
    assert f"publicTrade.{symbol}" == message["topic"]
    assert message["data"]
    assert all(t["s"] == symbol and t["S"] in ("Buy", "Sell") for t in message["data"])


@pytest.mark.parametrize(("websocket", "symbol"), CASES, ids=IDS, indirect=["websocket"])
def test_pybit_ticker_stream_delivers_tickers(websocket: Any, symbol: str) -> None:
    inbox = Inbox()
    websocket.ticker_stream(symbol=symbol, callback=inbox.put)
    (message,) = inbox.take(1)
    assert isinstance(message, dict)
    assert f"tickers.{symbol}" == message["topic"]
    assert symbol == message["data"]["symbol"]
    assert Decimal(message["data"]["lastPrice"]) > 0
