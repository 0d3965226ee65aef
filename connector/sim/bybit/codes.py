"""Bybit v5 trading codes: the desk's refusals as Bybit's retCodes, and the order enums.

ONE table (:data:`REFUSALS`) turns every :class:`~connector.sim.desk.RefusalReason`
into Bybit's ``retCode`` and ``retMsg`` per category: spot answers with its
``170xxx`` codes, linear with ``110xxx`` or the generic 10001. Sources
(checked 2026-12-03): Bybit v5 "Error Codes" (``docs/v5/error.mdx``) and the
fact sheet (venues-trading.md section 6: 110072 / 170141 duplicates, 110007 /
170131 funds, 170134 / 170136 / 170137 / 170140 spot filters, 110094 linear
minimum notional, 110017 reduce-only, 110001 / 170213 unknown order).

Order enums (``docs/v5/enum.mdx``): ``orderStatus`` ``New``,
``PartiallyFilled``, ``Filled``, ``Cancelled`` (derivatives: may have
executed qty), ``PartiallyFilledCanceled`` (spot only), ``Rejected``; an order
the venue ends (IOC, FOK, market remainder, post-only) is ``Cancelled`` (or
``PartiallyFilledCanceled`` on spot) with a ``rejectReason``.
"""

from __future__ import annotations

from connector.sim.desk import CancelCause, OrderState, Refusal, RefusalReason, UserOrder

__all__ = [
    "AUTH_REPEAT",
    "REFUSALS",
    "cancel_type",
    "order_status",
    "refusal_code",
    "refusal_error",
    "reject_reason",
]

#: ``auth`` sent again on an authenticated socket (``/v5/trade`` guideline).
AUTH_REPEAT = (20001, "Repeat auth")

_Code = tuple[int, str]

#: RefusalReason -> (spot code, linear code).
REFUSALS: dict[RefusalReason, tuple[_Code, _Code]] = {
    RefusalReason.DUPLICATE_CLIENT_ID: (
        (170141, "Duplicate clientOrderId."),
        (110072, "OrderLinkedID is duplicate"),
    ),
    RefusalReason.UNKNOWN_ORDER: (
        (170213, "Order does not exist."),
        (110001, "order not exists or too late to cancel"),
    ),
    RefusalReason.ORDER_NOT_OPEN: (
        (170213, "Order does not exist."),
        (110001, "order not exists or too late to cancel"),
    ),
    RefusalReason.INSUFFICIENT_BALANCE: (
        (170131, "Insufficient balance."),
        (110007, "ab not enough for new order"),
    ),
    RefusalReason.INSUFFICIENT_MARGIN: (
        (170131, "Insufficient balance."),
        (110007, "ab not enough for new order"),
    ),
    RefusalReason.POST_ONLY_WOULD_TAKE: (
        (170218, "The LIMIT-MAKER order is rejected due to invalid price."),
        (10001, "PostOnly order would take liquidity"),
    ),
    RefusalReason.FOK_NOT_FILLABLE: (
        (170130, "FOK order cannot be filled completely."),
        (10001, "FOK order cannot be filled completely"),
    ),
    RefusalReason.TICK_SIZE: (
        (170134, "Order price decimal too long."),
        (10001, "The price is not a multiple of the tick size"),
    ),
    RefusalReason.LOT_SIZE: (
        (170137, "Order quantity has too many decimals."),
        (10001, "Qty invalid: not a multiple of the qty step"),
    ),
    RefusalReason.MIN_QTY: (
        (170136, "Order quantity lower than the minimum."),
        (10001, "The number of contracts is below min limit allowed"),
    ),
    RefusalReason.MIN_NOTIONAL: (
        (170140, "Order value exceeded lower limit."),
        (110094, "Order does not meet minimum order value"),
    ),
    RefusalReason.MAX_QTY: (
        (170135, "Order quantity exceeded upper limit."),
        (10001, "The number of contracts exceeds maximum limit allowed"),
    ),
    RefusalReason.MAX_MARKET_QTY: (
        (170135, "Order quantity exceeded upper limit."),
        (10001, "The number of contracts exceeds maximum limit allowed: too large"),
    ),
    RefusalReason.REDUCE_ONLY_WOULD_INCREASE: (
        (170130, "Reduce-only is not supported on spot."),
        (110017, "Reduce-only rule not satisfied"),
    ),
    RefusalReason.NO_LIQUIDITY: (
        (170130, "No liquidity on the other side of the book."),
        (10001, "No liquidity on the other side of the book"),
    ),
    RefusalReason.BAD_PARAMETER: (
        (170130, "Data sent for parameter is not valid."),
        (10001, "params error"),
    ),
    RefusalReason.UNKNOWN_INSTRUMENT: (
        (170121, "Invalid symbol."),
        (10001, "params error: symbol invalid"),
    ),
}


def refusal_code(reason: RefusalReason, category: str) -> _Code:
    """Bybit's ``(retCode, retMsg)`` for a desk refusal in ``category``."""
    spot, linear = REFUSALS[reason]
    return spot if category == "spot" else linear


def refusal_error(refusal: Refusal, category: str, quote: str) -> _Code:
    """Bybit's ``(retCode, retMsg)`` for a desk refusal; a spot price beyond the price
    limit names the limit, as the venue's message does ("Buy order price cannot be
    higher than 43183.1929USDT.")."""
    if refusal.limits is not None:
        low, high = refusal.limits
        if refusal.reason is RefusalReason.PRICE_ABOVE_LIMIT:
            return 170193, f"Buy order price cannot be higher than {high}{quote}."
        if refusal.reason is RefusalReason.PRICE_BELOW_LIMIT:
            return 170194, f"Sell order price cannot be lower than {low}{quote}."
    return refusal_code(refusal.reason, category)


def order_status(order: UserOrder) -> str:
    """Bybit's ``orderStatus``."""
    state = order.state
    if state is OrderState.NEW:
        return "New"
    if state is OrderState.PARTIALLY_FILLED:
        return "PartiallyFilled"
    if state is OrderState.FILLED:
        return "Filled"
    if state is OrderState.REJECTED:
        return "Rejected"
    if order.market == "spot" and order.filled_qty > 0:
        return "PartiallyFilledCanceled"
    return "Cancelled"


def cancel_type(order: UserOrder) -> str:
    """Bybit's ``cancelType`` (``UNKNOWN`` unless cancelled by the user or reduce-only)."""
    cause = order.cancel_cause
    if cause in (CancelCause.USER, CancelCause.KILL, CancelCause.AMEND_TO_FILLED):
        return "CancelByUser"
    if cause is CancelCause.REDUCE_ONLY:
        return "CancelByReduceOnly"
    if cause is CancelCause.SELF_TRADE:
        return "CancelBySmp"
    return "UNKNOWN"


_REJECT_REASONS: dict[CancelCause, str] = {
    CancelCause.POST_ONLY: "EC_PostOnlyWillTakeLiquidity",
    CancelCause.FOK: "EC_CancelForNoFullFill",
    CancelCause.IOC: "EC_NoImmediateQtyToFill",
    CancelCause.MARKET_REMAINDER: "EC_NoImmediateQtyToFill",
    CancelCause.SELF_TRADE: "EC_BySelfMatch",
}


def reject_reason(order: UserOrder) -> str:
    """Bybit's ``rejectReason`` (``EC_NoError`` unless the venue ended the order)."""
    if order.cancel_cause is None:
        return "EC_NoError"
    return _REJECT_REASONS.get(order.cancel_cause, "EC_NoError")
