"""Binance REST answers to order and account requests, into model values (sans-I/O).

One order shape serves place, cancel, query and open-orders answers (spot
``cummulativeQuoteQty``, USDⓈ-M ``avgPrice``/``cumQuote``); the spot
keep-priority amend wraps it as ``{"amendedOrder": {...}}`` with ``qty`` and
``cumulativeQuoteQty``. Errors are ``{"code", "msg"}`` with an HTTP status
>= 400 (:func:`connector.venues.binance.orders.classify_error`).

Times are the venue's ms; model values carry int ns.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import msgspec
from msgspec import UNSET, UnsetType

from connector.errors import ConnectorError, MalformedMessage, UnknownInstrument, UnknownSymbol
from connector.model import Balance, Fill, Liquidity, Market, Position, Side, Symbol
from connector.model.trading import OrderReport
from connector.venues.binance.orders import VENUE, classify_error, map_side, map_status, map_type
from connector.venues.common import SymbolMap

__all__ = [
    "one_way_position",
    "parse_balances",
    "parse_fills",
    "parse_open_orders",
    "parse_order_answer",
    "parse_positions",
    "symbol_of",
    "to_decimal",
]

_NS_PER_MS = 1_000_000


class _Error(msgspec.Struct):
    code: int
    msg: str = ""


class _Order(msgspec.Struct):
    symbol: str
    orderId: int
    status: str
    side: str
    type: str
    clientOrderId: str = ""
    origClientOrderId: str | UnsetType = UNSET
    price: str = "0"
    origQty: str | UnsetType = UNSET
    qty: str | UnsetType = UNSET
    executedQty: str = "0"
    cummulativeQuoteQty: str | UnsetType = UNSET
    cumulativeQuoteQty: str | UnsetType = UNSET
    cumQuote: str | UnsetType = UNSET
    avgPrice: str | UnsetType = UNSET
    timeInForce: str = "GTC"
    reduceOnly: bool = False
    updateTime: int | UnsetType = UNSET
    transactTime: int | UnsetType = UNSET
    workingTime: int | UnsetType = UNSET
    time: int | UnsetType = UNSET


class _Amended(msgspec.Struct):
    amendedOrder: _Order
    transactTime: int | UnsetType = UNSET


class _CanceledList(msgspec.Struct):
    """An order list (OCO, ...) in a cancel-all answer: its orders' cancel reports."""

    orderReports: list[_Order]


class _SpotTrade(msgspec.Struct):
    symbol: str
    id: int
    orderId: int
    price: str
    qty: str
    commission: str
    commissionAsset: str
    time: int
    isBuyer: bool
    isMaker: bool


class _FuturesTrade(msgspec.Struct):
    symbol: str
    id: int
    orderId: int
    side: str
    price: str
    qty: str
    commission: str
    commissionAsset: str
    time: int
    maker: bool


class _SpotBalance(msgspec.Struct):
    asset: str
    free: str
    locked: str


class _SpotAccount(msgspec.Struct):
    balances: list[_SpotBalance]
    updateTime: int = 0


class _FuturesBalance(msgspec.Struct):
    asset: str
    balance: str
    updateTime: int = 0


class _PositionRisk(msgspec.Struct):
    symbol: str
    positionAmt: str
    entryPrice: str
    positionSide: str = "BOTH"
    updateTime: int = 0


_error = msgspec.json.Decoder(_Error)
_order = msgspec.json.Decoder(_Order)
_amended = msgspec.json.Decoder(_Amended)
_orders = msgspec.json.Decoder(list[_Order])
_raw_list = msgspec.json.Decoder(list[msgspec.Raw])
_canceled_list = msgspec.json.Decoder(_CanceledList)
_spot_trades = msgspec.json.Decoder(list[_SpotTrade])
_futures_trades = msgspec.json.Decoder(list[_FuturesTrade])
_spot_account = msgspec.json.Decoder(_SpotAccount)
_futures_balances = msgspec.json.Decoder(list[_FuturesBalance])
_positions = msgspec.json.Decoder(list[_PositionRisk])


