"""Bybit v5 order-rate limits (sans-I/O): the trading buckets and the header reader.

Bybit limits trading per UID, per endpoint, per second, rolling (BYDOCS
``rate-limit/rate-limit.mdx``, fact sheet §5): ``/v5/order/create``, ``amend``
and ``cancel`` 10/s for linear and 20/s for spot (spot amend 10/s); the order
and execution queries 50/s; every answer carries ``X-Bapi-Limit`` (the
endpoint's limit), ``X-Bapi-Limit-Status`` (what is left) and
``X-Bapi-Limit-Reset-Timestamp``. A breach is ``retCode 10006`` (too many
visits).

The REST buckets (:data:`TRADE_BUCKETS`) join the host's IP bucket in
:class:`~connector.venues.bybit.rest.BybitRest`; one bucket per endpoint kind,
sized for the stricter category (linear), since spot and linear requests share
a client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connector.model import Market
from connector.venues.driver import Bucket, OrderLimit
from connector.venues.driver_common import header_float

__all__ = [
    "ACCOUNT",
    "AMEND",
    "CANCEL",
    "CREATE",
    "IP_BAN_SECONDS",
    "QUERY",
    "TRADE_BUCKETS",
    "order_limits",
    "read_order_counts",
]

CREATE = "order:create"
AMEND = "order:amend"
CANCEL = "order:cancel"
QUERY = "order:query"
"""``/v5/order/realtime``, ``/v5/order/history``, ``/v5/execution/list``."""
ACCOUNT = "account"
"""``/v5/account/wallet-balance``, ``/v5/position/list``."""

IP_BAN_SECONDS = 600.0
"""How long REST to Bybit stops after an HTTP 403 (the IP limit's ban lasts at least
10 minutes)."""

TRADE_BUCKETS: tuple[Bucket, ...] = (
    Bucket(name=CREATE, capacity=10.0, period=1.0),
    Bucket(name=AMEND, capacity=10.0, period=1.0),
    Bucket(name=CANCEL, capacity=10.0, period=1.0),
    Bucket(name=QUERY, capacity=50.0, period=1.0),
    Bucket(name=ACCOUNT, capacity=50.0, period=1.0),
)

_PER_S: dict[Market, dict[str, float]] = {
    Market.SPOT: {"place": 20.0, "amend": 10.0, "cancel": 20.0, "cancel_all": 20.0},
    Market.LINEAR: {"place": 10.0, "amend": 10.0, "cancel": 10.0, "cancel_all": 10.0},
}
"""Per second per UID, by endpoint (the rate-limit table's UTA2.0 Pro columns)."""


def order_limits(market: Market) -> Sequence[OrderLimit]:
    """The order-count buckets of ``market``: requests per second per account, one
    per endpoint (create, amend, cancel and cancel-all apart, over a rolling second).

    Raises:
        ValueError: Not a Bybit market here (spot, linear).
    """
    try:
        per_s = _PER_S[market]
    except KeyError:
        raise ValueError(f"bybit has no {market.value} market here (spot, linear)") from None
    return [
        OrderLimit(name=f"endpoint:{action}", capacity=n, period=1.0, actions=frozenset({action}))
        for action, n in per_s.items()
    ]


_ENDPOINT = "endpoint"


def read_order_counts(market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
    """``{"endpoint": left}`` from ``X-Bapi-Limit-Status`` of an order answer (may be
    empty): what is left of the answering endpoint's quota, for the bucket of that
    endpoint the request drew on (``connector.net.ratelimit.ENDPOINT``)."""
    left = header_float(headers, "x-bapi-limit-status")
    return {} if left is None else {_ENDPOINT: left}
