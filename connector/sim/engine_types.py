"""The matching engine's values: orders in, results and trades out, resting orders.

Frozen values shared by :mod:`connector.sim.engine` and the code that drives it
(the synthetic flow, the hub, the trading desk).
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import attrs

from connector.model import OrderStatus, OrderType, Side, TimeInForce

__all__ = [
    "EngineOrder",
    "EngineResult",
    "EngineStatistics",
    "EngineTrade",
    "LevelChange",
    "RestingOrder",
]

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class EngineOrder:
    """A new order as the engine sees it (already translated from a venue's wire format).

    Attributes:
        order_id: Unique id among the engine's live orders.
        side: Buy or sell.
        type: Limit or market.
        qty: Order quantity, a positive multiple of the engine's lot step.
        price: Limit price on the tick grid; ignored for market orders.
        time_in_force: GTC, IOC, FOK or POST_ONLY.
        owner: Who placed it (``flow`` for synthetic flow, an account name otherwise).
    """

    order_id: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    owner: str = "flow"


class LevelChange(NamedTuple):
    """The new total resting quantity at one price; ``qty == 0`` means the level is gone."""

    side: Side
    price: Decimal
    qty: Decimal


@attrs.frozen(kw_only=True)
class EngineTrade:
    """One match between a resting (maker) order and an incoming (taker) order.

    Attributes:
        trade_id: Per-engine id, increasing from 1.
        price: The maker's price.
        qty: Matched quantity.
        aggressor: The taker's side.
        maker_order_id: The resting order's id.
        taker_order_id: The incoming order's id.
        maker_owner: The resting order's owner.
        taker_owner: The incoming order's owner.
    """

    trade_id: int
    price: Decimal
    qty: Decimal
    aggressor: Side
    maker_order_id: str
    taker_order_id: str
    maker_owner: str
    taker_owner: str


@attrs.frozen(kw_only=True)
class EngineResult:
    """What one engine operation did.

    Attributes:
        order_id: The order operated on.
        status: ``NEW`` (resting, nothing filled), ``PARTIALLY_FILLED`` (resting
            remainder), ``FILLED``, ``CANCELED`` (an IOC or market remainder was
            cancelled, ``cancel()``, or an amend to ``qty <= filled``) or
            ``REJECTED`` (FOK not fillable, post-only would cross, unknown or
            duplicate order, bad quantity or price); a rejected operation
            changes nothing.
        filled_qty: The order's cumulative filled quantity after the operation.
        trades: Trades made by this operation, in execution order.
        changes: Net level changes of this operation, one entry per
            ``(side, price)``, in the order the levels were first touched.
        update_id: The book update id after this operation.
        reject_reason: Why the operation was rejected, else ``None``.
        remaining_qty: What still rests on the book for this order (0 when it no
            longer rests).
        side: The order's side (``None`` when the order is unknown).
        price: The order's limit price after the operation (``None`` for market
            orders and unknown orders).
        qty: The order's total quantity after the operation.
    """

    order_id: str
    status: OrderStatus
    filled_qty: Decimal
    trades: tuple[EngineTrade, ...]
    changes: tuple[LevelChange, ...]
    update_id: int
    reject_reason: str | None = None
    remaining_qty: Decimal = _ZERO
    side: Side | None = None
    price: Decimal | None = None
    qty: Decimal = _ZERO


@attrs.frozen(kw_only=True)
class RestingOrder:
    """A snapshot of an order resting on the book.

    Attributes:
        order_id: The order's id.
        side: Buy or sell.
        price: Limit price.
        qty: Total order quantity (as placed, or as last amended).
        remaining: Quantity still resting.
        owner: Who placed it.
        time_in_force: GTC or POST_ONLY (other kinds never rest).
        filled: Quantity filled so far.
    """

    order_id: str
    side: Side
    price: Decimal
    qty: Decimal
    remaining: Decimal
    owner: str
    time_in_force: TimeInForce
    filled: Decimal = _ZERO


@attrs.frozen(kw_only=True)
class EngineStatistics:
    """A snapshot of an engine's counters.

    Attributes:
        orders_resting: Orders on the book.
        bid_levels: Price levels on the bid side.
        ask_levels: Price levels on the ask side.
        trades: Trades made since creation.
        update_id: The current book update id.
        operations: Operations (submit, cancel, amend) processed.
        rejects: Operations rejected.
    """

    orders_resting: int
    bid_levels: int
    ask_levels: int
    trades: int
    update_id: int
    operations: int = 0
    rejects: int = 0
