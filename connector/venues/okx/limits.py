"""OKX v5 order-rate limits (sans-I/O): the trading buckets; OKX sends no count headers.

Facts (fact sheet §5; OKXDOCS ``overview-rate-limits``, ``post-place-order``,
``get-order-details``, ``get-order-list``, ``get-transaction-details-last-3-days``,
``get-balance``, ``get-positions``; checked 2026-12-03):

* place, amend and cancel: 60 requests per 2 s per UID **per instId**, each
  independently; REST and websocket share the limits; a breach is ``50011``
  (HTTP 200 or 429), ``50061`` for a sub-account's 1000 new+amend per 2 s;
* order details, pending orders, fills: 60 per 2 s; balance and positions 10 per 2 s;
  account configuration 5 per 2 s;
* no rate-limit headers: :func:`read_order_counts` is always empty.

The REST buckets (:data:`TRADE_LIMITS`, requests per 2 s) join the host's
buckets in :class:`~connector.venues.okx.rest.OkxRest`. They are per UID, not
per instId: stricter than OKX, never looser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connector.model import Market
from connector.venues.driver import OrderLimit

__all__ = [
    "AMEND",
    "BALANCE",
    "CANCEL",
    "CONFIG",
    "FILLS",
    "ORDER",
    "PENDING",
    "POSITIONS",
    "QUERY",
    "TRADE_LIMITS",
    "order_limits",
    "read_order_counts",
]

ORDER = "trade:order"
CANCEL = "trade:cancel"
AMEND = "trade:amend"
QUERY = "trade:query"
PENDING = "trade:pending"
FILLS = "trade:fills"
BALANCE = "account:balance"
POSITIONS = "account:positions"
CONFIG = "account:config"

TRADE_LIMITS: Mapping[str, float] = {
    ORDER: 60.0,
    CANCEL: 60.0,
    AMEND: 60.0,
    QUERY: 60.0,
    PENDING: 60.0,
    FILLS: 60.0,
    BALANCE: 10.0,
    POSITIONS: 10.0,
    CONFIG: 5.0,
}
"""Requests per 2 s of each trading endpoint."""

_MARKETS = (Market.SPOT, Market.SWAP)


def order_limits(market: Market) -> Sequence[OrderLimit]:
    """60 new orders per 2 s per instrument (amend and cancel count apart; batch
    cancels 300 orders per 2 s).

    Raises:
        ValueError: Not an OKX market here (spot, swap).
    """
    if market not in _MARKETS:
        raise ValueError(f"okx has no {market.value} market here (spot, swap)")
    per_request = [
        OrderLimit(
            name=f"{action}_2s",
            capacity=60.0,
            period=2.0,
            scope="instrument",
            actions=frozenset({action}),
        )
        for action in ("place", "amend", "cancel")
    ]
    # The batch cancels count orders, not requests: 300 per 2 s per instrument.
    batch = OrderLimit(
        name="cancel_all_2s",
        capacity=300.0,
        period=2.0,
        scope="instrument",
        actions=frozenset({"cancel_all"}),
    )
    return [*per_request, batch]


def read_order_counts(market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
    """Always empty: OKX reports no order counts in headers."""
    return {}
