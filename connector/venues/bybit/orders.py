"""Bybit v5 orders (sans-I/O): requests as :class:`RestCall` values, answers as reports.

Facts (fact sheet §2, BYDOCS ``order/create-order.mdx``, ``order/open-order.mdx``,
``order/execution.mdx``, ``account/wallet-balance.mdx``, ``position/position.mdx``,
``enum.mdx``, ``error.mdx``; checked 2026-12-03, see ``docs/venues/bybit.md``):

* Every order endpoint takes ``category`` (``spot`` / ``linear``) and ``symbol``.
  Place ``POST /v5/order/create`` (``side`` ``Buy``/``Sell``, ``orderType``
  ``Limit``/``Market``, ``qty`` and ``price`` as strings, ``timeInForce``
  ``GTC``/``IOC``/``FOK``/``PostOnly``, ``orderLinkId``, ``reduceOnly``); a
  spot Market order's ``qty`` is in quote units by default for a buy, so
  ``marketUnit=baseCoin`` is always sent for spot Market orders. Cancel
  ``POST /v5/order/cancel``, amend ``POST /v5/order/amend`` (``qty`` is the new
  total), query ``GET /v5/order/realtime`` (open and recent closed orders),
  fills ``GET /v5/execution/list``, balances ``GET /v5/account/wallet-balance``
  (``accountType=UNIFIED``), positions ``GET /v5/position/list``.
* The answers to create, amend and cancel are ``{orderId, orderLinkId}``: the
  request was accepted, no more (post-only is accepted, then canceled with
  ``EC_PostOnlyWillTakeLiquidity``). Their report repeats what was asked
  (:class:`~connector.venues.trading_common.AskedOrders`), status ``new``.
* ``orderLinkId``: at most 36 of ``[0-9A-Za-z_-]``.

Fills, balances and positions: :mod:`connector.venues.bybit.account`.

Tested on ``nautilus_trader/crates/adapters/bybit/test_data/http_get_orders_realtime.json``,
``http_get_order_partially_filled_rejected.json`` and hand-written answers and
error bodies (``tests/venues/bybit/test_orders.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs
import msgspec

from connector.errors import (
    ConnectorError,
    InvalidOrder,
    IpBanned,
    MalformedMessage,
    OrderNotFound,
    UnknownInstrument,
    UnknownSymbol,
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
from connector.model.trading import OrderReport
from connector.venues.bybit import limits
from connector.venues.common import SymbolMap
from connector.venues.driver import RestCall
from connector.venues.trading_common import (
    AskedOrders,
    ErrorCodes,
    amended,
    check_action,
    check_amendment,
    check_client_order_id,
    fmt_decimal,
    json_post,
    limit_price,
    market_code,
    ms_to_ns,
    reduce_only,
    side_of,
    to_lots,
    venue_decimal,
)

__all__ = [
    "CATEGORIES",
    "ERRORS",
    "IP_WEIGHT",
    "MARKETS",
    "OrderItem",
    "amend_order_call",
    "answer_error",
    "bad_body",
    "cancel_order_by_venue_id_call",
    "cancel_order_call",
    "category",
    "decode_answer",
    "instrument_of",
    "ip_ban",
    "next_page_call",
    "open_orders_call",
    "order_report",
    "parse_open_orders",
    "parse_order_answer",
    "place_order_call",
    "query_order_call",
]

VENUE = "bybit"
CATEGORIES = {Market.SPOT: "spot", Market.LINEAR: "linear"}
MARKETS = {code: market for market, code in CATEGORIES.items()}
_ZERO = Decimal(0)
IP_WEIGHT = {"ip": 1.0}
_LINK_ID = r"[0-9A-Za-z_-]{1,36}"
_LINK_ID_RULE = "1-36 letters, digits, '_' or '-'"
SETTLE_COIN = "USDT"
"""The settle coin whose linear orders and positions are listed (linear needs one)."""

_TIF = {
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "PostOnly",
}
_TIF_BACK = {v: k for k, v in _TIF.items()}
_STATUS = {
    "New": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Untriggered": OrderStatus.NEW,
    "Triggered": OrderStatus.NEW,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,
    "Deactivated": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
}

# Error classes (fact sheet §6; BYDOCS error.mdx; NT's ambiguous set)
_IP_BANNED = 10009
"""retCode "IP has been banned." (bybit-exchange/docs ``docs/v5/error.mdx``)."""

# The order socket's own codes (error.mdx "WS OE General code", checked 2026-12-06):
# 20003 "Too frequent requests under the same session" refuses the request (a rate
# limit); 20006 "reqId is duplicated" leaves which request was acted on in doubt.
ERRORS = ErrorCodes(
    venue=VENUE,
    success=0,
    unknown=frozenset({10000, 10016, 10019, 20006, 170007, 170146, 170147, 170310}),
    timestamp=frozenset({10002}),
    auth=frozenset({10003, 10004, 10005, 10007, 10010, 33004}),
    rate=frozenset({10006, 10018, 10429, 20003}),
    retry_after=1.0,
    not_found=frozenset({110001, 170213}),
    # cancel/amend of an order that is already final, or busy: a refusal, not a missing order
    order_final=frozenset({110008, 110010, 110079, 170142, 170143}),
)


# Requests ------------------------------------------------------------------


def category(market: Market) -> str:
    return market_code(VENUE, CATEGORIES, market)


def place_order_call(
    asked: AskedOrders, market: Market, instrument: Instrument, order: PlaceOrder
) -> RestCall:
    """``POST /v5/order/create`` for ``order`` (quantities in base units).

    Raises:
        InvalidOrder: A bad client order id, a qty that is not a whole number of
            lots, a limit order without a price, reduce-only on spot.
    """
    check_client_order_id(VENUE, order.client_order_id, _LINK_ID, _LINK_ID_RULE)
    qty = to_lots(VENUE, instrument, order.qty, Decimal(1))
    body: dict[str, object] = {
        "category": category(market),
        "symbol": instrument.native_id,
        "side": "Buy" if order.side is Side.BUY else "Sell",
        "orderType": "Limit" if order.type is OrderType.LIMIT else "Market",
        "qty": fmt_decimal(qty),
    }
    if order.type is OrderType.LIMIT:
        body["price"] = fmt_decimal(limit_price(VENUE, instrument, order))
        body["timeInForce"] = _TIF[order.time_in_force]
    else:
        if order.time_in_force is TimeInForce.POST_ONLY:
            raise InvalidOrder(f"bybit {instrument.symbol}: a market order cannot be post-only")
        body["timeInForce"] = (
            "IOC" if order.time_in_force is TimeInForce.GTC else (_TIF[order.time_in_force])
        )
        if market is Market.SPOT:
            body["marketUnit"] = "baseCoin"
    body["orderLinkId"] = order.client_order_id
    if reduce_only(VENUE, market, instrument, order):
        body["reduceOnly"] = True
    asked.remember(market, instrument, order.client_order_id, order)
    return json_post("/v5/order/create", body, {**IP_WEIGHT, limits.CREATE: 1.0})


def cancel_order_call(
    asked: AskedOrders,
    market: Market,
    instrument: Instrument,
    client_order_id: str,
    current: Order | None = None,
) -> RestCall:
    """``POST /v5/order/cancel`` by ``orderLinkId`` (``current``: the order as known
    locally, for the acknowledgement of an order placed elsewhere)."""
    body: dict[str, object] = {
        "category": category(market),
        "symbol": instrument.native_id,
        "orderLinkId": client_order_id,
    }
    asked.remember(market, instrument, client_order_id, current)
    return json_post("/v5/order/cancel", body, {**IP_WEIGHT, limits.CANCEL: 1.0})


def cancel_order_by_venue_id_call(
    asked: AskedOrders,
    market: Market,
    instrument: Instrument,
    venue_order_id: str,
    current: Order | None = None,
) -> RestCall:
    """``POST /v5/order/cancel`` by ``orderId`` ("You must specify orderId or
    orderLinkId"): an order placed elsewhere without an ``orderLinkId``; the
    acknowledgement is read under ``#`` + that id."""
    body: dict[str, object] = {
        "category": category(market),
        "symbol": instrument.native_id,
        "orderId": venue_order_id,
    }
    asked.remember(market, instrument, "#" + venue_order_id, current)
    return json_post("/v5/order/cancel", body, {**IP_WEIGHT, limits.CANCEL: 1.0})


def cancel_all_calls(
    market: Market, instrument: Instrument, client_order_ids: Sequence[str] = ()
) -> list[tuple[RestCall, int]]:
    """``POST /v5/order/cancel-all``: every open order of one symbol, in one request
    (counted as one on the endpoint's own quota)."""
    body = {"category": category(market), "symbol": instrument.native_id}
    return [(json_post("/v5/order/cancel-all", body, dict(IP_WEIGHT)), 1)]


def parse_cancel_all_answer(
    market: Market, symbols: SymbolMap, status: int, body: bytes, ts_recv_ns: int
) -> list[OrderReport]:
    """A ``cancel-all`` answer lists the ids it accepted to cancel, not their ends (an
    acknowledgement means accepted, as for one cancel): no reports; the private
    stream, or a read-back, tells each order's end.

    Raises:
        As :func:`answer_error` says for an error answer.
    """
    decode_answer(status, body, action="cancel")
    return []


def amend_order_call(
    asked: AskedOrders, market: Market, instrument: Instrument, amend: AmendOrder, current: Order
) -> RestCall:
    """``POST /v5/order/amend``: ``qty`` (the new total) and/or ``price``.

    Raises:
        InvalidOrder: Neither qty nor price, or a qty that is not whole lots.
    """
    check_amendment(VENUE, instrument, amend)
    body: dict[str, object] = {
        "category": category(market),
        "symbol": instrument.native_id,
        "orderLinkId": amend.client_order_id,
    }
    if amend.qty is not None:
        body["qty"] = fmt_decimal(to_lots(VENUE, instrument, amend.qty, Decimal(1)))
    if amend.price is not None:
        body["price"] = fmt_decimal(amend.price)
    asked.remember(market, instrument, amend.client_order_id, amended(current, amend))
    return json_post("/v5/order/amend", body, {**IP_WEIGHT, limits.AMEND: 1.0})


def query_order_call(
    market: Market,
    instrument: Instrument,
    client_order_id: str = "",
    *,
    venue_order_id: str = "",
) -> RestCall:
    """``GET /v5/order/realtime`` by ``orderLinkId``, or by ``orderId`` when
    ``venue_order_id`` is given (open and recently closed orders)."""
    by = {"orderId": venue_order_id} if venue_order_id else {"orderLinkId": client_order_id}
    return RestCall(
        path="/v5/order/realtime",
        params={"category": category(market), "symbol": instrument.native_id, **by},
        weights={**IP_WEIGHT, limits.QUERY: 1.0},
        signed=True,
    )


def open_orders_call(market: Market) -> RestCall:
    """``GET /v5/order/realtime`` of every open order of a market (linear: USDT-settled).

    ``openOnly=0`` lists open orders only; at most 50 per page (``limit``).
    """
    params: dict[str, str | int] = {"category": category(market)}
    if market is Market.LINEAR:
        params["settleCoin"] = SETTLE_COIN
    params["openOnly"] = 0
    params["limit"] = 50
    return RestCall(
        path="/v5/order/realtime",
        params=params,
        weights={**IP_WEIGHT, limits.QUERY: 1.0},
        signed=True,
    )


# Answers -------------------------------------------------------------------


class OrderItem(msgspec.Struct):
    """One order in a REST list or an ``order`` push."""

    symbol: str
    orderId: str
    side: str
    orderType: str
    qty: str
    orderStatus: str
    orderLinkId: str = ""
    category: str = ""
    price: str | None = None
    timeInForce: str = "GTC"
    reduceOnly: bool = False
    cumExecQty: str | None = "0"
    avgPrice: str | None = None
    rejectReason: str = ""
    cancelType: str = ""
    marketUnit: str = ""
    createdTime: str = ""
    updatedTime: str = ""


class _List(msgspec.Struct):
    list: msgspec.Raw = msgspec.Raw(b"[]")
    nextPageCursor: str = ""
    orderId: str = ""
    orderLinkId: str = ""


class _ReplyHeader(msgspec.Struct):
    Timenow: str = ""


class _Answer(msgspec.Struct):
    """A REST answer, or a ``/v5/trade`` reply (``data`` for ``result``, the time in
    ``header.Timenow``: :mod:`.order_socket`)."""

    retCode: int
    retMsg: str = ""
    result: _List | None = None
    time: int = 0
    data: _List | None = None
    header: _ReplyHeader | None = None


_answer = msgspec.json.Decoder(_Answer)
_orders = msgspec.json.Decoder(list[OrderItem])


def answer_error(
    status: int, code: int, message: str, *, action: str = "query", client_order_id: str = ""
) -> ConnectorError | None:
    """The error of an answer (HTTP status, ``retCode``, ``retMsg``); ``None`` if it succeeded.

    ``ServiceUnavailable`` means the outcome is unknown (HTTP 5xx, 10000 server
    timeout, 10016 server error, 170007/170146/170147/170310 backend timeouts):
    the order must be queried, never resent. An IP ban is :func:`ip_ban`'s. Any
    other refusal of a ``place`` is an :class:`OrderRejected` (nothing was
    placed); of a cancel, amend or query an :class:`ExchangeRejected` (the order
    is as it was).
    """
    banned = ip_ban(status, code, message)
    if banned is not None:
        return banned
    return ERRORS.error(status, code, message, action=action, client_order_id=client_order_id)


def ip_ban(status: int, code: int | None, message: str) -> IpBanned | None:
    """The IP ban an answer says, if any: HTTP 403 ("access too frequent", the IP
    limit's ban of at least 10 minutes) or retCode 10009 ("IP has been banned");
    all REST to the host stops for :data:`~connector.venues.bybit.limits.IP_BAN_SECONDS`."""
    if (status == 403 and code not in ERRORS.unknown) or code == _IP_BANNED:
        what = f"HTTP {status}" if code is None or code == status else f"{code}"
        return IpBanned(
            f"bybit: {what} ({message or 'access too frequent'}): IP banned; all REST "
            f"to the host stops for {limits.IP_BAN_SECONDS:.0f} s",
            retry_after=limits.IP_BAN_SECONDS,
            venue=VENUE,
        )
    return None


def decode_answer(
    status: int, body: bytes, *, action: str = "query", client_order_id: str = ""
) -> _Answer:
    """The answer's envelope, or the error it carries (see :func:`answer_error`)."""
    try:
        answer = _answer.decode(body)
    except (msgspec.DecodeError, ValueError) as exc:
        if status >= 400:  # not Bybit's JSON: HTTP 5xx unknown, 4xx a refusal by status
            text = body[:200].decode("utf-8", "replace").strip()
            error = answer_error(
                status, status, text, action=action, client_order_id=client_order_id
            )
            if error is not None:
                raise error from exc
        raise MalformedMessage(f"bybit answer: {exc}", raw=body, venue=VENUE) from exc
    error = answer_error(
        status, answer.retCode, answer.retMsg, action=action, client_order_id=client_order_id
    )
    if error is not None:
        raise error
    if answer.result is None:
        if answer.data is None:
            raise MalformedMessage("bybit answer without result", raw=body, venue=VENUE)
        answer.result = answer.data
        if answer.header is not None and answer.header.Timenow.isdigit():
            answer.time = int(answer.header.Timenow)
    return answer


def instrument_of(symbols: SymbolMap, category: str, native_id: str, market: Market) -> Instrument:
    if category:
        market = MARKETS.get(category, market)
    try:
        return symbols.by_native(market, native_id)
    except UnknownInstrument:
        raise UnknownSymbol(native_id, venue=VENUE) from None


def order_report(
    item: OrderItem, market: Market, symbols: SymbolMap, ts_recv_ns: int
) -> OrderReport:
    """The report of one order (REST list item or ``order`` push item).

    A spot market order sized in quote (``marketUnit=quoteCoin``, never sent by
    this library) reports its filled quantity as its quantity.

    Raises:
        UnknownSymbol: The symbol map has no such instrument.
        ValueError: A field that does not parse.
    """
    instrument = instrument_of(symbols, item.category, item.symbol, market)
    status = _STATUS.get(item.orderStatus)
    if status is None:
        raise ValueError(f"orderStatus {item.orderStatus!r}")
    filled = venue_decimal(item.cumExecQty) or _ZERO
    if status is OrderStatus.REJECTED and filled:
        status = OrderStatus.CANCELED  # it traded: its remainder was canceled, not refused
    if status is OrderStatus.CANCELED and (
        item.rejectReason in _TIME_IN_FORCE_ENDS or item.cancelType == _SELF_TRADE
    ):
        status = OrderStatus.EXPIRED  # ended on the venue's rules, as Binance says "EXPIRED"
    avg = venue_decimal(item.avgPrice)
    order_type = OrderType.MARKET if item.orderType == "Market" else OrderType.LIMIT
    price = venue_decimal(item.price) if order_type is OrderType.LIMIT else None
    reason = item.rejectReason if item.rejectReason not in ("", "EC_NoError") else None
    ended = status is OrderStatus.CANCELED or status is OrderStatus.EXPIRED
    if reason is None and ended and item.cancelType not in ("", "UNKNOWN"):
        reason = item.cancelType
    return OrderReport(
        venue=VENUE,
        symbol=instrument.symbol,
        client_order_id=item.orderLinkId,
        venue_order_id=item.orderId or None,
        side=side_of(item.side),
        type=order_type,
        qty=filled if item.marketUnit == "quoteCoin" else venue_decimal(item.qty) or _ZERO,
        price=price or None,
        time_in_force=_TIF_BACK.get(item.timeInForce, TimeInForce.GTC),
        reduce_only=item.reduceOnly,
        status=status,
        filled_qty=filled,
        avg_fill_price=avg if avg and filled else None,
        reason=reason,
        code=item.rejectReason if status is OrderStatus.REJECTED else None,
        ts_event_ns=ms_to_ns(item.updatedTime or item.createdTime),
        ts_recv_ns=ts_recv_ns,
    )


_TIME_IN_FORCE_ENDS = frozenset({"EC_NoImmediateQtyToFill", "EC_CancelForNoFullFill"})
"""``rejectReason`` of an order the venue ended for its time in force (Enums: an IOC or
market order's remainder with nothing to meet it at once, a FOK that could not fill whole):
``expired``, not ``canceled``."""
_SELF_TRADE = "CancelBySmp"
"""``cancelType`` of an order self-match prevention ended (Enums "cancelled by SMP"):
``expired`` too, as Binance's ``EXPIRED_IN_MATCH``."""


def bad_body(what: str, body: bytes, exc: Exception) -> MalformedMessage:
    return MalformedMessage(f"bybit {what}: {exc}", raw=body, venue=VENUE)


def parse_order_answer(
    asked: AskedOrders,
    market: Market,
    symbols: SymbolMap,
    status: int,
    body: bytes,
    ts_recv_ns: int,
    *,
    action: str,
    client_order_id: str,
) -> OrderReport:
    """The report of a create / amend / cancel acknowledgement or of a realtime query.

    Raises:
        OrderNotFound: The query lists no order, or 110001 / 170213.
        OrderRejected, ExchangeRejected, ServiceUnavailable, ...: see :func:`answer_error`.
        MalformedMessage: The body does not parse, or acknowledges an order no
            request of this adapter asked for (query it instead).
    """
    check_action(action)
    answer = decode_answer(status, body, action=action, client_order_id=client_order_id)
    result = answer.result
    assert result is not None
    try:
        if action != "query":
            return asked.ack_report(
                VENUE,
                result.orderLinkId or client_order_id,
                result.orderId,
                ts_event_ns=answer.time * 1_000_000,
                ts_recv_ns=ts_recv_ns,
                raw=body,
            )
        items = _orders.decode(result.list)
        if not items:
            raise OrderNotFound(
                "", "not in its order listing", client_order_id=client_order_id, venue=VENUE
            )
        return order_report(items[0], market, symbols, ts_recv_ns)
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("order answer", body, exc) from exc


def parse_open_orders(
    market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
) -> list[OrderReport]:
    """The reports of a ``/v5/order/realtime`` list (``http_get_orders_realtime.json``)."""
    answer = decode_answer(200, body)
    assert answer.result is not None
    try:
        return [
            order_report(item, market, symbols, ts_recv_ns)
            for item in _orders.decode(answer.result.list)
        ]
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("open orders", body, exc) from exc


_PAGED_PATHS = frozenset({"/v5/order/realtime", "/v5/execution/list", "/v5/position/list"})


def next_page_call(call: RestCall, body: bytes) -> RestCall | None:
    """The next page of an open-orders, executions or positions listing.

    ``None`` on the last page (``nextPageCursor`` empty or the list empty), for
    any other request, or when the cursor does not move (a venue bug must not
    loop forever).
    """
    if call.path not in _PAGED_PATHS:
        return None
    answer = decode_answer(200, body)
    assert answer.result is not None
    cursor = answer.result.nextPageCursor
    if (
        not cursor
        or cursor == call.params.get("cursor")
        or not msgspec.json.decode(answer.result.list)
    ):
        return None
    return attrs.evolve(call, params={**call.params, "cursor": cursor})
