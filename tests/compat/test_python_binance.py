"""python-binance against the simulator, spot and USDⓈ-M.

python-binance keeps its base URLs in class attributes (``API_URL``,
``FUTURES_URL`` on the clients, ``STREAM_URL``, ``FSTREAM_URL`` on
``BinanceSocketManager``) and formats them in the constructor, which already
pings the API: a subclass that sets those attributes is the way to point it
elsewhere with every option left at its default.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.compat.conftest import Urls, run_async, within

pytest.importorskip("binance")

from binance import AsyncClient, BinanceSocketManager, Client

pytestmark = pytest.mark.timeout(60)


def sim_client(base: type[Any], urls: Urls) -> type[Any]:
    """``base`` (``Client`` or ``AsyncClient``) with the simulator's REST base URLs."""
    b = urls["binance"]
    attrs = {"API_URL": b["spot.rest"] + "/api", "FUTURES_URL": b["linear.rest"] + "/fapi"}
    return type("Sim" + base.__name__, (base,), attrs)


def sim_socket_manager(urls: Urls) -> type[Any]:
    """``BinanceSocketManager`` with the simulator's websocket base URLs."""
    b = urls["binance"]
    attrs = {"STREAM_URL": b["spot.ws"] + "/", "FSTREAM_URL": b["linear.ws"] + "/"}
    return type("SimBinanceSocketManager", (BinanceSocketManager,), attrs)


@pytest.fixture
def client(sim_urls: Urls) -> Any:
    return sim_client(Client, sim_urls)()


def check_book(book: dict[str, Any]) -> None:
    assert book["bids"] and book["asks"]
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])


def check_candles(candles: list[list[Any]]) -> None:
    assert candles
    for candle in candles:
        open_, high, low, close = (Decimal(p) for p in candle[1:5])
        assert 0 < low <= min(open_, close) <= max(open_, close) <= high


def test_python_binance_spot_exchange_info_lists_btcusdt(client: Any) -> None:
    info = client.get_exchange_info()
    symbols = {s["symbol"] for s in info["symbols"]}
    assert {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= symbols


def test_python_binance_spot_order_book_is_uncrossed(client: Any) -> None:
    book = client.get_order_book(symbol="BTCUSDT", limit=20)
    check_book(book)
    assert 20 == len(book["bids"]) == len(book["asks"])


def test_python_binance_spot_ticker_and_recent_trades(client: Any) -> None:
    ticker = client.get_ticker(symbol="BTCUSDT")
    trades = client.get_recent_trades(symbol="BTCUSDT", limit=5)
    assert "BTCUSDT" == ticker["symbol"]
    assert Decimal(ticker["lastPrice"]) > 0
    assert 5 == len(trades)


def test_python_binance_spot_klines(client: Any) -> None:
    check_candles(client.get_klines(symbol="BTCUSDT", interval=Client.KLINE_INTERVAL_1MINUTE))


def test_python_binance_futures_exchange_info_book_ticker_and_trades(client: Any) -> None:
    info = client.futures_exchange_info()
    book = client.futures_order_book(symbol="BTCUSDT")
    ticker = client.futures_ticker(symbol="BTCUSDT")
    trades = client.futures_recent_trades(symbol="BTCUSDT", limit=5)
    assert "BTCUSDT" in {s["symbol"] for s in info["symbols"]}
    check_book(book)
    assert Decimal(ticker["lastPrice"]) > 0
    assert 5 == len(trades)


def test_python_binance_futures_klines(client: Any) -> None:
    check_candles(client.futures_klines(symbol="BTCUSDT", interval=Client.KLINE_INTERVAL_1MINUTE))


def receive(urls: Urls, open_socket: str, *args: Any, count: int = 1, **kwargs: Any) -> list[Any]:
    """``count`` messages of one ``BinanceSocketManager`` socket (``open_socket`` names it)."""

    async def main() -> list[Any]:
        client = await within(sim_client(AsyncClient, urls).create())
        try:
            manager = sim_socket_manager(urls)(client)
            socket = getattr(manager, open_socket)(*args, **kwargs)
            async with socket as stream:
                return [await within(stream.recv()) for _ in range(count)]
        finally:
            await client.close_connection()

    return run_async(main)


def test_python_binance_spot_depth_socket_sends_ordered_diffs(sim_urls: Urls) -> None:
    first, second = receive(sim_urls, "depth_socket", "BTCUSDT", count=2)
    assert "depthUpdate" == first["e"] == second["e"]
    assert "BTCUSDT" == first["s"]
    assert second["U"] == first["u"] + 1


def test_python_binance_spot_trade_socket_delivers_trades(sim_urls: Urls) -> None:
    (trade,) = receive(sim_urls, "trade_socket", "BTCUSDT")
    assert "trade" == trade["e"]
    assert "BTCUSDT" == trade["s"]
    assert Decimal(trade["p"]) > 0


def test_python_binance_spot_symbol_ticker_socket_delivers_tickers(sim_urls: Urls) -> None:
    (ticker,) = receive(sim_urls, "symbol_ticker_socket", "BTCUSDT")
    assert "24hrTicker" == ticker["e"]
    assert Decimal(ticker["c"]) > 0


def test_python_binance_futures_depth_socket_sends_partial_books(sim_urls: Urls) -> None:
    (message,) = receive(sim_urls, "futures_depth_socket", "BTCUSDT")
    book = message["data"]
    assert "btcusdt@depth10" == message["stream"]
    assert 10 == len(book["b"]) == len(book["a"])
    assert Decimal(book["b"][0][0]) < Decimal(book["a"][0][0])


def test_python_binance_futures_aggtrade_stream_delivers_trades(sim_urls: Urls) -> None:
    (message,) = receive(sim_urls, "futures_multiplex_socket", ["btcusdt@aggTrade"])
    assert "aggTrade" == message["data"]["e"]
    assert Decimal(message["data"]["p"]) > 0


def test_python_binance_futures_ticker_stream_delivers_tickers(sim_urls: Urls) -> None:
    (message,) = receive(sim_urls, "futures_multiplex_socket", ["btcusdt@ticker"])
    assert "24hrTicker" == message["data"]["e"]
    assert Decimal(message["data"]["c"]) > 0
