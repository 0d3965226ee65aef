"""Binance private streams, spot and USDⓈ-M: URLs, handshakes, frame decoding (sans-I/O).

Two sockets, one per market (``../shared/venues-trading.md`` §3.1, §3.2;
``docs/venues/binance.md`` "Trading"):

* **spot**: the WebSocket API (``spot.wsapi``, live
  ``wss://ws-api.binance.com:443/ws-api/v3``). After connecting, one signed
  request ``userDataStream.subscribe.signature`` (HMAC, RSA or Ed25519; the
  listenKey is retired on spot) answers ``{"id", "status": 200, "result":
  {"subscriptionId": n}}``; events then arrive wrapped as ``{"subscriptionId",
  "event": {...}}``. ``eventStreamTerminated`` ends the subscription; the
  server pings every 20 s.
* **USDⓈ-M**: a listenKey from ``POST /fapi/v1/listenKey`` (``X-MBX-APIKEY``
  only), kept alive with ``PUT`` every 30 minutes (the key lapses after 60
  without), closed with ``DELETE``; the socket is
  ``<linear.ws.private>/ws?listenKey=<key>`` (``wss://fstream.binance.com/private``
  since 2026-04-23). Events come unwrapped; ``listenKeyExpired`` (its ``E`` is a
  string) means: new key, new socket. The server pings every 3 minutes.

What frames become: ``executionReport`` / ``ORDER_TRADE_UPDATE`` an
:class:`OrderReport` plus a :class:`Fill` when it reports a trade (``t`` not
-1/0, ``l`` and ``L`` > 0: a trade without a price is left to the REST fills,
which carry it, rather than invented); ``outboundAccountPosition`` and ``ACCOUNT_UPDATE``
balances a :class:`Balance` per asset; ``ACCOUNT_UPDATE`` positions a
:class:`Position` (one-way ``BOTH`` only); WS API answers, terminations and
expiries a :class:`ControlMessage`. ``balanceUpdate`` (a delta, followed by an
``outboundAccountPosition`` with the totals), ``TRADE_LITE`` (a fee-less copy of
the trade's ``ORDER_TRADE_UPDATE``, whose trade id would shadow the fee-carrying
fill), ``listStatus`` and other events give nothing. Combined-stream
``{"stream", "data"}`` wrappers are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from connector.errors import MalformedMessage, UnknownInstrument, UnknownSymbol
from connector.model import Balance, Fill, Liquidity, Market
from connector.model.trading import OrderReport
from connector.venues.binance.answers import one_way_position, symbol_of, to_decimal
from connector.venues.binance.orders import (
    AUTH_CODES,
    RATE_CODES,
    TIMESTAMP_CODES,
    VENUE,
    map_side,
    map_status,
    map_type,
)
from connector.venues.binance.sign import ws_signed_params
from connector.venues.binance.streams import route_base
from connector.venues.common import ControlMessage, SymbolMap
from connector.venues.driver import HeartbeatRule, PrivateEvent, PrivateStream, RestCall
from connector.venues.driver_common import rejection
from connector.venues.signing import Signer

__all__ = [
    "LINEAR_STREAM",
    "LISTEN_KEY_KEEPALIVE_S",
    "LISTEN_KEY_PATH",
    "SPOT_STREAM",
    "SUBSCRIBE_METHOD",
    "decode_private",
    "listen_key_call",
    "parse_listen_key",
    "private_heartbeat",
    "private_streams",
    "private_url",
    "subscribe_frame",
]

SPOT_STREAM = PrivateStream(key="spot", markets=(Market.SPOT,))
LINEAR_STREAM = PrivateStream(key="linear", markets=(Market.LINEAR,), listen_key=True)
SUBSCRIBE_METHOD = "userDataStream.subscribe.signature"
LISTEN_KEY_PATH = "/fapi/v1/listenKey"
LISTEN_KEY_KEEPALIVE_S = 30 * 60.0
"""The key lapses 60 minutes after its last keepalive; common practice is 30."""
WS_API_PATH = "/ws-api/v3"

_NS_PER_MS = 1_000_000
_LISTEN_KEY_METHODS = {"create": "POST", "keepalive": "PUT", "close": "DELETE"}
_TERMINATING = frozenset({"eventStreamTerminated", "listenKeyExpired", "serverShutdown"})


def private_streams(markets: Sequence[Market]) -> list[PrivateStream]:
    """One stream per Binance market asked for (spot first)."""
    out = []
    if Market.SPOT in markets:
        out.append(SPOT_STREAM)
    if Market.LINEAR in markets:
        out.append(LINEAR_STREAM)
    return out


def private_url(stream: PrivateStream, urls: Mapping[str, str], listen_key: str | None) -> str:
    """The socket's URL from the venue's URL table.

    Spot: ``spot.wsapi`` (a custom table without it: ``<spot.ws>/ws-api/v3``,
    where the simulator serves it). USDⓈ-M: ``linear.ws.private`` (else
    ``<linear.ws>/private``) + ``/ws?listenKey=<key>``.

    Raises:
        ValueError: a USDⓈ-M stream without its listenKey, or an unknown stream.
    """
    if stream.key == SPOT_STREAM.key:
        explicit = urls.get("spot.wsapi")
        if explicit is not None:
            return explicit
        return f"{urls['spot.ws'].rstrip('/')}{WS_API_PATH}"
    if stream.key == LINEAR_STREAM.key:
        if not listen_key:
            raise ValueError("binance USDⓈ-M private stream needs a listenKey (POST listenKey)")
        return f"{route_base(urls, Market.LINEAR, 'private')}/ws?listenKey={listen_key}"
    raise ValueError(f"binance has no private stream {stream.key!r}")


def private_heartbeat(stream: PrivateStream) -> HeartbeatRule:
    """Binance pings (spot WS API every 20 s, USDⓈ-M every 3 min) and the transport
    answers; the private sockets can stay silent, so we also ping."""
    if stream.key == SPOT_STREAM.key:
        return HeartbeatRule(interval=30.0, ping=None, timeout=90.0, protocol_ping=True)
    return HeartbeatRule(interval=60.0, ping=None, timeout=240.0, protocol_ping=True)


def subscribe_frame(signer: Signer, venue_time_ns: int) -> str:
    """The spot ``userDataStream.subscribe.signature`` request (id ``uds-<ms>``).

    Signed as every WS API request: sorted ``apiKey`` and ``timestamp``
    (:func:`connector.venues.binance.sign.ws_signed_params`).
    """
    params = ws_signed_params(signer, {}, now_ns=venue_time_ns)
    request = {
        "id": f"uds-{venue_time_ns // _NS_PER_MS}",
        "method": SUBSCRIBE_METHOD,
        "params": params,
    }
    return msgspec.json.encode(request).decode()


def listen_key_call(action: str, listen_key: str | None) -> RestCall:
    """``POST``/``PUT``/``DELETE /fapi/v1/listenKey`` (weight 1).

    ``signed=True``: the adapter adds the ``X-MBX-APIKEY`` header only (security
    type USER_STREAM: no timestamp, no signature). ``PUT`` and ``DELETE`` name
    the key.

    Raises:
        ValueError: an unknown action, or a keepalive/close without a key.
    """
    method = _LISTEN_KEY_METHODS.get(action)
    if method is None:
        raise ValueError(f"listenKey action must be one of {sorted(_LISTEN_KEY_METHODS)}")
    params: dict[str, str | int] = {}
    if action != "create":
        if not listen_key:
            raise ValueError(f"listenKey {action} needs the key")
        params["listenKey"] = listen_key
    return RestCall(
        method=method, path=LISTEN_KEY_PATH, params=params, weights={"weight": 1}, signed=True
    )


class _ListenKey(msgspec.Struct):
    listenKey: str = ""


class _Error(msgspec.Struct):
    code: int
    msg: str = ""


def parse_listen_key(body: bytes) -> str:
    """The key in a listenKey answer (empty for an older ``{}`` keepalive answer).

    Raises:
        ExchangeRejected: the venue's error (``-1125``: the key no longer exists,
            create a new one), read as every Binance code is
            (``AuthenticationFailed`` for a refused key, -2014 / -2015, ...).
        MalformedMessage: anything else.
    """
    try:
        error = msgspec.json.decode(body, type=_Error)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    else:
        raise rejection(
            VENUE,
            error.code,
            error.msg,
            timestamp_codes=TIMESTAMP_CODES,
            auth_codes=AUTH_CODES,
            rate_codes=RATE_CODES,
        )
    try:
        return msgspec.json.decode(body, type=_ListenKey).listenKey
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedMessage(f"binance listenKey answer: {exc}", raw=body, venue=VENUE) from exc


# Frames -------------------------------------------------------------------------


class _ExecutionReport(msgspec.Struct):
    E: int
    s: str
    c: str
    S: str
    o: str
    q: str
    p: str
    x: str
    X: str
    i: int
    l: str  # noqa: E741 (the venue's field name)
    z: str
    L: str
    T: int
    t: int
    f: str = "GTC"
    r: str = "NONE"
    n: str | None = "0"
    N: str | None = None
    m: bool = False
    Z: str = "0"
    C: str | None = ""
    eR: str = "NONE"


class _FuturesOrder(msgspec.Struct):
    s: str
    c: str
    S: str
    o: str
    q: str
    p: str
    x: str
    X: str
    i: int
    l: str  # noqa: E741 (the venue's field name)
    z: str
    L: str
    T: int
    t: int
    f: str = "GTC"
    ap: str | None = "0"
    N: str | None = None
    n: str | None = "0"
    m: bool = False
    R: bool = False


class _OrderTradeUpdate(msgspec.Struct):
    E: int
    o: _FuturesOrder
    T: int = 0


class _SpotBalance(msgspec.Struct):
    a: str
    f: str
    l: str  # noqa: E741 (the venue's field name)


class _AccountPosition(msgspec.Struct):
    E: int
    B: list[_SpotBalance]
    u: int = 0


class _FuturesBalance(msgspec.Struct):
    a: str
    wb: str


class _FuturesPosition(msgspec.Struct):
    s: str
    pa: str
    ep: str
    ps: str = "BOTH"


class _AccountData(msgspec.Struct):
    B: list[_FuturesBalance] = []
    P: list[_FuturesPosition] = []
    m: str = ""


class _AccountUpdate(msgspec.Struct):
    E: int
    a: _AccountData
    T: int = 0


def decode_private(
    stream: PrivateStream, raw: str | bytes, symbols: SymbolMap, ts_recv_ns: int
) -> Sequence[PrivateEvent]:
    """Model values and control messages from one private frame.

    Tested on the nautilus_trader ``spot/user_data_json``,
    ``futures/user_data_json`` and ``ws_messages/ws_{spot,futures}_*`` fixtures,
    gocryptotrader ``binance/testdata/wsHandleData.json``, and the WS API
    examples of the spot docs (subscribe answer, error, eventStreamTerminated).

    Raises:
        MalformedMessage: not JSON, or an event missing a documented field;
            UnknownSymbol for an order or fill of an instrument the map lacks.
    """
    market = stream.markets[0]
    try:
        frame = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise MalformedMessage(f"binance private frame: {exc}", raw=raw, venue=VENUE) from exc
    if not isinstance(frame, dict):
        raise MalformedMessage("binance private frame is not an object", raw=raw, venue=VENUE)
    if "status" in frame and "id" in frame:
        return [_answer(frame)]
    event = frame.get("event", frame.get("data", frame))
    if not isinstance(event, dict) or "e" not in event:
        raise MalformedMessage("binance private frame without an event", raw=raw, venue=VENUE)
    try:
        return _event(market, event, symbols, ts_recv_ns, raw)
    except UnknownSymbol:
        raise
    except (msgspec.ValidationError, ValueError, InvalidOperation, TypeError) as exc:
        raise MalformedMessage(
            f"binance private {event.get('e')!r} event: {exc}", raw=raw, venue=VENUE
        ) from exc


def _answer(frame: dict[str, Any]) -> ControlMessage:
    request_id = str(frame["id"]) if frame["id"] is not None else None
    if frame["status"] == 200:
        result = frame.get("result")
        detail = ""
        if isinstance(result, dict) and "subscriptionId" in result:
            detail = f"subscriptionId={result['subscriptionId']}"
        return ControlMessage(kind="subscribed", detail=detail, request_id=request_id)
    error = frame.get("error")
    if isinstance(error, dict):
        detail = f"{error.get('code')} {error.get('msg', '')}".strip()
    else:
        detail = f"status {frame['status']}"
    kind = "subscribed" if request_id and request_id.startswith("uds-") else "error"
    return ControlMessage(kind=kind, ok=False, detail=detail, request_id=request_id)


def _event(
    market: Market, event: dict[str, Any], symbols: SymbolMap, ts_recv_ns: int, raw: str | bytes
) -> list[PrivateEvent]:
    kind = event["e"]
    if kind == "executionReport":
        return _execution_report(market, msgspec.convert(event, _ExecutionReport), symbols,
                                 ts_recv_ns, raw)  # fmt: skip
    if kind == "ORDER_TRADE_UPDATE":
        return _order_trade_update(
            msgspec.convert(event, _OrderTradeUpdate), symbols, ts_recv_ns, raw
        )
    if kind == "outboundAccountPosition":
        update = msgspec.convert(event, _AccountPosition)
        ts = (update.u or update.E) * _NS_PER_MS
        return [
            Balance(
                venue=VENUE, asset=b.a, free=to_decimal(b.f), locked=to_decimal(b.l), ts_event_ns=ts
            )
            for b in update.B
        ]
    if kind == "ACCOUNT_UPDATE":
        return _account_update(msgspec.convert(event, _AccountUpdate), symbols)
    if kind in _TERMINATING:
        return [ControlMessage(kind="expired", ok=False, detail=kind)]
    return []  # balanceUpdate, TRADE_LITE, listStatus, ALGO_UPDATE...: see the module doc


def _execution_report(
    market: Market, r: _ExecutionReport, symbols: SymbolMap, ts_recv_ns: int, raw: str | bytes
) -> list[PrivateEvent]:
    symbol = symbol_of(symbols, market, r.s, raw)
    filled = to_decimal(r.z)
    order_type, tif = map_type(market, r.o, r.f)
    price = to_decimal(r.p)
    quote = to_decimal(r.Z)
    client_id = r.C or r.c
    report = OrderReport(
        venue=VENUE,
        symbol=symbol,
        client_order_id=client_id,
        venue_order_id=str(r.i),
        side=map_side(r.S),
        type=order_type,
        qty=to_decimal(r.q),
        price=price if price > 0 else None,
        time_in_force=tif,
        status=map_status(r.X, filled),
        filled_qty=filled,
        avg_fill_price=quote / filled if filled > 0 and quote > 0 else None,
        reason=next((why for why in (r.r, r.eR) if why != "NONE"), None),
        ts_event_ns=(r.T or r.E) * _NS_PER_MS,
        ts_recv_ns=ts_recv_ns,
    )
    out: list[PrivateEvent] = [report]
    last = to_decimal(r.l)
    if r.t not in (-1, 0) and last > 0 and to_decimal(r.L) > 0:
        out.append(_fill(report, r.t, last, r.L, r.n, r.N, r.m, r.T, ts_recv_ns))
    return out


def _order_trade_update(
    u: _OrderTradeUpdate, symbols: SymbolMap, ts_recv_ns: int, raw: str | bytes
) -> list[PrivateEvent]:
    o = u.o
    symbol = symbol_of(symbols, Market.LINEAR, o.s, raw)
    filled = to_decimal(o.z)
    order_type, tif = map_type(Market.LINEAR, o.o, o.f)
    price = to_decimal(o.p)
    avg = to_decimal(o.ap) if o.ap else Decimal(0)
    report = OrderReport(
        venue=VENUE,
        symbol=symbol,
        client_order_id=o.c,
        venue_order_id=str(o.i),
        side=map_side(o.S),
        type=order_type,
        qty=to_decimal(o.q),
        price=price if price > 0 else None,
        time_in_force=tif,
        reduce_only=o.R,
        status=map_status(o.X, filled),
        filled_qty=filled,
        avg_fill_price=avg if filled > 0 and avg > 0 else None,
        ts_event_ns=(u.T or u.E) * _NS_PER_MS,
        ts_recv_ns=ts_recv_ns,
    )
    out: list[PrivateEvent] = [report]
    last = to_decimal(o.l)
    if o.t not in (-1, 0) and last > 0 and to_decimal(o.L) > 0:
        out.append(_fill(report, o.t, last, o.L, o.n, o.N, o.m, o.T, ts_recv_ns))
    return out


def _fill(
    report: OrderReport,
    trade_id: int,
    qty: Decimal,
    price: str,
    fee: str | None,
    fee_asset: str | None,
    maker: bool,
    time_ms: int,
    ts_recv_ns: int,
) -> Fill:
    return Fill(
        venue=VENUE,
        symbol=report.symbol,
        client_order_id=report.client_order_id,
        venue_order_id=report.venue_order_id or "",
        trade_id=str(trade_id),
        side=report.side,
        qty=qty,
        price=to_decimal(price),
        fee=to_decimal(fee) if fee else Decimal(0),
        fee_asset=fee_asset or "",
        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        ts_event_ns=time_ms * _NS_PER_MS,
        ts_recv_ns=ts_recv_ns,
    )


def _account_update(u: _AccountUpdate, symbols: SymbolMap) -> list[PrivateEvent]:
    ts = (u.T or u.E) * _NS_PER_MS
    out: list[PrivateEvent] = [
        Balance(venue=VENUE, asset=b.a, free=to_decimal(b.wb), ts_event_ns=ts) for b in u.a.B
    ]
    for p in u.a.P:
        if p.ps != "BOTH":
            out.append(
                ControlMessage(
                    kind="error",
                    ok=False,
                    detail=f"{p.s} {p.ps} is a hedge-mode position: connector follows "
                    "one-way (BOTH) positions only",
                )
            )
            continue
        try:
            symbol = symbols.by_native(Market.LINEAR, p.s).symbol
        except UnknownInstrument:
            continue
        out.append(one_way_position(symbol, p.pa, p.ep, ts))
    return out
