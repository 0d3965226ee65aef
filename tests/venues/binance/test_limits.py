"""Binance order-count buckets and the X-MBX-ORDER-COUNT-* headers."""

from __future__ import annotations

import json

import pytest

from connector.model import Market
from connector.model.credentials import Credentials
from connector.venues.binance.trading import BinanceTrading
from connector.venues.driver import OrderLimit
from tests.conftest import fixture_path


def adapter() -> BinanceTrading:
    return BinanceTrading(Credentials(api_key="k", api_secret="s"))


def test_buckets_match_the_captured_exchange_info() -> None:
    """gocryptotrader ``binance/testdata/http.json``: real 2025-08 ``rateLimits``."""
    capture = fixture_path("gocryptotrader/exchanges/binance/testdata/http.json")
    routes = json.loads(capture.read_text())["routes"]
    seconds = {"SECOND": 1, "MINUTE": 60, "DAY": 86_400}
    for market, path in (
        (Market.SPOT, "/api/v3/exchangeInfo"),
        (Market.LINEAR, "/fapi/v1/exchangeInfo"),
    ):
        limits = routes[path]["GET"][0]["data"]["rateLimits"]
        captured = {
            (float(x["limit"]), float(x["intervalNum"] * seconds[x["interval"]]))
            for x in limits
            if x["rateLimitType"] == "ORDERS"
        }
        ours = {(b.capacity, b.period) for b in adapter().order_limits(market)}
        assert captured == ours, market
        assert all(b.scope == "account" for b in adapter().order_limits(market))


def test_headers_give_orders_left() -> None:
    headers = {
        "X-MBX-ORDER-COUNT-10S": "7",
        "x-mbx-order-count-1d": "1000",
        "X-MBX-USED-WEIGHT-1M": "3",
    }
    assert {"orders_10s": 93.0, "orders_1d": 199_000.0} == dict(
        adapter().read_order_counts(Market.SPOT, headers)
    )
    assert {"orders_10s": 293.0} == dict(adapter().read_order_counts(Market.LINEAR, headers))
    assert {"orders_1m": 0.0} == dict(
        adapter().read_order_counts(Market.LINEAR, {"X-MBX-ORDER-COUNT-1M": "5000"})
    )
    assert {} == dict(adapter().read_order_counts(Market.SPOT, {"X-MBX-ORDER-COUNT-10S": "n/a"}))


def test_unknown_market() -> None:
    with pytest.raises(ValueError, match="spot and linear"):
        adapter().order_limits(Market.SWAP)
    assert (
        OrderLimit(name="orders_10s", capacity=100, period=10.0)
        == adapter().order_limits(Market.SPOT)[0]
    )
