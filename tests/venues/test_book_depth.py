"""``venues.<v>.book_depth`` reaches the subscriptions and snapshot requests."""

from __future__ import annotations

import pytest

from connector.config import Config, VenueConfig
from connector.connector import Connector
from connector.errors import ConfigError
from connector.model import Instrument, Market, Symbol
from connector.venues.registry import driver_for


def _instrument(venue: str, market: Market, native: str, symbol: str) -> Instrument:
    adapter = driver_for(venue).market_data
    guessed = adapter.guess_instrument(market, native)
    assert guessed is not None and str(guessed.symbol) == symbol
    return guessed


def test_bybit_book_depth_picks_the_orderbook_topic() -> None:
    instrument = _instrument("bybit", Market.LINEAR, "BTCUSDT", "BTC-USDT-PERP")
    for depth, topic in (
        (0, "orderbook.200.BTCUSDT"),
        (50, "orderbook.50.BTCUSDT"),
        (1000, "orderbook.1000.BTCUSDT"),
    ):
        adapter = driver_for("bybit", depth).market_data
        [spec] = adapter.streams(Market.LINEAR, instrument, "book")
        assert topic == spec.name
        assert (depth or 200) == adapter.book_depth(Market.LINEAR)


def test_binance_book_depth_is_the_rest_snapshot_limit() -> None:
    instrument = _instrument("binance", Market.SPOT, "BTCUSDT", "BTC-USDT-SPOT")
    call = driver_for("binance", 500).market_data.snapshot_call(Market.SPOT, instrument)
    assert call is not None
    assert "500" == call.params["limit"]
    assert {"weight": 25} == dict(call.weights)
    default = driver_for("binance").market_data.snapshot_call(Market.SPOT, instrument)
    assert default is not None and "1000" == default.params["limit"]


@pytest.mark.parametrize(("venue", "depth"), [("bybit", 300), ("okx", 50), ("binance", 7000)])
def test_a_depth_the_venue_does_not_offer_stops_the_connector_with_a_config_error(
    venue: str, depth: int
) -> None:
    config = Config(
        venues={
            venue: VenueConfig(
                name=venue, symbols=(Symbol.parse("BTC-USDT-SPOT"),), book_depth=depth
            )
        }
    )
    with pytest.raises(ConfigError, match=str(depth)):
        Connector(config)
