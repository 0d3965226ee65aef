"""Binance order requests, status maps and error codes, spot and USDⓈ-M (sans-I/O).

Every request is a :class:`~connector.venues.driver.RestCall` whose parameters
travel in the query string (Binance takes them in the query or the body; the
query suits ``DELETE`` too), ``signed=True``: the adapter adds ``timestamp`` and
``signature`` when it signs (:mod:`connector.venues.binance.sign`). Facts and
sources: ``docs/venues/binance.md`` ("Trading") and
``../shared/venues-trading.md`` §2, §6.

* Post-only: spot ``type=LIMIT_MAKER`` (no ``timeInForce``), USDⓈ-M
  ``timeInForce=GTX``; both refuse at once an order that would take (-2010,
  -5022).
* Reduce-only exists on USDⓈ-M only (``reduceOnly=true``, one-way mode); asked
  on spot it is an :class:`~connector.errors.InvalidOrder`.
* Amend: spot ``PUT /api/v3/order/amend/keepPriority`` can only lower the
  quantity (``newQty`` below the current quantity) and keeps the queue
  priority; it gives the order a new client id unless ``newClientOrderId``
  repeats ours, so it does. USDⓈ-M ``PUT /fapi/v1/order`` needs ``side``,
  ``quantity`` and ``price`` every time, and requeues the order.
* ``newOrderRespType=RESULT``: the answer carries the order's status and
  filled quantity (fills come from the private stream and ``myTrades``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from connector.errors import (
    AuthenticationFailed,
    ConnectorError,
    ExchangeRejected,
    InvalidOrder,
    IpBanned,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    ServiceUnavailable,
    TimestampRejected,
)
from connector.model import (
    AmendOrder,
    Instrument,
    Market,
    Order,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
)
from connector.venues.driver import RestCall

__all__ = [
    "ACTIONS",
    "FILLS_WINDOW_NS",
    "VENUE",
    "amend_order_call",
    "balances_call",
    "cancel_order_by_venue_id_call",
    "cancel_order_call",
    "classify_error",
    "decimal_text",
    "fills_call",
    "map_side",
    "map_status",
    "map_type",
    "open_orders_call",
    "order_fills_call",
    "place_order_call",
    "positions_call",
    "query_order_by_venue_id_call",
    "query_order_call",
]

VENUE = "binance"
ACTIONS = frozenset({"place", "cancel", "amend", "query"})

_ORDER_PATH = {Market.SPOT: "/api/v3/order", Market.LINEAR: "/fapi/v1/order"}
_OPEN_ORDERS_PATH = {Market.SPOT: "/api/v3/openOrders", Market.LINEAR: "/fapi/v1/openOrders"}
_CANCEL_ALL_PATH = {Market.SPOT: "/api/v3/openOrders", Market.LINEAR: "/fapi/v1/allOpenOrders"}
_FILLS_PATH = {Market.SPOT: "/api/v3/myTrades", Market.LINEAR: "/fapi/v1/userTrades"}
_BALANCES_PATH = {Market.SPOT: "/api/v3/account", Market.LINEAR: "/fapi/v3/balance"}
_POSITIONS_PATH = "/fapi/v3/positionRisk"
_AMEND_SPOT_PATH = "/api/v3/order/amend/keepPriority"

# Request weights on the host's per-minute bucket ("weight"), from the docs.
# Spot: order and cancel 1 (0 since 2026-04-02 when they succeed; counted as 1
# here, the safe side), query 4, openOrders without symbol 80, myTrades 20 (5 with
# orderId), account 20, amend/keepPriority 4. USDⓈ-M: order 0 (it counts on the
# order counters only), modify 1 (and on the order counters; Modify Order, checked
# 2026-12-06), cancel 1, query 1, openOrders without symbol 40, userTrades 5,
# balance 5, positionRisk 5.
_WEIGHTS: Mapping[tuple[Market, str], float] = {
    (Market.SPOT, "place"): 1,
    (Market.SPOT, "cancel"): 1,
    (Market.SPOT, "cancel_all"): 1,
    (Market.SPOT, "amend"): 4,
    (Market.SPOT, "query"): 4,
    (Market.SPOT, "open"): 80,
    (Market.SPOT, "fills"): 20,
    (Market.SPOT, "order_fills"): 5,
    (Market.SPOT, "balances"): 20,
    (Market.LINEAR, "place"): 0,
    (Market.LINEAR, "cancel"): 1,
    (Market.LINEAR, "cancel_all"): 1,
    (Market.LINEAR, "amend"): 1,
    (Market.LINEAR, "query"): 1,
    (Market.LINEAR, "open"): 40,
    (Market.LINEAR, "fills"): 5,
    (Market.LINEAR, "order_fills"): 5,
    (Market.LINEAR, "balances"): 5,
    (Market.LINEAR, "positions"): 5,
}

_FILLS_LIMIT = 1000
_NS_PER_MS = 1_000_000


def _check_market(market: Market) -> None:
    if market not in _ORDER_PATH:
        raise ValueError(f"binance trades spot and linear only, not {market.value}")


def _weights(market: Market, what: str) -> dict[str, float]:
    return {"weight": _WEIGHTS[(market, what)]}


def _one_order_call(
    method: str, market: Market, instrument: Instrument, by: dict[str, str], what: str
) -> RestCall:
    """``method`` on the market's order endpoint for one order, named ``by`` one id."""
    _check_market(market)
    return RestCall(
        method=method,
        path=_ORDER_PATH[market],
        params={"symbol": instrument.native_id, **by},
        weights=_weights(market, what),
        signed=True,
    )


