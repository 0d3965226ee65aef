"""OKX v5 order listings ``/api/v5/trade/orders-pending`` and ``/orders-history``:
which orders. Pure.

OKX docs ``order-book-trading-trade-get-order-list`` and
``-get-order-history-last-7-days`` (checked 2026-12-03):

* ``orders-pending``: the incomplete orders (``live``, ``partially_filled``).
  Filters ``instType``, ``instFamily`` (FUTURES/SWAP/OPTION), ``instId``,
  ``ordType`` (one or several, comma-separated: the docs' request example is
  ``ordType=post_only,fok,ioc``), ``state`` (``live`` / ``partially_filled``).
* ``orders-history``: completed orders placed in the last **7 days**, or placed
  earlier and completed in the last 7 days; canceled orders with nothing filled
  are kept only **2 hours**. ``instType`` required (50014 without it); the
  filters above plus ``state`` (``canceled``, ``filled``, ``mmp_canceled``),
  ``category`` (every simulated order is ``normal``) and ``begin`` / ``end`` in
  ms on ``cTime`` (both ends taken inclusive: the docs do not say).
* Both page by ``ordId``, newest first (``after`` earlier, ``before`` newer,
  ``limit`` at most 100, default 100): :mod:`connector.sim.okx.paging`.

Simulated order ids are decimal numbers that grow with every order of the venue,
so they order the listing as OKX's order ids do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from connector.sim.desk import UserOrder
from connector.sim.okx.orders import okx_state
from connector.sim.okx.paging import IdPage, id_page, query_int

__all__ = ["CANCELED_KEPT_MS", "HISTORY_MS", "Listed", "OrderQuery", "order_page"]

_HOUR_MS = 3_600_000
HISTORY_MS = 7 * 24 * _HOUR_MS
"""How far back ``orders-history`` reaches (completion time)."""
CANCELED_KEPT_MS = 2 * _HOUR_MS
"""How long ``orders-history`` keeps a canceled order that filled nothing."""


@attrs.frozen(kw_only=True)
class Listed:
    """One order with what OKX filters on that the desk does not keep.

    Attributes:
        order: The order.
        ord_type: Its ``ordType`` as sent.
        family: Its instrument's ``instFamily`` (``""`` on SPOT).
    """

    order: UserOrder
    ord_type: str
    family: str


@attrs.frozen(kw_only=True)
class OrderQuery:
    """The filters and page of one listing.

    Attributes:
        page: ``after`` / ``before`` (order ids) and ``limit``.
        ord_types: ``ordType`` values (empty: every type).
        state: ``state`` (``None``: every state the route lists).
        family: ``instFamily``.
        category: ``category`` (``orders-history``).
        begin: Orders created at or after this time (ms; ``orders-history``).
        end: Orders created at or before this time (ms; ``orders-history``).
    """

    page: IdPage = attrs.field(factory=IdPage)
    ord_types: frozenset[str] = frozenset()
    state: str | None = None
    family: str | None = None
    category: str | None = None
    begin: int | None = None
    end: int | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str], *, history: bool) -> OrderQuery:
        """The query's values (``begin``, ``end`` and ``category`` only for ``history``).

        Raises:
            BadRequest: 51000 for a number that is not an integer, or a
                ``limit`` below 1.
        """
        ord_type = query.get("ordType", "")
        return cls(
            page=IdPage.parse(query),
            ord_types=frozenset(t for t in ord_type.split(",") if t),
            state=query.get("state") or None,
            family=query.get("instFamily") or None,
            category=(query.get("category") or None) if history else None,
            begin=query_int(query, "begin") if history else None,
            end=query_int(query, "end") if history else None,
        )


def _kept(order: UserOrder, now_ms: int) -> bool:
    """Whether ``orders-history`` still lists the closed ``order``."""
    if order.updated_ms < now_ms - HISTORY_MS:
        return False
    unfilled_cancel = okx_state(order) == "canceled" and order.filled_qty == 0
    return not (unfilled_cancel and order.updated_ms < now_ms - CANCELED_KEPT_MS)


def order_page(
    orders: Sequence[Listed], query: OrderQuery, *, history: bool, now_ms: int
) -> list[UserOrder]:
    """The page ``query`` asks for, newest first, out of ``orders`` (the account's
    orders, already filtered by instrument type and instrument): the open ones for
    ``orders-pending``, the closed ones still kept for ``orders-history``."""
    chosen = [
        (int(o.order.order_id), o.order)
        for o in orders
        if o.order.is_open is not history
        and (not history or _kept(o.order, now_ms))
        and (not query.ord_types or o.ord_type in query.ord_types)
        and (query.state is None or okx_state(o.order) == query.state)
        and (query.family is None or o.family == query.family)
        and (query.category is None or query.category == "normal")
        and (query.begin is None or o.order.created_ms >= query.begin)
        and (query.end is None or o.order.created_ms <= query.end)
    ]
    chosen.sort(key=lambda pair: pair[0])
    return [order for _, order in id_page(chosen, query.page)]
