"""Binance order-count limits and the headers that report them (sans-I/O).

Orders are counted per **account**, apart from the per-IP request weight
(``../shared/venues-trading.md`` §5; ``docs/venues/binance.md`` "Trading"):

* spot: ``ORDERS`` 100 per 10 s and 200,000 per day in the production
  ``exchangeInfo`` of 2025-08 (the docs' examples say 50 and 160,000; read
  ``rateLimits`` for the account's own values). Answers to successful orders
  carry ``X-MBX-ORDER-COUNT-10S`` and ``X-MBX-ORDER-COUNT-1D`` (the count
  used); fills give quota back.
* USDⓈ-M: 300 per 10 s and 1,200 per minute; headers ``X-MBX-ORDER-COUNT-10S``
  and ``X-MBX-ORDER-COUNT-1M``. Placing or modifying counts 1 on each; cancels
  count on neither.

Both are in the gocryptotrader ``binance/testdata/http.json`` capture of
``exchangeInfo`` (``rateLimits`` of ``/api/v3`` and ``/fapi/v1``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connector.model import Market
from connector.venues.driver import OrderLimit
from connector.venues.driver_common import header_float

__all__ = ["ORDER_LIMITS", "order_limits", "read_order_counts"]

ORDER_LIMITS: Mapping[Market, tuple[tuple[OrderLimit, str], ...]] = {
    Market.SPOT: (
        (OrderLimit(name="orders_10s", capacity=100, period=10.0), "x-mbx-order-count-10s"),
        (OrderLimit(name="orders_1d", capacity=200_000, period=86_400.0), "x-mbx-order-count-1d"),
    ),
    Market.LINEAR: (
        (OrderLimit(name="orders_10s", capacity=300, period=10.0), "x-mbx-order-count-10s"),
        (OrderLimit(name="orders_1m", capacity=1200, period=60.0), "x-mbx-order-count-1m"),
    ),
}
"""Per market: each bucket with the (lower-case) header that counts it."""


def order_limits(market: Market) -> Sequence[OrderLimit]:
    """The order-count buckets of ``market`` (ValueError for another market)."""
    try:
        return [limit for limit, _ in ORDER_LIMITS[market]]
    except KeyError:
        raise ValueError(f"binance trades spot and linear only, not {market.value}") from None


def read_order_counts(market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
    """``{bucket: orders left}`` from an order answer's ``X-MBX-ORDER-COUNT-*``
    headers (names matched case-insensitively; absent or unreadable ones skipped)."""
    left: dict[str, float] = {}
    for limit, header in ORDER_LIMITS.get(market, ()):
        used = header_float(headers, header)
        if used is not None:
            left[limit.name] = max(limit.capacity - used, 0.0)
    return left