def decimal_text(value: Decimal) -> str:
    """A Decimal as Binance takes it: plain digits, no exponent, no trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _check_lot(instrument: Instrument, qty: Decimal, what: str) -> None:
    if qty <= 0:
        raise InvalidOrder(f"binance {instrument.native_id}: {what} {qty} must be positive")
    if instrument.lot_step > 0 and qty % instrument.lot_step != 0:
        raise InvalidOrder(
            f"binance {instrument.native_id}: {what} {qty} is not a multiple of the lot step "
            f"{instrument.lot_step}",
            violations=("lot_step",),
        )


def place_order_call(market: Market, instrument: Instrument, order: PlaceOrder) -> RestCall:
    """``POST /api/v3/order`` or ``/fapi/v1/order``: one limit or market order.

    Raises:
        InvalidOrder: a limit order without price, a market order with a price or a
            post-only time in force, reduce-only on spot, or a quantity that is not a
            whole number of lots.
    """
    _check_market(market)
    _check_lot(instrument, order.qty, "quantity")
    params: dict[str, str | int] = {"symbol": instrument.native_id, "side": order.side.upper()}
    tif = order.time_in_force
    if order.type is OrderType.LIMIT:
        if order.price is None:
            raise InvalidOrder(f"binance {instrument.native_id}: a limit order needs a price")
        if market is Market.SPOT and tif is TimeInForce.POST_ONLY:
            params["type"] = "LIMIT_MAKER"
        else:
            params["type"] = "LIMIT"
            params["timeInForce"] = "GTX" if tif is TimeInForce.POST_ONLY else tif.upper()
        params["quantity"] = decimal_text(order.qty)
        params["price"] = decimal_text(order.price)
    else:
        if order.price is not None:
            raise InvalidOrder(f"binance {instrument.native_id}: a market order takes no price")
        if tif is TimeInForce.POST_ONLY:
            raise InvalidOrder(
                f"binance {instrument.native_id}: a market order cannot be post-only"
            )
        params["type"] = "MARKET"
        params["quantity"] = decimal_text(order.qty)
    if order.reduce_only:
        if market is Market.SPOT:
            raise InvalidOrder("binance spot has no reduce-only orders")
        params["reduceOnly"] = "true"
    params["newClientOrderId"] = order.client_order_id
    params["newOrderRespType"] = "RESULT"
    return RestCall(
        method="POST",
        path=_ORDER_PATH[market],
        params=params,
        weights=_weights(market, "place"),
        signed=True,
    )


def cancel_order_call(market: Market, instrument: Instrument, client_order_id: str) -> RestCall:
    """``DELETE /api/v3/order`` or ``/fapi/v1/order`` by ``origClientOrderId``."""
    return _one_order_call(
        "DELETE", market, instrument, {"origClientOrderId": client_order_id}, "cancel"
    )


def cancel_order_by_venue_id_call(
    market: Market, instrument: Instrument, venue_order_id: str, current: Order | None = None
) -> RestCall:
    """``DELETE /api/v3/order`` or ``/fapi/v1/order`` by ``orderId`` (the answer names
    the order's ``clientOrderId``: Binance gives every order one)."""
    return _one_order_call("DELETE", market, instrument, {"orderId": venue_order_id}, "cancel")


def cancel_all_calls(
    market: Market, instrument: Instrument, client_order_ids: Sequence[str] = ()
) -> list[tuple[RestCall, int]]:
    """Spot ``DELETE /api/v3/openOrders``, USDⓈ-M ``DELETE /fapi/v1/allOpenOrders``:
    every open order of one symbol, in one request (counted as one)."""
    _check_market(market)
    call = RestCall(
        method="DELETE",
        path=_CANCEL_ALL_PATH[market],
        params={"symbol": instrument.native_id},
        weights=_weights(market, "cancel_all"),
        signed=True,
    )
    return [(call, 1)]


def amend_order_call(
    market: Market, instrument: Instrument, amend: AmendOrder, current: Order
) -> RestCall:
    """Spot ``PUT /api/v3/order/amend/keepPriority``, USDⓈ-M ``PUT /fapi/v1/order``.

    Raises:
        InvalidOrder: nothing to change; on spot, a new price or a quantity that is
            not below the current one (the venue has no in-place way to do either:
            cancel and place again); on USDⓈ-M, a market order (only limit orders
            can be modified); a quantity that is not a whole number of lots.
    """
    _check_market(market)
    if amend.qty is None and amend.price is None:
        raise InvalidOrder(f"binance {amend.client_order_id}: an amendment changes qty or price")
    if amend.qty is not None:
        _check_lot(instrument, amend.qty, "new quantity")
    if market is Market.SPOT:
        if amend.price is not None and amend.price != current.price:
            raise InvalidOrder(
                "binance spot cannot change an open order's price in place "
                "(order/amend/keepPriority only lowers the quantity): cancel and place again"
            )
        if amend.qty is None or amend.qty >= current.qty:
            raise InvalidOrder(
                f"binance spot can only lower an order's quantity in place "
                f"(asked {amend.qty}, the order has {current.qty})"
            )
        return RestCall(
            method="PUT",
            path=_AMEND_SPOT_PATH,
            params={
                "symbol": instrument.native_id,
                "origClientOrderId": amend.client_order_id,
                "newClientOrderId": amend.client_order_id,
                "newQty": decimal_text(amend.qty),
            },
            weights=_weights(market, "amend"),
            signed=True,
        )
    if current.type is not OrderType.LIMIT:
        raise InvalidOrder("binance USDⓈ-M can only modify limit orders")
    price = amend.price if amend.price is not None else current.price
    if price is None:
        raise InvalidOrder(f"binance {amend.client_order_id}: the order has no price to keep")
    qty = amend.qty if amend.qty is not None else current.qty
    return RestCall(
        method="PUT",
        path=_ORDER_PATH[market],
        params={
            "symbol": instrument.native_id,
            "origClientOrderId": amend.client_order_id,
            "side": current.side.upper(),
            "quantity": decimal_text(qty),
            "price": decimal_text(price),
        },
        weights=_weights(market, "amend"),
        signed=True,
    )


def query_order_call(market: Market, instrument: Instrument, client_order_id: str) -> RestCall:
    """``GET /api/v3/order`` or ``/fapi/v1/order`` by ``origClientOrderId``."""
    return _one_order_call(
        "GET", market, instrument, {"origClientOrderId": client_order_id}, "query"
    )


def query_order_by_venue_id_call(
    market: Market, instrument: Instrument, venue_order_id: str
) -> RestCall:
    """``GET /api/v3/order`` or ``/fapi/v1/order`` by ``orderId`` (the answer names our
    ``clientOrderId``)."""
    return _one_order_call("GET", market, instrument, {"orderId": venue_order_id}, "query")


def open_orders_call(market: Market) -> RestCall:
    """``GET /api/v3/openOrders`` or ``/fapi/v1/openOrders`` with no symbol: every symbol."""
    _check_market(market)
    return RestCall(
        method="GET", path=_OPEN_ORDERS_PATH[market], weights=_weights(market, "open"), signed=True
    )


FILLS_WINDOW_NS = {Market.LINEAR: 7 * 86_400 * 1_000_000_000}
"""How far after ``startTime`` a fills listing reaches: USDⓈ-M ``userTrades`` 7 days;
spot ``myTrades`` with ``startTime`` alone has no documented span (most recent trades)."""


def fills_call(market: Market, instrument: Instrument | None, since_ns: int | None) -> RestCall:
    """``GET /api/v3/myTrades`` or ``/fapi/v1/userTrades`` of one symbol, up to 1000.

    ``since_ns`` becomes ``startTime`` (ms, inclusive). USDⓈ-M answers at most
    7 days from ``startTime`` (without it, the last 7 days); spot documents a
    ``startTime``-``endTime`` window of at most 24 hours. Oldest first, up to
    1000: a caller that gets 1000 asks again from the last fill's time.

    Raises:
        ValueError: no instrument (Binance lists fills per symbol only).
    """
    _check_market(market)
    if instrument is None:
        raise ValueError(
            f"binance {market.value} lists fills per symbol only "
            f"({_FILLS_PATH[market]} needs a symbol): pass the instrument"
        )
    params: dict[str, str | int] = {"symbol": instrument.native_id}
    if since_ns is not None:
        params["startTime"] = since_ns // _NS_PER_MS
    params["limit"] = _FILLS_LIMIT
    return RestCall(
        method="GET",
        path=_FILLS_PATH[market],
        params=params,
        weights=_weights(market, "fills"),
        signed=True,
    )


def order_fills_call(market: Market, instrument: Instrument, venue_order_id: str) -> RestCall:
    """``GET /api/v3/myTrades`` or ``/fapi/v1/userTrades`` of one order (``orderId``, with
    its symbol; spot weight 5 instead of 20), up to 1000."""
    _check_market(market)
    return RestCall(
        method="GET",
        path=_FILLS_PATH[market],
        params={"symbol": instrument.native_id, "orderId": venue_order_id, "limit": _FILLS_LIMIT},
        weights=_weights(market, "order_fills"),
        signed=True,
    )


def balances_call(market: Market) -> RestCall:
    """``GET /api/v3/account`` (spot) or ``GET /fapi/v3/balance`` (USDⓈ-M)."""
    _check_market(market)
    return RestCall(
        method="GET",
        path=_BALANCES_PATH[market],
        weights=_weights(market, "balances"),
        signed=True,
    )


def positions_call(market: Market) -> RestCall | None:
    """``GET /fapi/v3/positionRisk`` (USDⓈ-M); ``None`` for spot."""
    _check_market(market)
    if market is Market.SPOT:
        return None
    return RestCall(
        method="GET", path=_POSITIONS_PATH, weights=_weights(market, "positions"), signed=True
    )


# Status and type maps --------------------------------------------------------

_STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING_NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}


