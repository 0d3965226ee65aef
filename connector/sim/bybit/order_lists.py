"""Bybit v5 order listings ``GET /v5/order/realtime`` and ``/v5/order/history``:
which orders, and their ``cursor`` pages. Pure.

Bybit v5 docs ``order/open-order`` and ``order/order-list`` (checked 2026-12-03):

* Both sort by ``createdTime``, newest first; ``limit`` 1-50, default 20;
  ``cursor`` is the ``nextPageCursor`` token of the previous answer. The docs'
  tokens name the page's last record (``page_args%3D<orderId>%26symbol%3D6%26``),
  so the next page starts after that order whatever was placed or closed in
  between; the simulator's token is ``page_args%3D<orderId>%26``.
* ``orderId`` > ``orderLinkId`` > ``symbol`` > ``baseCoin``: with several, only
  the first given is used. ``baseCoin`` and ``settleCoin`` do not apply to spot.
* ``realtime``: open orders (``openOnly=0``, the default) or the last 500 closed
  ones (``openOnly=1``); by ``orderId`` / ``orderLinkId`` any state (``openOnly``
  ignored). Linear needs ``symbol``, ``baseCoin`` or ``settleCoin``.
* ``history``: ``startTime`` and ``endTime`` (ms) together (the past 7 days when
  neither is given); any state within the last 7 days, only ``Filled`` orders
  beyond them.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote

from connector.sim.desk import OrderState, UserOrder

__all__ = ["HISTORY_ALL_STATES_MS", "cursor_of", "history_kept", "order_after", "page_orders"]

HISTORY_ALL_STATES_MS = 7 * 86_400_000
"""How far back ``/v5/order/history`` lists every state (only ``Filled`` beyond)."""

_PREFIX = "page_args="


def cursor_of(order: UserOrder) -> str:
    """The ``nextPageCursor`` of a page ending with ``order`` (percent-encoded, as Bybit's)."""
    return f"page_args%3D{order.order_id}%26"


def order_after(cursor: str) -> int | None:
    """The order id a ``cursor`` names (``None``: not a token this venue issued).

    The token arrives decoded once when sent back verbatim (as pybit does), or as
    issued when the client percent-encoded it once more.
    """
    token = unquote(cursor) if "%" in cursor else cursor
    if not token.startswith(_PREFIX):
        return None
    value = token.removeprefix(_PREFIX).split("&", 1)[0]
    return int(value) if value.isdigit() else None


def page_orders(
    orders: Sequence[UserOrder], *, limit: int, after: int | None
) -> tuple[list[UserOrder], str]:
    """One page of ``orders`` (newest first, already filtered): the ``limit`` orders
    after the cursor's order, and the next cursor (``""`` on the last page)."""
    rest = [o for o in orders if after is None or int(o.order_id) < after]
    page = rest[:limit]
    return page, cursor_of(page[-1]) if len(rest) > limit else ""


def history_kept(order: UserOrder, now_ms: int) -> bool:
    """Whether ``/v5/order/history`` lists ``order`` by its age."""
    return order.state is OrderState.FILLED or order.created_ms >= now_ms - HISTORY_ALL_STATES_MS
