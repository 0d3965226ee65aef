"""Binance's modular SDKs against the simulator: ``binance-sdk-spot`` and
``binance-sdk-derivatives-trading-usds-futures``.

Both take their base URLs as documented configuration:
``ConfigurationRestAPI(base_path=...)`` and
``ConfigurationWebSocketStreams(stream_url=...)``; the SDK appends ``/stream``
(and, for USDⓈ-M, routes each stream to ``/public/stream`` or ``/market/stream``).
Replies are the SDK's pydantic models; the tests read them as the venue's JSON
(``model_dump(by_alias=True)``).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from tests.compat.conftest import Urls, run_async, within

pytest.importorskip("binance_sdk_spot")
pytest.importorskip("binance_sdk_derivatives_trading_usds_futures")

from binance_common.configuration import (
    ConfigurationRestAPI,
    ConfigurationWebSocketStreams,
)
from binance_sdk_derivatives_trading_usds_futures.derivatives_trading_usds_futures import (
    DerivativesTradingUsdsFutures,
)
from binance_sdk_derivatives_trading_usds_futures.rest_api.models import (
    KlineCandlestickDataIntervalEnum,
)
from binance_sdk_spot.rest_api.models import KlinesIntervalEnum
from binance_sdk_spot.spot import Spot

pytestmark = pytest.mark.timeout(60)


def spot(urls: Urls) -> Spot:
    b = urls["binance"]
    return Spot(
        config_rest_api=ConfigurationRestAPI(base_path=b["spot.rest"]),
        config_ws_streams=ConfigurationWebSocketStreams(stream_url=b["spot.ws"]),
    )


def usds(urls: Urls) -> DerivativesTradingUsdsFutures:
    b = urls["binance"]
    return DerivativesTradingUsdsFutures(
        config_rest_api=ConfigurationRestAPI(base_path=b["linear.rest"]),
        config_ws_streams=ConfigurationWebSocketStreams(stream_url=b["linear.ws"]),
    )


def plain(reply: Any) -> Any:
    """An SDK reply (``ApiResponse``, model, one-of wrapper or list) as the venue's JSON."""
    data = reply.data() if hasattr(reply, "data") and callable(reply.data) else reply
    if getattr(data, "actual_instance", None) is not None:
        data = data.actual_instance
    if isinstance(data, list):
        return [plain(item) for item in data]
    if hasattr(data, "model_dump"):
        return data.model_dump(by_alias=True)
    return data


def check_book(book: dict[str, Any]) -> None:
    assert book["bids"] and book["asks"]
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])


def check_candles(candles: list[list[Any]]) -> None:
    assert candles
    for candle in candles:
        open_, high, low, close = (Decimal(str(p)) for p in candle[1:5])
        assert 0 < low <= min(open_, close) <= max(open_, close) <= high


def test_binance_sdk_spot_exchange_info_depth_ticker_and_trades(sim_urls: Urls) -> None:
    api = spot(sim_urls).rest_api
    info = plain(api.exchange_info())
    book = plain(api.depth(symbol="BTCUSDT", limit=20))
    ticker = plain(api.ticker24hr(symbol="BTCUSDT"))
    trades = plain(api.get_trades(symbol="BTCUSDT", limit=5))
    assert {"BTCUSDT", "ETHUSDT", "SOLUSDT"} <= {s["symbol"] for s in info["symbols"]}
    check_book(book)
    assert 20 == len(book["bids"])
    assert "BTCUSDT" == ticker["symbol"]
    assert Decimal(ticker["lastPrice"]) > 0
    assert 5 == len(trades)


def test_binance_sdk_spot_klines(sim_urls: Urls) -> None:
    api = spot(sim_urls).rest_api
    check_candles(plain(api.klines(symbol="BTCUSDT", interval=KlinesIntervalEnum.INTERVAL_1m)))


def test_binance_sdk_usds_exchange_information_book_ticker_and_trades(sim_urls: Urls) -> None:
    api = usds(sim_urls).rest_api
    info = plain(api.exchange_information())
    book = plain(api.order_book(symbol="BTCUSDT", limit=50))
    ticker = plain(api.ticker24hr_price_change_statistics(symbol="BTCUSDT"))
    trades = plain(api.recent_trades_list(symbol="BTCUSDT", limit=5))
    assert "BTCUSDT" in {s["symbol"] for s in info["symbols"]}
    check_book(book)
    assert Decimal(ticker["lastPrice"]) > 0
    assert 5 == len(trades)


def test_binance_sdk_usds_klines(sim_urls: Urls) -> None:
    api = usds(sim_urls).rest_api
    check_candles(
        plain(
            api.kline_candlestick_data(
                symbol="BTCUSDT", interval=KlineCandlestickDataIntervalEnum.INTERVAL_1m
            )
        )
    )


def receive(client: Any, subscribe: str, count: int = 1, **kwargs: Any) -> list[dict[str, Any]]:
    """``count`` messages of one stream, subscribed as the SDK's examples do."""

    async def main() -> list[dict[str, Any]]:
        messages: asyncio.Queue[Any] = asyncio.Queue()
        connection = await within(client.websocket_streams.create_connection())
        # The SDK logs a failed handshake and returns None instead of raising.
        assert connection is not None, "the SDK could not open its stream connections"
        try:
            stream = await within(getattr(connection, subscribe)(**kwargs))
            stream.on("message", messages.put_nowait)
            return [plain(await within(messages.get())) for _ in range(count)]
        finally:
            await connection.close_connection(close_session=True)

    return run_async(main)


def test_binance_sdk_spot_diff_book_depth_stream_is_ordered(sim_urls: Urls) -> None:
    first, second = receive(spot(sim_urls), "diff_book_depth", count=2, symbol="btcusdt")
    assert "depthUpdate" == first["e"]
    assert "BTCUSDT" == first["s"]
    assert second["U"] == first["u"] + 1


def test_binance_sdk_spot_trade_stream_delivers_trades(sim_urls: Urls) -> None:
    (trade,) = receive(spot(sim_urls), "trade", symbol="btcusdt")
    assert "trade" == trade["e"]
    assert Decimal(trade["p"]) > 0


def test_binance_sdk_spot_ticker_stream_delivers_tickers(sim_urls: Urls) -> None:
    (ticker,) = receive(spot(sim_urls), "ticker", symbol="btcusdt")
    assert "24hrTicker" == ticker["e"]
    assert Decimal(ticker["c"]) > 0


def test_binance_sdk_usds_diff_book_depth_stream_chains_on_pu(sim_urls: Urls) -> None:
    first, second = receive(usds(sim_urls), "diff_book_depth_streams", count=2, symbol="btcusdt")
    assert "depthUpdate" == first["e"]
    assert second["pu"] == first["u"]


def test_binance_sdk_usds_aggregate_trade_stream_delivers_trades(sim_urls: Urls) -> None:
    (trade,) = receive(usds(sim_urls), "aggregate_trade_streams", symbol="btcusdt")
    assert "aggTrade" == trade["e"]
    assert Decimal(trade["p"]) > 0


def test_binance_sdk_usds_ticker_stream_delivers_tickers(sim_urls: Urls) -> None:
    (ticker,) = receive(usds(sim_urls), "individual_symbol_ticker_streams", symbol="btcusdt")
    assert "24hrTicker" == ticker["e"]
    assert Decimal(ticker["c"]) > 0