_OPEN_BY_FILL = frozenset({"PENDING_CANCEL", "NEW_ADL", "NEW_INSURANCE"})


def map_status(status: str, filled: Decimal) -> OrderStatus:
    """A Binance order status as an :class:`OrderStatus`.

    ``PENDING_CANCEL`` ("currently unused") says nothing final: the order is still
    open, partially filled or not. ``NEW_ADL``/``NEW_INSURANCE`` (USDⓈ-M
    exchange-generated orders, already executed in the fixtures) are open until
    their ``FILLED`` update: partially filled when they report a fill. Raises
    ValueError for an unknown status.
    """
    if status in _OPEN_BY_FILL:
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW
    try:
        return _STATUS[status]
    except KeyError:
        raise ValueError(f"unknown binance order status {status!r}") from None


_MARKET_TYPES = frozenset(
    {"MARKET", "STOP_LOSS", "TAKE_PROFIT", "STOP_MARKET", "TAKE_PROFIT_MARKET", "LIQUIDATION"}
)
_LIMIT_TYPES = frozenset(
    {"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT", "STOP", "TAKE_PROFIT"}
)
_TIF = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "GTX": TimeInForce.POST_ONLY,
    "GTD": TimeInForce.GTC,
    "RPI": TimeInForce.POST_ONLY,
}