def to_decimal(text: str) -> Decimal:
    """A Binance number (always a string on the wire) as a finite Decimal."""
    value = Decimal(text)
    if not value.is_finite():
        raise ValueError(f"impossible number {text!r}")
    return value


def one_way_position(symbol: Symbol, amount: str, entry_price: str, ts_event_ns: int) -> Position:
    """A one-way (``BOTH``) USDⓈ-M position: ``amount`` signed, entry price 0 when flat.

    Raises:
        ValueError, InvalidOperation: A number that does not parse.
    """
    qty = to_decimal(amount)
    entry = to_decimal(entry_price)
    return Position(
        venue=VENUE,
        symbol=symbol,
        qty=qty,
        avg_entry_price=entry if qty != 0 and entry > 0 else None,
        ts_event_ns=ts_event_ns,
    )


def _malformed(what: str, exc: Exception, body: bytes | str) -> MalformedMessage:
    return MalformedMessage(f"binance {what}: {exc}", raw=body, venue=VENUE)


def symbol_of(symbols: SymbolMap, market: Market, native_id: str, raw: bytes | str) -> Symbol:
    """The canonical symbol of ``native_id`` (``raw``: the answer or frame, for the error).

    Raises:
        UnknownSymbol: The map does not list it.
    """
    try:
        return symbols.by_native(market, native_id).symbol
    except UnknownInstrument:
        raise UnknownSymbol(native_id, raw=raw, venue=VENUE) from None


def _report(
    market: Market, symbols: SymbolMap, o: _Order, ts_recv_ns: int, raw: bytes
) -> OrderReport:
    instrument_symbol = symbol_of(symbols, market, o.symbol, raw)
    qty_text = o.qty if isinstance(o.qty, str) else o.origQty
    if isinstance(qty_text, UnsetType):
        raise ValueError("no origQty")
    filled = to_decimal(o.executedQty)
    order_type, tif = map_type(market, o.type, o.timeInForce)
    price = to_decimal(o.price)
    quotes = (o.cummulativeQuoteQty, o.cumulativeQuoteQty, o.cumQuote)
    quote = next((q for q in quotes if isinstance(q, str)), None)
    avg: Decimal | None = None
    if isinstance(o.avgPrice, str) and to_decimal(o.avgPrice) > 0:
        avg = to_decimal(o.avgPrice)
    elif quote is not None and filled > 0:
        avg = to_decimal(quote) / filled
    times = (o.updateTime, o.transactTime, o.workingTime, o.time)
    ts_ms = next((t for t in times if isinstance(t, int)), 0)
    client_id = o.origClientOrderId if isinstance(o.origClientOrderId, str) else o.clientOrderId
    return OrderReport(
        venue=VENUE,
        symbol=instrument_symbol,
        client_order_id=client_id,
        venue_order_id=str(o.orderId),
        side=map_side(o.side),
        type=order_type,
        qty=to_decimal(qty_text),
        price=price if price > 0 else None,
        time_in_force=tif,
        reduce_only=o.reduceOnly,
        status=map_status(o.status, filled),
        filled_qty=filled,
        avg_fill_price=avg,
        ts_event_ns=ts_ms * _NS_PER_MS,
        ts_recv_ns=ts_recv_ns,
    )


def parse_order_answer(
    market: Market,
    symbols: SymbolMap,
    status: int,
    body: bytes,
    ts_recv_ns: int,
    *,
    action: str,
    client_order_id: str,
) -> OrderReport:
    """The order in an answer to ``POST``/``DELETE``/``GET`` order or an amend.

    Tested on ``spot/http_json/{order_response,new_order_full_response,
    cancel_order_response}.json`` and ``futures/http_json/order_response.json``
    (nautilus_trader test data), the keep-priority amend example of the spot
    docs, and the error codes of ``../shared/venues-trading.md`` §6.

    Raises:
        The exception :func:`~connector.venues.binance.orders.classify_error`
        gives for an error answer; MalformedMessage for a 2xx body that is not
        an order.
    """
    if status >= 300:
        raise _order_error(status, body, action=action, client_order_id=client_order_id)
    try:
        if action == "amend" and market is Market.SPOT:
            amended = _amended.decode(body)
            o = amended.amendedOrder
            if isinstance(amended.transactTime, int):
                o.transactTime = amended.transactTime
                o.updateTime = UNSET
        else:
            o = _order.decode(body)
        return _report(market, symbols, o, ts_recv_ns, body)
    except UnknownSymbol:
        raise
    except (msgspec.DecodeError, ValueError, InvalidOperation) as exc:
        raise _malformed("order answer", exc, body) from exc


