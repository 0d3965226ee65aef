"""Binance USDⓈ-M error replies: the one table from desk refusals to the venue's codes.

Every USDⓈ-M trading answer that is not a success is a :class:`UsdmError`:
HTTP status, code and message, sent as ``{"code": ..., "msg": ...}`` over
REST and as ``{"id", "status", "error": {"code", "msg"}}`` on ws-fapi.
Codes and messages are the USDⓈ-M docs' (``error-code``, ``general-info``;
venues-trading.md section 6, checked 2026-12-03).
"""

from __future__ import annotations

from typing import Literal

import attrs

from connector.sim.desk import Refusal, RefusalReason

__all__ = [
    "BAD_COMBINATION",
    "BAD_LISTEN_KEY",
    "UNKNOWN_ERROR",
    "UsdmError",
    "bad_value",
    "illegal",
    "mandatory",
    "more_than_hours",
    "refusal_error",
    "too_many_orders",
]

Operation = Literal["place", "cancel", "modify", "query"]


@attrs.frozen(kw_only=True)
class UsdmError:
    """One USDⓈ-M error answer."""

    status: int
    code: int
    msg: str

    def body(self) -> dict[str, object]:
        """The JSON body (REST) or the ``error`` member (ws-fapi)."""
        return {"code": self.code, "msg": self.msg}


def _e(code: int, msg: str, status: int = 400) -> UsdmError:
    return UsdmError(status=status, code=code, msg=msg)


def mandatory(name: str) -> UsdmError:
    """-1102: a required parameter is missing."""
    return _e(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def illegal(name: str, legal: str) -> UsdmError:
    """-1100: a parameter with characters outside its pattern."""
    return _e(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def bad_value(name: str) -> UsdmError:
    """-1130: a parameter whose value is not one the endpoint takes."""
    return _e(-1130, f"Data sent for parameter '{name}' is not valid.")


def too_many_orders(limit: int, interval: str) -> UsdmError:
    """-1015 with HTTP 429: an order counter is full."""
    return _e(-1015, f"Too many new orders; current limit is {limit} orders per {interval}.", 429)


def more_than_hours(hours: int) -> UsdmError:
    """-1127: ``startTime`` and ``endTime`` further apart than the endpoint allows."""
    return _e(-1127, f"More than {hours} hours between startTime and endTime.")


#: -1128: parameters the endpoint does not take together (``fromId`` with a time).
BAD_COMBINATION = _e(-1128, "Combination of optional parameters invalid.")
BAD_LISTEN_KEY = _e(-1125, "This listenKey does not exist.")
#: The 503 whose outcome is unknown (the order may or may not be in the book).
UNKNOWN_ERROR = _e(-1007, "Unknown error, please check your request or try again later.", 503)
INVALID_SYMBOL = _e(-1121, "Invalid symbol.")
NO_SUCH_ORDER = _e(-2013, "Order does not exist.")
UNKNOWN_ORDER = _e(-2011, "Unknown order sent.")
POSITION_SIDE = _e(-4061, "Order's position side does not match user's setting.")
ALGO_TYPE = _e(
    -4120,
    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
)
CLIENT_ID_LENGTH = _e(-4015, "Client order id length should not be more than 36 chars")
NO_NEED_TO_MODIFY = _e(-5027, "No need to modify the order.")
MODIFY_LIMIT_ONLY = _e(-4110, "Modification of this order type is not supported.")

# One table: desk refusal -> USDⓈ-M answer. Unknown/closed orders depend on the operation.
_TABLE: dict[RefusalReason, UsdmError] = {
    RefusalReason.DUPLICATE_CLIENT_ID: _e(-4116, "ClientOrderId is duplicated."),
    RefusalReason.INSUFFICIENT_BALANCE: _e(-2019, "Margin is insufficient."),
    RefusalReason.INSUFFICIENT_MARGIN: _e(-2019, "Margin is insufficient."),
    RefusalReason.POST_ONLY_WOULD_TAKE: _e(
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be "
        "rejected. The order will not be recorded in the order history",
    ),
    RefusalReason.FOK_NOT_FILLABLE: _e(
        -5021,
        "Due to the order could not be filled immediately, the FOK order has been rejected. "
        "The order will not be recorded in the order history",
    ),
    RefusalReason.TICK_SIZE: _e(-4014, "Price not increased by tick size."),
    RefusalReason.PRICE_BELOW_MIN: _e(-4013, "Price less than min price."),
    RefusalReason.PRICE_ABOVE_MAX: _e(-4002, "Price greater than max price."),
    RefusalReason.LOT_SIZE: _e(-1111, "Precision is over the maximum defined for this asset."),
    RefusalReason.MIN_QTY: _e(-4004, "Quantity less than min quantity."),
    RefusalReason.MAX_QTY: _e(-4005, "Quantity greater than max quantity."),
    RefusalReason.MAX_MARKET_QTY: _e(-4005, "Quantity greater than max quantity."),
    RefusalReason.REDUCE_ONLY_WOULD_INCREASE: _e(-2022, "ReduceOnly Order is rejected."),
    RefusalReason.NO_LIQUIDITY: _e(-2020, "Unable to fill."),
    RefusalReason.BAD_PARAMETER: _e(-1130, "Data sent for parameter is not valid."),
    RefusalReason.UNKNOWN_INSTRUMENT: INVALID_SYMBOL,
}


def refusal_error(refusal: Refusal, op: Operation, *, min_notional: str = "") -> UsdmError:
    """The USDⓈ-M answer to a desk refusal during ``op``.

    Args:
        refusal: What the desk said.
        op: The operation (an unknown order is -2011 on cancel, -2013 otherwise).
        min_notional: The symbol's minimum notional, for the -4164 message.
    """
    reason = refusal.reason
    if reason in (RefusalReason.UNKNOWN_ORDER, RefusalReason.ORDER_NOT_OPEN):
        return UNKNOWN_ORDER if op == "cancel" else NO_SUCH_ORDER
    if reason is RefusalReason.MIN_NOTIONAL:
        return _e(
            -4164,
            f"Order's notional must be no smaller than {min_notional or '5'} "
            "(unless you choose reduce only).",
        )
    if refusal.limits is not None:
        low, high = refusal.limits
        if reason is RefusalReason.PRICE_ABOVE_LIMIT:
            return _e(-4016, f"Limit price can't be higher than {high}.")
        if reason is RefusalReason.PRICE_BELOW_LIMIT:
            return _e(-4024, f"Limit price can't be lower than {low}.")
    if reason is RefusalReason.BAD_PARAMETER and refusal.detail:
        return _e(-1130, f"Data sent for parameter is not valid: {refusal.detail}")
    return _TABLE[reason]