def map_type(market: Market, order_type: str, tif: str) -> tuple[OrderType, TimeInForce]:
    """The model's type and time in force of a Binance order type and ``timeInForce``.

    ``LIMIT_MAKER`` is a post-only limit; conditional types map to the kind of
    order they become (``STOP_LOSS_LIMIT`` a limit, ``STOP_MARKET`` a market
    order); USDⓈ-M ``STOP``/``TAKE_PROFIT`` are limit orders there. ``GTD`` is
    read as GTC (resting), ``RPI`` as post-only (it never takes).
    """
    if order_type == "LIMIT_MAKER":
        return OrderType.LIMIT, TimeInForce.POST_ONLY
    spot_market_like = market is Market.SPOT and order_type in ("STOP_LOSS", "TAKE_PROFIT")
    if order_type in _MARKET_TYPES or spot_market_like or order_type.endswith("_MARKET"):
        return OrderType.MARKET, _TIF.get(tif, TimeInForce.GTC)
    if order_type in _LIMIT_TYPES:
        return OrderType.LIMIT, _TIF.get(tif, TimeInForce.GTC)
    raise ValueError(f"unknown binance order type {order_type!r}")


def map_side(side: str) -> Side:
    """``BUY``/``SELL`` as a :class:`Side` (ValueError otherwise)."""
    if side == "BUY":
        return Side.BUY
    if side == "SELL":
        return Side.SELL
    raise ValueError(f"unknown binance side {side!r}")