def _order_error(status: int, body: bytes, *, action: str, client_order_id: str) -> ConnectorError:
    try:
        error = _error.decode(body)
    except (msgspec.DecodeError, ValueError):
        text = body[:200].decode("utf-8", "replace")
        return classify_error(status, None, text, action=action, client_order_id=client_order_id)
    return classify_error(
        status, error.code, error.msg, action=action, client_order_id=client_order_id
    )


def parse_cancel_all_answer(
    market: Market, symbols: SymbolMap, status: int, body: bytes, ts_recv_ns: int
) -> list[OrderReport]:
    """The orders spot ``DELETE /api/v3/openOrders`` canceled, each as its cancel
    answer shows it (an order list's, OCO and the like, are those of its
    ``orderReports``); none for USDⓈ-M's ``allOpenOrders``, which answers
    ``{"code": 200, "msg": "The operation of cancel all open order is done."}``
    (the user data stream tells each order's end).

    Raises:
        OrderNotFound: spot, nothing was open (-2011 "Unknown order sent.").
        As :func:`parse_order_answer` for any other error.
    """
    if status >= 300:
        raise _order_error(status, body, action="cancel", client_order_id="")
    if market is not Market.SPOT:
        try:
            done = _error.decode(body)  # {"code", "msg"}, as an error is
        except (msgspec.DecodeError, ValueError) as exc:
            raise _malformed("cancel-all answer", exc, body) from exc
        if done.code != 200:
            raise classify_error(status, done.code, done.msg, action="cancel", client_order_id="")
        return []
    try:
        reports: list[OrderReport] = []
        for item in _raw_list.decode(body):
            if b'"orderReports"' in bytes(item):
                orders = _canceled_list.decode(item).orderReports
            else:
                orders = [_order.decode(item)]
            reports.extend(_report(market, symbols, o, ts_recv_ns, body) for o in orders)
        return reports
    except (msgspec.DecodeError, ValueError, InvalidOperation) as exc:
        raise _malformed("cancel-all answer", exc, body) from exc


def parse_open_orders(
    market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
) -> list[OrderReport]:
    """The reports of ``GET openOrders`` (every symbol); orders of symbols the map
    does not list are skipped (another session's instruments).

    Tested on ``spot/http_json/open_orders_response.json`` and
    ``http_futures_account_orders.json`` (nautilus_trader test data).
    """
    try:
        orders = _orders.decode(body)
        reports = []
        for o in orders:
            try:
                reports.append(_report(market, symbols, o, ts_recv_ns, body))
            except UnknownSymbol:
                continue
        return reports
    except (msgspec.DecodeError, ValueError, InvalidOperation) as exc:
        raise _malformed("open orders", exc, body) from exc


def parse_fills(market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int) -> list[Fill]:
    """The fills of ``myTrades`` (spot) or ``userTrades`` (USDⓈ-M), oldest first.

    The REST trade lists carry no client order id: ``client_order_id`` is empty
    and ``venue_order_id`` names the order (the state matches by it). Fees are
    positive for a charge, as Binance sends them.

    Tested on ``spot/http_json/account_trades_response.json`` and
    ``http_futures_account_trades.json`` (nautilus_trader test data).
    """
    fills: list[Fill] = []
    try:
        if market is Market.SPOT:
            for t in _spot_trades.decode(body):
                fills.append(
                    _fill(
                        market, symbols, body, t.symbol, t.id, t.orderId,
                        Side.BUY if t.isBuyer else Side.SELL,
                        t.qty, t.price, t.commission, t.commissionAsset, t.isMaker, t.time,
                        ts_recv_ns,
                    )
                )  # fmt: skip
        else:
            for f in _futures_trades.decode(body):
                fills.append(
                    _fill(
                        market, symbols, body, f.symbol, f.id, f.orderId, map_side(f.side),
                        f.qty, f.price, f.commission, f.commissionAsset, f.maker, f.time,
                        ts_recv_ns,
                    )
                )  # fmt: skip
    except UnknownSymbol:
        raise
    except (msgspec.DecodeError, ValueError, InvalidOperation) as exc:
        raise _malformed("fills", exc, body) from exc
    # Trade ids are numbers that grow: as text, 1000 would come before 999.
    fills.sort(key=lambda f: (f.ts_event_ns, int(f.trade_id)))
    return fills


