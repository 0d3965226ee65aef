"""Bybit v5 order-rate limits (connector/venues/bybit/limits.py)."""

from __future__ import annotations

import pytest

from connector.model import Market
from connector.venues.bybit.limits import TRADE_BUCKETS, order_limits, read_order_counts
from connector.venues.bybit.rest import BybitRest


def test_order_limits_per_market() -> None:
    (spot,) = order_limits(Market.SPOT)
    (linear,) = order_limits(Market.LINEAR)
    assert (spot.capacity, linear.capacity, spot.period) == (20.0, 10.0, 1.0)
    with pytest.raises(ValueError, match="swap"):
        order_limits(Market.SWAP)


def test_header_reader() -> None:
    # the docs' header example (fixtures/_docs_extracts): X-Bapi-Limit-Status: 9
    headers = {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9"}
    assert read_order_counts(Market.LINEAR, headers) == {"orders_1s": 9.0}
    assert read_order_counts(Market.LINEAR, {}) == {}


def test_trade_buckets_are_on_the_host_limiter() -> None:
    names = {b.name for b in BybitRest().buckets(Market.SPOT)}
    assert {b.name for b in TRADE_BUCKETS} <= names
