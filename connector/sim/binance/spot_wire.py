"""Binance spot trading wire shapes: order objects, fills, user data events. Sans-I/O.

Shapes from the Binance spot docs (rest-api.md "New order", "Query order",
"Cancel order", "Account trade list"; user-data-stream.md "Order Update",
"Account Update"), checked 2026-12-03 against the fixtures
``nautilus_trader/crates/adapters/binance/test_data/spot/http_json/*.json``
and ``.../spot/user_data_json/*.json``. Every price and quantity is a string
with 8 decimals; ids are integers.

Status (``status`` / ``X``): the desk's NEW, PARTIALLY_FILLED, FILLED,
REJECTED as named; a cancel by the user or a cancel-all is CANCELED; what
the venue ends itself (IOC or FOK remainder, a MARKET order's unfilled part)
is EXPIRED, as Binance spot reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from connector.model import OrderType, Side, TimeInForce
from connector.sim.desk import CancelCause, OrderState, UserFill, UserOrder

__all__ = [
    "SPOT_STP",
    "OrderMeta",
    "ack_json",
    "cancel_json",
    "execution_report",
    "fill_json",
    "order_json",
    "placed_json",
    "spot_status",
    "trade_json",
]

SPOT_STP = "EXPIRE_MAKER"
_ZERO = Decimal(0)
_VENUE_ENDED = frozenset(
    {CancelCause.IOC, CancelCause.FOK, CancelCause.MARKET_REMAINDER, CancelCause.POST_ONLY}
)


@attrs.define
class OrderMeta:
    """What the spot front-end knows of an order beyond the desk's snapshot.

    Attributes:
        type_name: ``LIMIT``, ``MARKET`` or ``LIMIT_MAKER`` as sent.
        quote_order_qty: ``quoteOrderQty`` of a MARKET order (0 when not used).
        working_ms: When the order started working (``workingTime``).
        cancel_client_id: The cancel request's ``newClientOrderId`` (``c`` of
            the CANCELED execution report; the original id then goes in ``C``).
        amends: Keep-priority amendments so far (MAX_NUM_ORDER_AMENDS is 10).
    """

    type_name: str
    quote_order_qty: Decimal = _ZERO
    working_ms: int = 0
    cancel_client_id: str | None = None
    amends: int = 0


def p8(value: Decimal) -> str:
    """A price, quantity or amount as spot sends it: 8 decimals."""
    return format(value, ".8f")


def spot_status(order: UserOrder) -> str:
    """The venue's ``status`` of an order."""
    state = order.state
    if state is OrderState.CANCELED:
        return "EXPIRED" if order.cancel_cause in _VENUE_ENDED else "CANCELED"
    return state.name


def _tif(order: UserOrder) -> str:
    if order.type is OrderType.MARKET or order.time_in_force is TimeInForce.POST_ONLY:
        return "GTC"
    return order.time_in_force.name


def _side(side: Side) -> str:
    return "BUY" if side is Side.BUY else "SELL"


def _core(order: UserOrder, meta: OrderMeta) -> dict[str, object]:
    return {
        "price": p8(order.price if order.price is not None else _ZERO),
        "origQty": p8(order.qty),
        "executedQty": p8(order.filled_qty),
        "origQuoteOrderQty": p8(meta.quote_order_qty),
        "cummulativeQuoteQty": p8(order.cum_quote),
        "status": spot_status(order),
        "timeInForce": _tif(order),
        "type": meta.type_name,
        "side": _side(order.side),
    }


def ack_json(order: UserOrder, symbol: str, now_ms: int) -> dict[str, object]:
    """``newOrderRespType=ACK``."""
    return {
        "symbol": symbol,
        "orderId": int(order.order_id),
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": now_ms,
    }


def fill_json(fill: UserFill) -> dict[str, object]:
    """One entry of a FULL answer's ``fills``."""
    return {
        "price": p8(fill.price),
        "qty": p8(fill.qty),
        "commission": p8(fill.fee),
        "commissionAsset": fill.fee_asset,
        "tradeId": int(fill.trade_id),
    }


def placed_json(
    order: UserOrder,
    meta: OrderMeta,
    symbol: str,
    now_ms: int,
    resp_type: str,
    fills: Iterable[UserFill] = (),
) -> dict[str, object]:
    """The answer to a new order (ACK, RESULT or FULL)."""
    body = ack_json(order, symbol, now_ms)
    if resp_type == "ACK":
        return body
    body.update(_core(order, meta))
    body["workingTime"] = meta.working_ms if meta.working_ms else -1
    body["selfTradePreventionMode"] = SPOT_STP
    if resp_type == "FULL":
        body["fills"] = [fill_json(f) for f in fills]
    return body


