"""Binance spot: the desk's refusals as the venue's codes, in one table.

Sources (checked 2026-12-03): Binance spot errors.md ("Messages for -1010
ERROR_MSG_RECEIVED, -2010 NEW_ORDER_REJECTED, -2011 CANCEL_REJECTED, and
-2038 ORDER_AMEND_REJECTED", "Filter failures"), venues-trading.md 6.
A refusal of a new order is -2010, of a cancel -2011, of an amend -2038, of
a query -2013; filter failures are -1013 with the filter's name.
"""

from __future__ import annotations

from typing import Literal

from connector.sim.binance.signed import BinanceError
from connector.sim.desk import Refusal, RefusalReason

__all__ = ["Action", "refusal_error"]

Action = Literal["place", "cancel", "amend", "query"]

R = RefusalReason

_PLACE: dict[RefusalReason, tuple[int, str]] = {
    R.DUPLICATE_CLIENT_ID: (-2010, "Duplicate order sent."),
    R.INSUFFICIENT_BALANCE: (-2010, "Account has insufficient balance for requested action."),
    R.INSUFFICIENT_MARGIN: (-2010, "Account has insufficient balance for requested action."),
    R.POST_ONLY_WOULD_TAKE: (-2010, "Order would immediately match and take."),
    R.FOK_NOT_FILLABLE: (-2010, "Order would not be fully filled."),
    R.NO_LIQUIDITY: (-2010, "Market order rejected: insufficient liquidity."),
    R.TICK_SIZE: (-1013, "Filter failure: PRICE_FILTER"),
    R.PRICE_BELOW_MIN: (-1013, "Filter failure: PRICE_FILTER"),
    R.PRICE_ABOVE_MAX: (-1013, "Filter failure: PRICE_FILTER"),
    R.LOT_SIZE: (-1013, "Filter failure: LOT_SIZE"),
    R.MIN_QTY: (-1013, "Filter failure: LOT_SIZE"),
    R.MAX_QTY: (-1013, "Filter failure: LOT_SIZE"),
    R.MAX_MARKET_QTY: (-1013, "Filter failure: MARKET_LOT_SIZE"),
    R.MIN_NOTIONAL: (-1013, "Filter failure: NOTIONAL"),
    R.PRICE_ABOVE_LIMIT: (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE"),
    R.PRICE_BELOW_LIMIT: (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE"),
    R.REDUCE_ONLY_WOULD_INCREASE: (-1106, "Parameter 'reduceOnly' sent when not required."),
    R.UNKNOWN_INSTRUMENT: (-1121, "Invalid symbol."),
    R.BAD_PARAMETER: (-1013, "Invalid quantity."),
    R.UNKNOWN_ORDER: (-2011, "Unknown order sent."),
    R.ORDER_NOT_OPEN: (-2011, "Unknown order sent."),
}

_CANCEL: dict[RefusalReason, tuple[int, str]] = {
    R.UNKNOWN_ORDER: (-2011, "Unknown order sent."),
    R.ORDER_NOT_OPEN: (-2011, "Unknown order sent."),
}

_AMEND: dict[RefusalReason, tuple[int, str]] = {
    R.UNKNOWN_ORDER: (-2011, "Unknown order sent."),
    R.ORDER_NOT_OPEN: (-2011, "Unknown order sent."),
    R.LOT_SIZE: (-1013, "Filter failure: LOT_SIZE"),
    R.MIN_QTY: (-1013, "Filter failure: LOT_SIZE"),
    R.MIN_NOTIONAL: (-1013, "Filter failure: NOTIONAL"),
    R.BAD_PARAMETER: (-2038, "The requested action would change no state; rejecting"),
}

_TABLES = {"place": _PLACE, "cancel": _CANCEL, "amend": _AMEND, "query": {}}


def refusal_error(refusal: Refusal, action: Action) -> BinanceError:
    """The venue's error for a desk refusal of ``action``."""
    found = _TABLES[action].get(refusal.reason) or _PLACE.get(refusal.reason)
    if found is None:
        return BinanceError(-1013, refusal.detail or str(refusal.reason))
    code, msg = found
    return BinanceError(code, msg)