# Errors -----------------------------------------------------------------------

AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
TIMESTAMP_CODES = frozenset({-1021, -5028})
_UNKNOWN_CODES = frozenset({-1006, -1007})
"""Execution status unknown (the venue's words): query, never resend."""
RATE_CODES = frozenset({-1003, -1008, -1015})
_NOT_FOUND_CODES = frozenset({-2013, -2026})
_UNKNOWN_ORDER_TEXT = "unknown order"


def classify_error(
    status: int, code: int | None, message: str, *, action: str, client_order_id: str
) -> ConnectorError:
    """The exception for a Binance error answer to an order request.

    Args:
        status: HTTP status.
        code: The body's ``code`` (``None`` when the body is not a Binance error).
        message: The body's ``msg`` (or the body text).
        action: ``place``, ``cancel``, ``amend`` or ``query``.
        client_order_id: The order's id.

    Returns:
        ``ServiceUnavailable`` when the outcome is unknown (HTTP 5xx other than
        -1008, 408, -1006, -1007; a 4xx without a Binance error body is a
        refusal, with the HTTP status as its code), ``TimestampRejected`` (-1021, -5028),
        ``AuthenticationFailed``, ``IpBanned`` (418) / ``RateLimited`` (429,
        -1003, -1008, -1015), ``OrderNotFound`` (-2013, -2026, -2011 "Unknown
        order sent."), ``OrderRejected`` for any other refusal of a placement,
        else ``ExchangeRejected``.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {sorted(ACTIONS)}, not {action!r}")
    text = f"{code} {message}" if code is not None else f"HTTP {status} {message}"
    if status == 418:
        return IpBanned(f"binance: {text}", venue=VENUE)
    if code in RATE_CODES or status == 429:
        return RateLimited(f"binance: {text}", venue=VENUE)
    if code in _UNKNOWN_CODES or status >= 500 or status == 408:
        return ServiceUnavailable(f"binance {action} {client_order_id}: outcome unknown ({text})")
    if code is None:
        # A 4xx that is not a Binance error body (a proxy, an unknown path): the
        # request was refused before the venue acted on it.
        code, message = status, message[:200]
        if action == "place":
            return OrderRejected(code, message, client_order_id=client_order_id, venue=VENUE)
        return ExchangeRejected(code, message, venue=VENUE)
    if code in TIMESTAMP_CODES:
        return TimestampRejected(code, message, venue=VENUE)
    if code in AUTH_CODES:
        return AuthenticationFailed(f"binance: {text}", venue=VENUE)
    if code in _NOT_FOUND_CODES or (code == -2011 and _UNKNOWN_ORDER_TEXT in message.lower()):
        return OrderNotFound(code, message, client_order_id=client_order_id, venue=VENUE)
    if action == "place":
        return OrderRejected(code, message, client_order_id=client_order_id, venue=VENUE)
    return ExchangeRejected(code, message, venue=VENUE)