def order_json(order: UserOrder, meta: OrderMeta, symbol: str) -> dict[str, object]:
    """An order as ``GET /api/v3/order``, ``openOrders`` and ``allOrders`` show it."""
    core = _core(order, meta)
    return {
        "symbol": symbol,
        "orderId": int(order.order_id),
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": core["price"],
        "origQty": core["origQty"],
        "executedQty": core["executedQty"],
        "cummulativeQuoteQty": core["cummulativeQuoteQty"],
        "status": core["status"],
        "timeInForce": core["timeInForce"],
        "type": core["type"],
        "side": core["side"],
        "stopPrice": p8(_ZERO),
        "icebergQty": p8(_ZERO),
        "time": order.created_ms,
        "updateTime": order.updated_ms,
        "isWorking": bool(meta.working_ms),
        "workingTime": meta.working_ms if meta.working_ms else -1,
        "origQuoteOrderQty": core["origQuoteOrderQty"],
        "selfTradePreventionMode": SPOT_STP,
    }


def cancel_json(
    order: UserOrder, meta: OrderMeta, symbol: str, cancel_id: str, now_ms: int
) -> dict[str, object]:
    """The answer to a cancel: ``clientOrderId`` is the cancel's own id."""
    body: dict[str, object] = {
        "symbol": symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": int(order.order_id),
        "orderListId": -1,
        "clientOrderId": cancel_id,
        "transactTime": now_ms,
    }
    body.update(_core(order, meta))
    body["selfTradePreventionMode"] = SPOT_STP
    return body


def trade_json(fill: UserFill, symbol: str) -> dict[str, object]:
    """One ``myTrades`` entry."""
    return {
        "symbol": symbol,
        "id": int(fill.trade_id),
        "orderId": int(fill.order_id),
        "orderListId": -1,
        "price": p8(fill.price),
        "qty": p8(fill.qty),
        "quoteQty": p8(fill.quote_qty),
        "commission": p8(fill.fee),
        "commissionAsset": fill.fee_asset,
        "time": fill.ts_ms,
        "isBuyer": fill.side is Side.BUY,
        "isMaker": str(fill.liquidity).lower() == "maker",
        "isBestMatch": True,
    }


def execution_type(order: UserOrder, fill: UserFill | None, amended: bool) -> str:
    """``x`` of an execution report for one desk change."""
    if fill is not None:
        return "TRADE"
    status = spot_status(order)
    if status in ("CANCELED", "EXPIRED", "REJECTED"):
        return status
    return "REPLACED" if amended else "NEW"


def execution_report(
    order: UserOrder,
    meta: OrderMeta,
    symbol: str,
    *,
    exec_type: str,
    fill: UserFill | None,
    execution_id: int,
    event_ms: int,
) -> dict[str, object]:
    """An ``executionReport`` event (user-data-stream.md "Order Update")."""
    canceled = exec_type == "CANCELED"
    client_id = order.client_order_id
    if canceled and meta.cancel_client_id:
        c, orig = meta.cancel_client_id, client_id
    else:
        c, orig = client_id, ""
    event: dict[str, object] = {
        "e": "executionReport",
        "E": event_ms,
        "s": symbol,
        "c": c,
        "S": _side(order.side),
        "o": meta.type_name,
        "f": _tif(order),
        "q": p8(order.qty),
        "p": p8(order.price if order.price is not None else _ZERO),
        "P": p8(_ZERO),
        "F": p8(_ZERO),
        "g": -1,
        "C": orig,
        "x": exec_type,
        "X": spot_status(order),
        "r": "NONE",
        "i": int(order.order_id),
        "l": p8(fill.qty if fill else _ZERO),
        "z": p8(order.filled_qty),
        "L": p8(fill.price if fill else _ZERO),
        "n": p8(fill.fee) if fill else "0",
        "N": fill.fee_asset if fill else None,
        "T": fill.ts_ms if fill else order.updated_ms,
        "t": int(fill.trade_id) if fill else -1,
        "I": execution_id,
        "w": order.state in (OrderState.NEW, OrderState.PARTIALLY_FILLED),
        "m": fill is not None and str(fill.liquidity).lower() == "maker",
        "M": False,
        "O": order.created_ms,
        "Z": p8(order.cum_quote),
        "Y": p8(fill.quote_qty if fill else _ZERO),
        "Q": p8(meta.quote_order_qty),
        "W": meta.working_ms if meta.working_ms else order.created_ms,
        "V": SPOT_STP,
    }
    return event


def account_position(
    balances: Iterable[tuple[str, Decimal, Decimal]], event_ms: int, updated_ms: int
) -> dict[str, object]:
    """An ``outboundAccountPosition`` event: ``(asset, free, locked)`` of the changed assets."""
    return {
        "e": "outboundAccountPosition",
        "E": event_ms,
        "u": updated_ms,
        "B": [{"a": a, "f": p8(f), "l": p8(lk)} for a, f, lk in balances],
    }
