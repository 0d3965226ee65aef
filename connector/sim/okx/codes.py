"""OKX v5 trading error codes: the one table from desk refusals to ``sCode``/``sMsg``.

Codes and texts from the OKX docs "Error Code - REST API" (trade class,
checked 2026-12-03) and ``venues-trading.md`` section 6. Per-order failures
are HTTP 200 with the envelope ``code`` ``"1"`` (one order) or ``"2"`` (a batch
that partly succeeded) and the order's ``sCode``/``sMsg``; whole-request
failures (a missing or malformed parameter) are HTTP 400 with the code at
the top and ``data`` empty.
"""

from __future__ import annotations

from typing import Literal

from connector.sim.desk import Refusal, RefusalReason

__all__ = ["BATCH_CODES", "Op", "refusal_code"]

Op = Literal["place", "cancel", "amend"]
"""The operation a refusal answers (cancel and amend name the order that is gone)."""

#: Envelope ``code`` and ``msg`` of an order request by how many items failed.
BATCH_CODES = {
    "none": ("0", ""),
    "all": ("1", "All operations failed"),
    "some": ("2", "Bulk operation partially succeeded."),
}

_GONE: dict[Op, tuple[str, str]] = {
    "place": ("51603", "Order does not exist."),
    "cancel": (
        "51400",
        "Order cancellation failed as the order has been filled, canceled or does not exist.",
    ),
    "amend": (
        "51503",
        "Order modification failed as the order has been filled, canceled or does not exist.",
    ),
}

_TABLE: dict[RefusalReason, tuple[str, str]] = {
    RefusalReason.DUPLICATE_CLIENT_ID: ("51016", "Client order ID already exists."),
    RefusalReason.INSUFFICIENT_BALANCE: (
        "51008",
        "Order failed. Insufficient {ccy} balance in account.",
    ),
    RefusalReason.INSUFFICIENT_MARGIN: (
        "51008",
        "Order failed. Insufficient {ccy} margin in account.",
    ),
    RefusalReason.POST_ONLY_WOULD_TAKE: (
        "51511",
        "Operation failed as the order price did not meet the requirement for Post Only.",
    ),
    RefusalReason.FOK_NOT_FILLABLE: ("51000", "Parameter ordType error"),
    RefusalReason.TICK_SIZE: ("51000", "Parameter px error"),
    RefusalReason.LOT_SIZE: ("51121", "Order quantity must be a multiple of the lot size."),
    RefusalReason.MIN_QTY: ("51020", "Your order should meet or exceed the minimum order amount."),
    RefusalReason.MIN_NOTIONAL: (
        "51020",
        "Your order should meet or exceed the minimum order amount.",
    ),
    RefusalReason.MAX_QTY: ("51202", "Market order amount exceeds the maximum amount."),
    RefusalReason.MAX_MARKET_QTY: ("51202", "Market order amount exceeds the maximum amount."),
    RefusalReason.REDUCE_ONLY_WOULD_INCREASE: (
        "51169",
        "Order failed because you don't have any positions in this direction for this contract"
        " to reduce or close.",
    ),
    RefusalReason.NO_LIQUIDITY: (
        "51140",
        "Purchase failed due to insufficient sell orders, please try later.",
    ),
    RefusalReason.BAD_PARAMETER: ("51000", "Parameter {param} error"),
    RefusalReason.UNKNOWN_INSTRUMENT: (
        "51001",
        "Instrument ID, Instrument ID code, or Spread ID doesn't exist.",
    ),
}

_EXCESS = ("51112", "Close order size exceeds available size for this position.")
_SAME_DIRECTION = (
    "51170",
    "Failed to place order. A reduce-only order can't be the same trading direction as your"
    " existing positions.",
)


def refusal_code(
    op: Op,
    refusal: Refusal,
    *,
    ccy: str = "",
    param: str = "sz",
    position: Literal["none", "same", "opposite"] = "none",
) -> tuple[str, str]:
    """``(sCode, sMsg)`` of a desk refusal.

    Args:
        op: The operation refused.
        refusal: The desk's refusal.
        ccy: The currency short of funds (for 51008).
        param: The parameter a ``BAD_PARAMETER`` names.
        position: For a reduce-only refusal, the position against the order:
            ``none`` (51169), in the order's direction (``same``, 51170), or
            the other way but smaller than the order (``opposite``, 51112:
            OKX does not trim a reduce-only order to the position).
    """
    reason = refusal.reason
    if reason in (RefusalReason.UNKNOWN_ORDER, RefusalReason.ORDER_NOT_OPEN):
        return _GONE[op]
    if reason is RefusalReason.REDUCE_ONLY_WOULD_INCREASE and position != "none":
        return _SAME_DIRECTION if position == "same" else _EXCESS
    if refusal.limits is not None:  # PRICE_ABOVE_LIMIT, PRICE_BELOW_LIMIT
        low, high = refusal.limits
        return (
            "51006",
            f"Order price is not within the price limit (max buy price: {high} , min sell"
            f" price: {low} )",
        )
    if reason is RefusalReason.MAX_QTY and op == "amend":
        return ("51000", "Parameter newSz error")
    code, text = _TABLE[reason]
    return code, text.format(ccy=ccy, param=param)
