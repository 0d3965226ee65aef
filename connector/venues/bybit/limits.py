"""Bybit v5 order-rate limits (sans-I/O): the trading buckets and the header reader.

Bybit limits trading per UID, per endpoint, per second, rolling (BYDOCS
``rate-limit/rate-limit.mdx``, fact sheet §5): ``/v5/order/create``, ``amend``
and ``cancel`` 10/s for linear and 20/s for spot (spot amend 10/s); the order
and execution queries 50/s; every answer carries ``X-Bapi-Limit`` (the
endpoint's limit), ``X-Bapi-Limit-Status`` (what is left) and
``X-Bapi-Limit-Reset-Timestamp`` (Bybit "Rate Limit Rules",
bybit-exchange.github.io/docs/v5/rate-limit, checked 2026-12-06: "the timestamp
indicating when your request limit resets if you have exceeded your rate_limit.
Otherwise, this is just the current timestamp"). A breach is ``retCode 10006``
(too many visits): the endpoint's order bucket is held until that reset time,
read against the venue clock, not for a fixed second.

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
_ENDPOINT_RESET = "endpoint_reset"
"""``connector.net.ratelimit.ENDPOINT`` and ``ENDPOINT_RESET`` (the net layer is not
imported here: this module is sans-I/O)."""


def read_order_counts(market: Market, headers: Mapping[str, str]) -> Mapping[str, float]:
    """What an order answer's headers say of the answering endpoint's quota (may be
    empty), for the bucket of that endpoint the request drew on.

    ``{"endpoint": left}`` from ``X-Bapi-Limit-Status``; when nothing is left, also
    ``{"endpoint_reset": seconds}``, the venue time (since the epoch) of
    ``X-Bapi-Limit-Reset-Timestamp``, when the quota comes back.
    """
    left = header_float(headers, "x-bapi-limit-status")
    if left is None:
        return {}
    counts = {_ENDPOINT: left}
    reset_ms = header_float(headers, "x-bapi-limit-reset-timestamp")
    if left <= 0 and reset_ms is not None:
        counts[_ENDPOINT_RESET] = reset_ms / 1000
    return counts
