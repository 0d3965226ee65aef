"""OKX v5 order-rate limits (connector/venues/okx/limits.py)."""

from __future__ import annotations

import pytest

from connector.model import Market
from connector.venues.okx.limits import TRADE_LIMITS, order_limits, read_order_counts
from connector.venues.okx.rest import OkxRest


def test_order_limits_are_per_instrument() -> None:
    limits = order_limits(Market.SWAP)
    assert [(60.0, 2.0, "instrument")] * 3 + [(300.0, 2.0, "instrument")] == [
        (b.capacity, b.period, b.scope) for b in limits
    ]
    # placing, amending and cancelling count apart; batch cancels count their orders
    assert [{"place"}, {"amend"}, {"cancel"}, {"cancel_all"}] == [set(b.actions) for b in limits]
    assert order_limits(Market.SPOT) == limits
    with pytest.raises(ValueError, match="linear"):
        order_limits(Market.LINEAR)


def test_no_count_headers() -> None:
    assert read_order_counts(Market.SWAP, {"x-ratelimit-remaining": "5"}) == {}


def test_trade_buckets_are_on_the_host_limiter() -> None:
    buckets = {b.name: b for b in OkxRest().buckets(Market.SWAP)}
    for name, capacity in TRADE_LIMITS.items():
        assert (buckets[name].capacity, buckets[name].period) == (capacity, 2.0)