def _fill(
    market: Market,
    symbols: SymbolMap,
    raw: bytes,
    native_id: str,
    trade_id: int,
    order_id: int,
    side: Side,
    qty: str,
    price: str,
    fee: str,
    fee_asset: str,
    maker: bool,
    time_ms: int,
    ts_recv_ns: int,
) -> Fill:
    return Fill(
        venue=VENUE,
        symbol=symbol_of(symbols, market, native_id, raw),
        client_order_id="",
        venue_order_id=str(order_id),
        trade_id=str(trade_id),
        side=side,
        qty=to_decimal(qty),
        price=to_decimal(price),
        fee=to_decimal(fee),
        fee_asset=fee_asset,
        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        ts_event_ns=time_ms * _NS_PER_MS,
        ts_recv_ns=ts_recv_ns,
    )


def parse_balances(market: Market, body: bytes, ts_recv_ns: int) -> list[Balance]:
    """Spot ``GET /api/v3/account`` ``balances[{asset, free, locked}]``; USDⓈ-M
    ``GET /fapi/v3/balance``, whose ``balance`` (the wallet balance, what the
    stream's ``ACCOUNT_UPDATE`` ``wb`` reports) becomes ``free`` with nothing
    ``locked``: the stream reports no available balance, and REST and stream
    must agree for reconciliation.

    Tested on ``spot/http_json/account_response.json`` and
    ``futures/http_json/balance.json`` (nautilus_trader test data).
    """
    try:
        if market is Market.SPOT:
            account = _spot_account.decode(body)
            ts = account.updateTime * _NS_PER_MS
            return [
                Balance(
                    venue=VENUE,
                    asset=b.asset,
                    free=to_decimal(b.free),
                    locked=to_decimal(b.locked),
                    ts_event_ns=ts,
                )
                for b in account.balances
            ]
        return [
            Balance(
                venue=VENUE,
                asset=b.asset,
                free=to_decimal(b.balance),
                ts_event_ns=b.updateTime * _NS_PER_MS,
            )
            for b in _futures_balances.decode(body)
        ]
    except (msgspec.DecodeError, ValueError, InvalidOperation) as exc:
        raise _malformed("balances", exc, body) from exc


def parse_positions(
    market: Market, symbols: SymbolMap, body: bytes, ts_recv_ns: int
) -> list[Position]:
    """USDⓈ-M ``GET /fapi/v3/positionRisk``: one-way (``positionSide`` ``BOTH``)
    positions, ``positionAmt`` signed; flat ones with ``qty`` 0. Hedge-mode
    entries (``LONG``/``SHORT``) raise MalformedMessage: connector trades in
    one-way mode and would otherwise report wrong positions. Symbols the map
    does not list are skipped.

    Tested on ``futures/http_json/position_risk.json`` (a ``BOTH`` entry),
    ``http_futures_account_positions_one_way.json`` and ``..._hedge.json``
    (nautilus_trader test data).
    """
    if market is Market.SPOT:
        return []
    try:
        rows = _positions.decode(body)
        out: list[Position] = []
        for p in rows:
            if p.positionSide != "BOTH":
                raise ValueError(
                    f"{p.symbol} is in hedge mode (positionSide {p.positionSide}); "
                    "connector follows one-way positions only"
                )
            try:
                symbol = symbol_of(symbols, market, p.symbol, body)
            except UnknownSymbol:
                continue
            out.append(
                one_way_position(symbol, p.positionAmt, p.entryPrice, p.updateTime * _NS_PER_MS)
            )
        return out
    except (msgspec.DecodeError, ValueError, InvalidOperation) as exc:
        raise _malformed("positions", exc, body) from exc
