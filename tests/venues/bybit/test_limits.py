"""Bybit v5 order-rate limits (connector/venues/bybit/limits.py)."""

from __future__ import annotations

import pytest

from connector.model import Market
from connector.venues.bybit.limits import TRADE_BUCKETS, order_limits, read_order_counts
from connector.venues.bybit.rest import BybitRest


def test_order_limits_per_market_and_endpoint() -> None:
    spot = order_limits(Market.SPOT)
    linear = order_limits(Market.LINEAR)
    # The rate-limit table: spot 20/s but amend 10/s; linear 10/s throughout.
    assert [(b.name, b.capacity) for b in spot] == [
        ("endpoint:place", 20.0),
        ("endpoint:amend", 10.0),
        ("endpoint:cancel", 20.0),
        ("endpoint:cancel_all", 20.0),
    ]
    assert {(b.capacity, b.period) for b in linear} == {(10.0, 1.0)}
    assert {b.period for b in spot} == {1.0}
    # create, amend, cancel and cancel-all each have their own quota, as each endpoint does
    assert [{"place"}, {"amend"}, {"cancel"}, {"cancel_all"}] == [set(b.actions) for b in linear]
    names = ["endpoint:place", "endpoint:amend", "endpoint:cancel", "endpoint:cancel_all"]
    assert names == [b.name for b in linear]
    with pytest.raises(ValueError, match="swap"):
        order_limits(Market.SWAP)


def test_header_reader() -> None:
    # the docs' header example (fixtures/_docs_extracts): X-Bapi-Limit-Status: 9
    headers = {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9"}
    assert read_order_counts(Market.LINEAR, headers) == {"endpoint": 9.0}
    assert read_order_counts(Market.LINEAR, {}) == {}


def test_trade_buckets_are_on_the_host_limiter() -> None:
    names = {b.name for b in BybitRest().buckets(Market.SPOT)}
    assert {b.name for b in TRADE_BUCKETS} <= names
