"""OKX v5 orders (sans-I/O): requests as :class:`RestCall` values, answers as reports.

Facts (fact sheet §2, §4, §6, §9; OKXDOCS ``order-book-trading-trade-post-place-order``,
``-post-cancel-order``, ``-post-amend-order``, ``-get-order-details``, ``-get-order-list``,
``-get-transaction-details-last-3-days``, ``trading-account-rest-api-get-balance``,
``-get-positions``, ``error-code-rest-api``; checked 2026-12-03, see ``docs/venues/okx.md``):

* Place ``POST /api/v5/trade/order`` (``instId``, ``tdMode``, ``side``,
  ``ordType`` ``limit`` / ``post_only`` / ``ioc`` / ``fok`` / ``market``, ``sz``,
  ``px``, ``clOrdId``, ``reduceOnly``). ``tdMode`` of spot depends on the account
  mode (``acctLv``, :mod:`.account`): ``cash`` in Spot and Futures mode (1, 2),
  ``cross`` in Multi-currency and Portfolio margin (3, 4, where ``cash`` is
  refused with 51000); swaps ``cross`` (or ``isolated``). Swap ``sz`` counts
  **contracts**: ``qty / ctVal`` (``Instrument.contract_size``; ``lotSz`` is in
  contracts too). A spot market buy's ``sz`` is quote units unless
  ``tgtCcy=base_ccy``, which is always sent for spot market orders, with
  ``banAmend=true``: without it OKX shrinks a spot market order that the balance
  cannot cover and fills less than asked. Cancel ``/trade/cancel-order``, amend
  ``/trade/amend-order`` (``newSz`` is the new **total**), query ``GET /trade/order``, open orders
  ``/trade/orders-pending``, fills ``/trade/fills`` (3 days).
* Answers are ``{"code", "msg", "data": [...]}``; ``code`` ``1`` (or ``2`` in a
  batch) means look at each element's ``sCode`` / ``sMsg``. The place, cancel
  and amend elements are acknowledgements (``ordId``, ``clOrdId``, ``sCode``):
  their report repeats what was asked, status ``new``. Post-only is accepted
  then canceled (``cancelSource`` 31).
* Fees are **negative when charged**: the model's fee is the opposite.
* ``clOrdId``: 1-32 letters and digits.

Fills, balances and positions: :mod:`connector.venues.okx.account`.

Tested on ``nautilus_trader/crates/adapters/okx/test_data/http_place_order_response.json``,
``http_get_orders_pending.json`` and hand-written answers and error bodies
(``tests/venues/okx/test_orders.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import attrs
import msgspec

from connector.errors import (
    ConnectorError,
    InvalidOrder,
    MalformedMessage,
    OrderNotFound,
    UnknownInstrument,
    UnknownSymbol,
)
from connector.model import (
    AmendOrder,
    Fill,
    Instrument,
    Liquidity,
    Market,
    Order,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
)
from connector.model.trading import OrderReport
from connector.venues.common import SymbolMap
from connector.venues.driver import RestCall
from connector.venues.okx import limits
from connector.venues.okx.symbols import market_of
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
    "ERRORS",
    "INST_TYPES",
    "MARKETS",
    "OrderItem",
    "amend_order_call",
    "answer_error",
    "bad_body",
    "base_qty",
    "cancel_order_by_venue_id_call",
    "cancel_order_call",
    "decode_answer",
    "fills_of_order",
    "inst_type",
    "instrument_of",
    "liquidity_of",
    "next_page_call",
    "open_orders_call",
    "order_report",
    "parse_open_orders",
    "parse_order_answer",
    "place_order_call",
    "query_order_call",
]

VENUE = "okx"
INST_TYPES = {Market.SPOT: "SPOT", Market.SWAP: "SWAP"}
MARKETS = {code: market for market, code in INST_TYPES.items()}
_ZERO = Decimal(0)
_CL_ORD_ID = r"[A-Za-z0-9]{1,32}"
_CL_ORD_ID_RULE = "1-32 letters and digits"

_ORD_TYPES = {
    TimeInForce.GTC: "limit",
    TimeInForce.POST_ONLY: "post_only",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
}
_ORD_TYPES_BACK: dict[str, tuple[OrderType, TimeInForce]] = {
    "limit": (OrderType.LIMIT, TimeInForce.GTC),
    "post_only": (OrderType.LIMIT, TimeInForce.POST_ONLY),
    "mmp_and_post_only": (OrderType.LIMIT, TimeInForce.POST_ONLY),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC),
    "fok": (OrderType.LIMIT, TimeInForce.FOK),
    "market": (OrderType.MARKET, TimeInForce.IOC),
    "optimal_limit_ioc": (OrderType.MARKET, TimeInForce.IOC),
}
_STATUS = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}

_VENUE_ENDS = frozenset({"13", "14", "32"})
"""``cancelSource`` of an order the venue ended on its own rules (13 a FOK that could not
fill whole, 14 an IOC or market order's unfilled remainder, 32 self-trade prevention):
``expired``, as Binance says ``EXPIRED`` / ``EXPIRED_IN_MATCH``."""

# Error classes (fact sheet §6; OKXDOCS error-code-rest-api). ``unknown``: the server
# errors and timeouts whose outcome OKX leaves open, whatever carries them (an HTTP 5xx
# on REST, an ``sCode`` in an HTTP 200 answer, a websocket order reply): 50001 service
# unavailable (503), 50004 endpoint timeout, 50013 busy, 50026 system error (500),
# 51054 request timed out (500), 51149 order timed out (500), 51412 cancel timed out.
ERRORS = ErrorCodes(
    venue=VENUE,
    success="0",
    unknown=frozenset({"50001", "50004", "50013", "50026", "51054", "51149", "51412"}),
    timestamp=frozenset({"50102", "50112"}),
    auth=frozenset(
        {"50100", "50101", "50103", "50104", "50105", "50106", "50107", "50110", "50111", "50113"}
    ),
    rate=frozenset({"50011", "50061"}),
    retry_after=2.0,
    not_found=frozenset({"51603"}),
    # cancel/amend of an order already filled or canceled, or amendments in flight
    order_final=frozenset({"51400", "51401", "51410", "51503", "51509", "51510", "51513"}),
)


# Requests ------------------------------------------------------------------


def inst_type(market: Market) -> str:
    return market_code(VENUE, INST_TYPES, market)


def _venue_qty(instrument: Instrument, qty: Decimal) -> Decimal:
    unit = instrument.contract_size if instrument.market is Market.SWAP else Decimal(1)
    return to_lots(VENUE, instrument, qty, unit)


def place_order_call(
    asked: AskedOrders,
    market: Market,
    instrument: Instrument,
    order: PlaceOrder,
    td_mode: str,
    spot_td_mode: str = "cash",
) -> RestCall:
    """``POST /api/v5/trade/order`` for ``order`` (quantities in base units).

    ``td_mode`` is the swaps' (``cross`` or ``isolated``), ``spot_td_mode`` the spot
    orders' (:func:`.account.spot_td_mode` of the account's mode).

    Raises:
        InvalidOrder: A bad client order id, a qty that is not a whole number of
            contracts or lots, a limit order without a price, reduce-only on spot.
    """
    inst_type(market)
    check_client_order_id(VENUE, order.client_order_id, _CL_ORD_ID, _CL_ORD_ID_RULE)
    body: dict[str, object] = {
        "instId": instrument.native_id,
        "tdMode": spot_td_mode if market is Market.SPOT else td_mode,
        "clOrdId": order.client_order_id,
        "side": "buy" if order.side is Side.BUY else "sell",
    }
    if order.type is OrderType.LIMIT:
        price = limit_price(VENUE, instrument, order)
        body["ordType"] = _ORD_TYPES[order.time_in_force]
        body["px"] = fmt_decimal(price)
    else:
        if order.time_in_force is not TimeInForce.GTC and order.time_in_force is not (
            TimeInForce.IOC
        ):
            raise InvalidOrder(
                f"okx {instrument.symbol}: a market order is always IOC, "
                f"not {order.time_in_force.value}"
            )
        body["ordType"] = "market"
        if market is Market.SPOT:
            body["tgtCcy"] = "base_ccy"
            # Refused when the balance cannot cover it, as on Binance and Bybit (OKX's
            # default shrinks it to the balance and fills less than asked).
            body["banAmend"] = True
    body["sz"] = fmt_decimal(_venue_qty(instrument, order.qty))
    if reduce_only(VENUE, market, instrument, order):
        body["reduceOnly"] = True
    asked.remember(market, instrument, order.client_order_id, order)
    return json_post("/api/v5/trade/order", body, {limits.ORDER: 1.0})


def cancel_order_call(
    asked: AskedOrders,
    market: Market,
    instrument: Instrument,
    client_order_id: str,
    current: Order | None = None,
) -> RestCall:
    """``POST /api/v5/trade/cancel-order`` by ``clOrdId`` (``current``: the order as
    known locally, for the acknowledgement of an order placed elsewhere)."""
    asked.remember(market, instrument, client_order_id, current)
    return json_post(
        "/api/v5/trade/cancel-order",
        {"instId": instrument.native_id, "clOrdId": client_order_id},
        {limits.CANCEL: 1.0},
    )


def cancel_order_by_venue_id_call(
    asked: AskedOrders,
    market: Market,
    instrument: Instrument,
    venue_order_id: str,
    current: Order | None = None,
) -> RestCall:
    """``POST /api/v5/trade/cancel-order`` by ``ordId`` ("Either ordId or clOrdId is
    required"): an order placed elsewhere without a ``clOrdId``; the acknowledgement
    is read under ``#`` + that id."""
    asked.remember(market, instrument, "#" + venue_order_id, current)
    return json_post(
        "/api/v5/trade/cancel-order",
        {"instId": instrument.native_id, "ordId": venue_order_id},
        {limits.CANCEL: 1.0},
    )


def _named(instrument: Instrument, key: str) -> dict[str, str]:
    """One order of a batch: by ``clOrdId``, or by ``ordId`` for ``#`` + the venue's id."""
    if key.startswith("#"):
        return {"instId": instrument.native_id, "ordId": key[1:]}
    return {"instId": instrument.native_id, "clOrdId": key}


BATCH_SIZE = 20
"""Orders per ``cancel-batch-orders`` request at most."""


def cancel_all_calls(
    market: Market, instrument: Instrument, client_order_ids: Sequence[str]
) -> list[tuple[RestCall, int]]:
    """``POST /api/v5/trade/cancel-batch-orders`` by ``clOrdId`` (by ``ordId`` an order
    named ``#`` + the venue's id), at most 20 per request (OKX's ``mass-cancel`` is
    for options' MMP orders only). The orders are shared
    evenly between the requests, so none holds a single order (which OKX would count
    as a single cancel, not against the batch limit)."""
    ids = list(client_order_ids)
    requests = -(-len(ids) // BATCH_SIZE)
    return [
        (
            json_post(
                "/api/v5/trade/cancel-batch-orders",
                [_named(instrument, key) for key in chunk],
                {},
            ),
            len(chunk),
        )
        for chunk in (ids[i::requests] for i in range(requests))
    ]


def parse_cancel_all_answer(
    market: Market, symbols: SymbolMap, status: int, body: bytes, ts_recv_ns: int
) -> list[OrderReport]:
    """A ``cancel-batch-orders`` answer acknowledges each order (``sCode`` 0: accepted,
    not done) or says why not (already filled or canceled, ...): no reports; the
    private stream tells each order's end, and an order not canceled is left to a
    cancel of its own.

    Raises:
        As :func:`answer_error` says for a refusal of the whole request.
    """
    decode_answer(status, body, action="cancel")
    return []


def amend_order_call(
    asked: AskedOrders, market: Market, instrument: Instrument, amend: AmendOrder, current: Order
) -> RestCall:
    """``POST /api/v5/trade/amend-order``: ``newSz`` (new total, contracts on swaps), ``newPx``.

    Raises:
        InvalidOrder: Neither qty nor price, or a qty that is not whole contracts or lots.
    """
    check_amendment(VENUE, instrument, amend)
    body: dict[str, object] = {"instId": instrument.native_id, "clOrdId": amend.client_order_id}
    if amend.qty is not None:
        body["newSz"] = fmt_decimal(_venue_qty(instrument, amend.qty))
    if amend.price is not None:
        body["newPx"] = fmt_decimal(amend.price)
    asked.remember(market, instrument, amend.client_order_id, amended(current, amend))
    return json_post("/api/v5/trade/amend-order", body, {limits.AMEND: 1.0})


def query_order_call(
    instrument: Instrument, client_order_id: str = "", *, venue_order_id: str = ""
) -> RestCall:
    """``GET /api/v5/trade/order`` by ``clOrdId`` (the latest order with that id), or by
    ``ordId`` when ``venue_order_id`` is given."""
    by = {"ordId": venue_order_id} if venue_order_id else {"clOrdId": client_order_id}
    return RestCall(
        path="/api/v5/trade/order",
        params={"instId": instrument.native_id, **by},
        weights={limits.QUERY: 1.0},
        signed=True,
    )


def open_orders_call(market: Market) -> RestCall:
    """``GET /api/v5/trade/orders-pending`` of a market (100 per page, newest first)."""
    return RestCall(
        path="/api/v5/trade/orders-pending",
        params={"instType": inst_type(market), "limit": 100},
        weights={limits.PENDING: 1.0},
        signed=True,
    )


# Answers -------------------------------------------------------------------


class OrderItem(msgspec.Struct):
    """One order: ``/trade/order``, ``/trade/orders-pending`` or an ``orders`` push."""

    instId: str
    ordId: str
    side: str
    ordType: str
    sz: str
    state: str
    instType: str = ""
    clOrdId: str = ""
    px: str = ""
    accFillSz: str = "0"
    avgPx: str = ""
    reduceOnly: str = "false"
    tgtCcy: str = ""
    cancelSource: str = ""
    cancelSourceReason: str = ""
    uTime: str = ""
    cTime: str = ""
    # the fill an ``orders`` push reports
    tradeId: str = ""
    fillSz: str = ""
    fillPx: str = ""
    fillFee: str | None = None
    fillFeeCcy: str = ""
    fee: str = ""
    feeCcy: str = ""
    execType: str = ""
    fillTime: str = ""


class _Ack(msgspec.Struct):
    ordId: str = ""
    clOrdId: str = ""
    sCode: str = "0"
    sMsg: str = ""
    state: str | None = None
    ts: str = ""


class _Answer(msgspec.Struct):
    code: str
    msg: str = ""
    data: msgspec.Raw = msgspec.Raw(b"[]")


_answer = msgspec.json.Decoder(_Answer)
_acks = msgspec.json.Decoder(list[_Ack])
_pages = msgspec.json.Decoder(list[dict[str, object]])
_orders = msgspec.json.Decoder(list[OrderItem])


def answer_error(
    status: int, code: str, message: str, *, action: str = "query", client_order_id: str = ""
) -> ConnectorError | None:
    """The error of an answer or of one element (HTTP status, ``code``/``sCode``, message).

    ``ServiceUnavailable`` means the outcome is unknown (HTTP 5xx, 50001
    unavailable, 50004 endpoint timeout, 50013 busy, 50026 system error, 51054
    request timed out, 51149 order timed out, 51412 cancel timed out), also as
    an element's ``sCode`` or in a websocket reply: the order must be queried,
    never resent. Any other refusal of a ``place`` is
    an :class:`OrderRejected` (nothing was placed); of a cancel, amend or query
    an :class:`ExchangeRejected` (the order is as it was).
    """
    return ERRORS.error(status, code, message, action=action, client_order_id=client_order_id)


def decode_answer(
    status: int, body: bytes, *, action: str = "query", client_order_id: str = ""
) -> _Answer:
    """The answer, raising the top-level error unless elements carry their own (code 1/2)."""
    try:
        answer = _answer.decode(body)
    except (msgspec.DecodeError, ValueError) as exc:
        if status >= 400:  # not OKX's JSON: HTTP 5xx unknown, 4xx a refusal by status
            text = body[:200].decode("utf-8", "replace").strip()
            error = answer_error(
                status, str(status), text, action=action, client_order_id=client_order_id
            )
            if error is not None:
                raise error from exc
        raise MalformedMessage(f"okx answer: {exc}", raw=body, venue=VENUE) from exc
    if answer.code in ("1", "2") and status < 500:
        return answer  # per-element sCode
    error = answer_error(
        status, answer.code, answer.msg, action=action, client_order_id=client_order_id
    )
    if error is not None:
        raise error
    return answer


def instrument_of(symbols: SymbolMap, inst_type: str, inst_id: str, market: Market) -> Instrument:
    market = MARKETS[inst_type] if inst_type in MARKETS else market_of(inst_id)
    try:
        return symbols.by_native(market, inst_id)
    except UnknownInstrument:
        raise UnknownSymbol(inst_id, venue=VENUE) from None


def base_qty(instrument: Instrument, venue_qty: Decimal) -> Decimal:
    if instrument.market is Market.SWAP:
        return venue_qty * instrument.contract_size
    return venue_qty


def order_report(
    item: OrderItem, market: Market, symbols: SymbolMap, ts_recv_ns: int
) -> OrderReport:
    """The report of one order; swap sizes in base units (``× ctVal``).

    A spot market order sized in quote units (``tgtCcy=quote_ccy``, never sent
    by this library) reports its filled size as its quantity.

    Raises:
        UnknownSymbol: The symbol map has no such instrument.
        ValueError: A field that does not parse.
    """
    instrument = instrument_of(symbols, item.instType, item.instId, market)
    status = _STATUS.get(item.state)
    if status is None:
        raise ValueError(f"state {item.state!r}")
    order_type, tif = _ORD_TYPES_BACK.get(item.ordType, (OrderType.LIMIT, TimeInForce.GTC))
    filled = base_qty(instrument, venue_decimal(item.accFillSz) or _ZERO)
    if item.tgtCcy == "quote_ccy":
        qty = filled
    else:
        qty = base_qty(instrument, venue_decimal(item.sz) or _ZERO)
    avg = venue_decimal(item.avgPx)
    if status is OrderStatus.CANCELED and item.cancelSource in _VENUE_ENDS:
        status = OrderStatus.EXPIRED
    reason = item.cancelSourceReason or (
        f"cancelSource {item.cancelSource}" if item.cancelSource else None
    )
    return OrderReport(
        venue=VENUE,
        symbol=instrument.symbol,
        client_order_id=item.clOrdId,
        venue_order_id=item.ordId or None,
        side=side_of(item.side),
        type=order_type,
        qty=qty,
        price=(venue_decimal(item.px) or None) if order_type is OrderType.LIMIT else None,
        time_in_force=tif,
        reduce_only=item.reduceOnly == "true",
        status=status,
        filled_qty=filled,
        avg_fill_price=avg if avg and filled else None,
        reason=reason if status in (OrderStatus.CANCELED, OrderStatus.EXPIRED) else None,
        ts_event_ns=ms_to_ns(item.uTime or item.cTime),
        ts_recv_ns=ts_recv_ns,
    )


def fills_of_order(
    item: OrderItem, market: Market, symbols: SymbolMap, ts_recv_ns: int
) -> list[Fill]:
    """The fill an ``orders`` push reports (``tradeId``, ``fillSz``), if any.

    The fee is ``-fillFee`` (OKX counts a charge negative); a push without
    ``fillFee`` gives the order's cumulative ``fee`` when this is its first fill
    (``fillSz == accFillSz``), else 0.
    """
    fill_sz = venue_decimal(item.fillSz)
    if not item.tradeId or not fill_sz:
        return []
    instrument = instrument_of(symbols, item.instType, item.instId, market)
    if item.fillFee is not None:
        okx_fee = venue_decimal(item.fillFee) or _ZERO
        fee_ccy = item.fillFeeCcy or item.feeCcy
    elif fill_sz == venue_decimal(item.accFillSz):
        okx_fee, fee_ccy = venue_decimal(item.fee) or _ZERO, item.feeCcy
    else:
        okx_fee, fee_ccy = _ZERO, item.feeCcy
    return [
        Fill(
            venue=VENUE,
            symbol=instrument.symbol,
            client_order_id=item.clOrdId,
            venue_order_id=item.ordId,
            trade_id=item.tradeId,
            side=side_of(item.side),
            qty=base_qty(instrument, fill_sz),
            price=venue_decimal(item.fillPx) or _ZERO,
            fee=-okx_fee,
            fee_asset=fee_ccy,
            liquidity=liquidity_of(item.execType),
            ts_event_ns=ms_to_ns(item.fillTime or item.uTime),
            ts_recv_ns=ts_recv_ns,
        )
    ]


def liquidity_of(exec_type: str) -> Liquidity | None:
    return {"M": Liquidity.MAKER, "T": Liquidity.TAKER}.get(exec_type)


def bad_body(what: str, body: bytes, exc: Exception) -> MalformedMessage:
    return MalformedMessage(f"okx {what}: {exc}", raw=body, venue=VENUE)


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
    """The report of a place / cancel / amend acknowledgement or of an order query.

    Raises:
        OrderRejected: A place refused (top-level code or the element's ``sCode``).
        OrderNotFound: 51603, or a query that lists nothing.
        ExchangeRejected, ServiceUnavailable, ...: see :func:`answer_error`.
        MalformedMessage: The body does not parse, or acknowledges an order no
            request of this adapter asked for (query it instead).
    """
    check_action(action)
    answer = decode_answer(status, body, action=action, client_order_id=client_order_id)
    try:
        acks = _acks.decode(answer.data)
        if not acks:
            error = answer_error(
                status, answer.code, answer.msg, action=action, client_order_id=client_order_id
            )
            if error is not None:
                raise error
            if action == "query":
                raise OrderNotFound(
                    "", "not in its order listing", client_order_id=client_order_id, venue=VENUE
                )
            raise ValueError("an acknowledgement without data")
        ack = acks[0]
        if action == "query":
            return order_report(_orders.decode(answer.data)[0], market, symbols, ts_recv_ns)
        cl_ord_id = ack.clOrdId or client_order_id
        error = answer_error(status, ack.sCode, ack.sMsg, action=action, client_order_id=cl_ord_id)
        if error is not None:
            raise error
        return asked.ack_report(
            VENUE,
            cl_ord_id,
            ack.ordId,
            ts_event_ns=ms_to_ns(ack.ts),
            ts_recv_ns=ts_recv_ns,
            raw=body,
        )
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("order answer", body, exc) from exc


def parse_open_orders(
    market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
) -> list[OrderReport]:
    """The reports of ``/trade/orders-pending`` (``http_get_orders_pending.json``)."""
    answer = decode_answer(200, body)
    try:
        return [order_report(i, market, symbols, ts_recv_ns) for i in _orders.decode(answer.data)]
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("pending orders", body, exc) from exc


_PAGE_KEYS = {"/api/v5/trade/orders-pending": "ordId", "/api/v5/trade/fills": "billId"}


def next_page_call(call: RestCall, body: bytes) -> RestCall | None:
    """The next (older) page of a pending-orders or fills listing: ``after`` = the
    last item's ``ordId`` / ``billId``, while a page is full (``limit`` items).

    ``None`` on the last page, for any other request, or when the cursor does
    not move.
    """
    key = _PAGE_KEYS.get(call.path)
    if key is None:
        return None
    answer = decode_answer(200, body)
    try:
        items = _pages.decode(answer.data)
    except (msgspec.DecodeError, ValueError) as exc:
        raise bad_body("page", body, exc) from exc
    limit = int(call.params.get("limit", 100))
    if len(items) < limit:
        return None
    cursor = items[-1].get(key, "")
    if not isinstance(cursor, str) or not cursor or cursor == call.params.get("after"):
        return None
    return attrs.evolve(call, params={**call.params, "after": cursor})
