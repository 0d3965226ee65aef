"""Binance market-data frames and REST depth bodies into normalized events (sans-I/O).

One entry point for websocket frames, :func:`decode_frame`, and one for REST depth
snapshots, :func:`parse_depth_snapshot`. Decoding uses ``msgspec`` typed structs.
Book levels are not decoded at all: the ``b``/``a`` (``bids``/``asks``) arrays stay
the venue's JSON text (:class:`~connector.model.levels.JsonLevels`), which the book
engine reads directly and validates (all or nothing) when it applies them; other
prices become interned Decimals (:mod:`connector.model.levels`). The hot path
builds no intermediate dicts, no per-level objects and no floats.

What comes out (the ``BinanceEvent`` union):

* ``depthUpdate`` diff -> :class:`BookDelta` (``first_seq=U``, ``seq=u``,
  ``prev_seq=pu`` on futures, ``None`` on spot).
* partial depth (``<sym>@depth5|10|20[@100ms]``) and REST depth ->
  :class:`BookSnapshot` (``seq=lastUpdateId``; futures partial depth: ``seq=u``).
* ``bookTicker`` -> :class:`Quote` (``seq=u``); ``trade`` and ``aggTrade`` ->
  :class:`Trade`; ``24hrTicker`` -> :class:`Ticker`.
* subscription replies and errors, ``serverShutdown`` -> :class:`ControlMessage`.
* Other events (``kline``, ``markPrice``, user-data events) -> nothing (``[]``):
  they are valid frames this module does not normalize.

Errors: anything that is not what Binance documents (bad JSON, a missing or
mistyped field, a negative quantity, a non-positive price, non-finite numbers)
raises :class:`MalformedMessage` carrying the raw text, except in book levels,
which the book checks when it applies them (a bad one invalidates and resyncs
that book: see :class:`~connector.book.keeper.BookKeeper`); a frame for a symbol that
is not in the :class:`SymbolMap` raises :class:`~connector.errors.UnknownSymbol` (a
``MalformedMessage`` subclass, so a session that logs-and-skips malformed input
handles both, and can count them apart). Unknown extra fields are ignored.
Decoding never touches any book, so a bad frame cannot corrupt state.

Times: Binance sends milliseconds; events carry int nanoseconds. ``ts_event_ns`` is
the transaction time ``T`` when the venue sends it, else the event time ``E``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Generic, TypeVar

import msgspec

from connector.errors import MalformedMessage, UnknownInstrument, UnknownSymbol
from connector.model import (
    BookDelta,
    BookSnapshot,
    Market,
    Quote,
    Side,
    Symbol,
    Ticker,
    Trade,
)
from connector.model.levels import JsonLevels, decimal_price, decimal_qty
from connector.venues.common import ControlMessage, SymbolMap

__all__ = [
    "VENUE",
    "BinanceEvent",
    "decode",
    "decode_frame",
    "parse_depth_snapshot",
]

VENUE = "binance"
_MS = 1_000_000

BinanceEvent = BookDelta | BookSnapshot | Quote | Trade | Ticker | ControlMessage
RawLevels = msgspec.Raw
"""A level array left as the venue's JSON text (see :class:`JsonLevels`)."""


# -- wire structs -------------------------------------------------------------


class _ErrorBody(msgspec.Struct):
    code: int | str = 0
    msg: str = ""


class _Pushed(msgspec.Struct):
    e: str


class _Envelope(msgspec.Struct):
    """Any frame: a combined-stream wrapper, a reply, or a raw event's head."""

    stream: str | None = None
    data: msgspec.Raw = msgspec.Raw(b"")
    id: int | str | None = None
    result: msgspec.Raw = msgspec.Raw(b"")
    error: _ErrorBody | None = None
    code: int | str | None = None
    msg: str | None = None
    e: str | None = None
    event: _Pushed | None = None  # a connection event wrapped as the WebSocket APIs send it
    lastUpdateId: int | None = None
    u: int | None = None
    s: str | None = None


class _DepthUpdate(msgspec.Struct, kw_only=True):
    """``depthUpdate``: spot ``U``/``u``; futures adds ``pu`` and ``T``."""

    E: int = 0
    T: int = 0
    s: str
    U: int
    u: int
    pu: int | None = None
    b: RawLevels
    a: RawLevels


class _PartialDepth(msgspec.Struct, kw_only=True):
    """Spot partial depth and the spot/futures REST depth body."""

    lastUpdateId: int
    E: int = 0
    T: int = 0
    bids: RawLevels
    asks: RawLevels


class _BookTicker(msgspec.Struct, kw_only=True):
    """``bookTicker``: spot has no ``e``/``E``/``T``; futures has them."""

    u: int
    s: str
    b: str
    B: str
    a: str
    A: str
    E: int = 0
    T: int = 0


class _Trade(msgspec.Struct, kw_only=True):
    E: int = 0
    T: int = 0
    s: str
    t: int
    p: str
    q: str
    m: bool


class _AggTrade(msgspec.Struct, kw_only=True):
    E: int = 0
    T: int = 0
    s: str
    a: int
    p: str
    q: str
    m: bool


class _Ticker24h(msgspec.Struct, kw_only=True):
    E: int = 0
    s: str
    c: str
    o: str | None = None
    h: str | None = None
    low: str | None = msgspec.field(name="l", default=None)
    v: str | None = None
    q: str | None = None
    b: str | None = None
    B: str | None = None
    a: str | None = None
    A: str | None = None


_T = TypeVar("_T")


class _Combined(msgspec.Struct, Generic[_T]):
    """A combined-stream frame whose payload type is known from the stream name."""

    stream: str
    data: _T


_envelope = msgspec.json.Decoder(_Envelope)
_depth_update = msgspec.json.Decoder(_DepthUpdate)
_partial_depth = msgspec.json.Decoder(_PartialDepth)
_book_ticker = msgspec.json.Decoder(_BookTicker)
_trade = msgspec.json.Decoder(_Trade)
_agg_trade = msgspec.json.Decoder(_AggTrade)
_ticker = msgspec.json.Decoder(_Ticker24h)

# Stream-name suffix (after the first "@") -> what the payload is.
_DIFF, _PARTIAL, _BBO, _TRADE, _AGG, _TICKER, _OTHER = range(7)
_KIND_BY_EVENT = {
    "depthUpdate": _DIFF,
    "bookTicker": _BBO,
    "trade": _TRADE,
    "aggTrade": _AGG,
    "24hrTicker": _TICKER,
}
_kind_cache: dict[str, int] = {}


def _stream_kind(stream: str) -> int:
    kind = _kind_cache.get(stream)
    if kind is not None:
        return kind
    suffix = stream.partition("@")[2]
    name = suffix.partition("@")[0]
    if name == "depth":
        kind = _DIFF
    elif name in ("depth5", "depth10", "depth20"):
        kind = _PARTIAL
    elif name == "bookTicker":
        kind = _BBO
    elif name == "trade":
        kind = _TRADE
    elif name == "aggTrade":
        kind = _AGG
    elif name == "ticker":
        kind = _TICKER
    else:
        kind = _OTHER
    if len(_kind_cache) < 100_000:
        _kind_cache[stream] = kind
    return kind


# One-pass decoders of whole combined frames, by payload kind (see decode_frame).
_combined: dict[int, msgspec.json.Decoder[_Combined[object]]] = {
    _DIFF: msgspec.json.Decoder(_Combined[_DepthUpdate]),
    _BBO: msgspec.json.Decoder(_Combined[_BookTicker]),
    _TRADE: msgspec.json.Decoder(_Combined[_Trade]),
    _AGG: msgspec.json.Decoder(_Combined[_AggTrade]),
    _TICKER: msgspec.json.Decoder(_Combined[_Ticker24h]),
}
_fast: dict[str, tuple[int, msgspec.json.Decoder[_Combined[object]] | None]] = {}
"""Stream name -> its kind and the one-pass decoder of its frames (None: no fast path)."""


def _fast_entry(stream: str) -> tuple[int, msgspec.json.Decoder[_Combined[object]] | None]:
    kind = _stream_kind(stream)
    entry = (kind, _combined.get(kind))
    if len(_fast) < 100_000:
        _fast[stream] = entry
    return entry


_PREFIX = '{"stream":"'
_PREFIX_BYTES = b'{"stream":"'
_PREFIX_LEN = len(_PREFIX)


def _stream_of(raw: bytes | str) -> str | None:
    """The stream name at the very start of a combined frame, as Binance writes it."""
    if isinstance(raw, str):
        if raw.startswith(_PREFIX):
            end = raw.find('"', _PREFIX_LEN)
            if end > 0:
                return raw[_PREFIX_LEN:end]
    elif raw.startswith(_PREFIX_BYTES):
        end = raw.find(b'"', _PREFIX_LEN)
        if end > 0:
            return raw[_PREFIX_LEN:end].decode("utf-8", "replace")
    return None


# -- entry points -------------------------------------------------------------


def decode_frame(
    raw: bytes | str, *, market: Market, symbols: SymbolMap, ts_recv_ns: int
) -> list[BinanceEvent]:
    """Decode one websocket frame (combined ``{"stream","data"}`` or raw).

    Inputs shown by the captures: depth diffs, ``bookTicker`` and ``trade`` in
    ``hftbacktest/examples/{usdm,spot}/btcusdt_20240808.gz``; ``aggTrade``,
    ``kline`` and spot ``bookTicker`` in ``cryptofeed/master/sample_data/BINANCE.ws.1.0``
    and ``BINANCE_FUTURES.ws.1.0``; ``24hrTicker`` in
    ``gocryptotrader/exchanges/binance/testdata/wsHandleData.json``.

    Raw (uncombined) partial-depth frames carry no symbol and cannot be decoded:
    subscribe through combined streams (``/stream``) as :mod:`.streams` does.

    Args:
        raw: The frame text.
        market: ``Market.SPOT`` or ``Market.LINEAR`` (which socket it came from).
        symbols: The venue's symbol map, to turn ``BTCUSDT`` into a canonical symbol.
        ts_recv_ns: When we received the frame.

    Returns:
        Zero or more events, in frame order.

    Raises:
        MalformedMessage: the frame is not what Binance documents.
        UnknownSymbol: the frame is for a symbol the map does not list.
    """
    return decode(raw, market, symbols, ts_recv_ns)


def decode(
    raw: bytes | str, market: Market, symbols: SymbolMap, ts_recv_ns: int
) -> list[BinanceEvent]:
    """:func:`decode_frame` with positional arguments (the adapter's ``decode``)."""
    # Fast path: Binance writes combined frames as {"stream":"<name>","data":{...}}, so
    # the name (hence the payload type) is known before decoding and one typed
    # decode does. Anything unexpected falls through to the general path below,
    # which reports the frame's real problem.
    fast_stream = None
    if type(raw) is str:
        if raw.startswith(_PREFIX):
            end = raw.find('"', _PREFIX_LEN)
            if end > 0:
                fast_stream = raw[_PREFIX_LEN:end]
    else:
        fast_stream = _stream_of(raw)
    if fast_stream is not None:
        fast = _fast.get(fast_stream) or _fast_entry(fast_stream)
        decoder = fast[1]
        if decoder is not None:
            try:
                frame = decoder.decode(raw)
            except (msgspec.DecodeError, ValueError):
                pass
            else:
                if frame.stream == fast_stream:
                    kind = fast[0]
                    if kind == _DIFF:
                        # The most common frame, a book diff, without detours.
                        d: _DepthUpdate = frame.data  # type: ignore[assignment]
                        try:
                            symbol = symbols.by_native(market, d.s).symbol
                        except UnknownInstrument:
                            raise UnknownSymbol(d.s, raw=raw, venue=VENUE) from None
                        return [_diff(d, raw, market, ts_recv_ns, symbol)]
                    try:
                        return _decode_payload(
                            kind, frame.data, fast_stream, raw, market, symbols, ts_recv_ns
                        )
                    except ValueError as exc:
                        raise MalformedMessage(
                            f"malformed binance frame: {exc}", raw=raw, venue=VENUE
                        ) from exc
    try:
        head = _envelope.decode(raw)
        stream = head.stream
        if stream is not None and head.data:
            return _decode_payload(
                _stream_kind(stream), head.data, stream, raw, market, symbols, ts_recv_ns
            )
        if head.id is not None or head.error is not None or head.code is not None:
            return [_control(head)]
        event = head.e
        if event == "serverShutdown" or (
            head.event is not None and head.event.e == "serverShutdown"
        ):
            # "Please establish a new connection as soon as possible" (WebSocket
            # Streams, "General WSS information"); bare, or wrapped as the WebSocket
            # APIs' connection events are.
            return [ControlMessage(kind="expired", detail="serverShutdown")]
        if event is not None:
            kind = _KIND_BY_EVENT.get(event, _OTHER)
            return _decode_payload(kind, raw, None, raw, market, symbols, ts_recv_ns)
        if head.lastUpdateId is not None:
            raise MalformedMessage(
                "binance partial depth without a stream name: use combined streams",
                raw=raw,
                venue=VENUE,
            )
        if head.u is not None and head.s is not None:
            return _decode_payload(_BBO, raw, None, raw, market, symbols, ts_recv_ns)
        raise MalformedMessage("binance frame of unknown shape", raw=raw, venue=VENUE)
    except (msgspec.DecodeError, ValueError) as exc:
        raise MalformedMessage(f"malformed binance frame: {exc}", raw=raw, venue=VENUE) from exc


def parse_depth_snapshot(
    body: bytes | str, *, market: Market, symbol: Symbol, ts_recv_ns: int = 0
) -> BookSnapshot:
    """Parse a REST depth body (``/api/v3/depth``, ``/fapi/v1/depth``) into a snapshot.

    Shown by ``cryptofeed/master/sample_data/BINANCE.http.0.0`` (spot: ``lastUpdateId``,
    ``bids``, ``asks``) and ``BINANCE_FUTURES.http.0.0`` (futures adds ``E`` and ``T``).

    Raises:
        MalformedMessage: the body is not a depth snapshot, or a level is impossible.
    """
    try:
        msg = _partial_depth.decode(body)
        bids = JsonLevels(msg.bids)
        asks = JsonLevels(msg.asks)
    except (msgspec.DecodeError, ValueError) as exc:
        raise MalformedMessage(
            f"malformed binance depth snapshot: {exc}", raw=body, venue=VENUE
        ) from exc
    return BookSnapshot(
        venue=VENUE,
        market=market,
        symbol=symbol,
        seq=msg.lastUpdateId,
        bids=bids,
        asks=asks,
        ts_event_ns=(msg.T or msg.E) * _MS,
        ts_recv_ns=ts_recv_ns,
    )


# -- internals ----------------------------------------------------------------


def _symbol(symbols: SymbolMap, market: Market, native: str, raw: bytes | str) -> Symbol:
    try:
        return symbols.by_native(market, native).symbol
    except UnknownInstrument:
        raise UnknownSymbol(native, raw=raw, venue=VENUE) from None


def _diff(
    d: _DepthUpdate, raw: bytes | str, market: Market, ts_recv_ns: int, symbol: Symbol
) -> BookDelta:
    """The delta of a ``depthUpdate`` diff."""
    if d.U > d.u:
        raise MalformedMessage(f"binance depthUpdate with U={d.U} > u={d.u}", raw=raw, venue=VENUE)
    return BookDelta(
        venue=VENUE,
        market=market,
        symbol=symbol,
        first_seq=d.U,
        seq=d.u,
        prev_seq=d.pu,
        bids=JsonLevels(d.b),
        asks=JsonLevels(d.a),
        ts_event_ns=(d.T or d.E) * _MS,
        ts_recv_ns=ts_recv_ns,
    )


def _decode_payload(
    kind: int,
    payload: bytes | str | msgspec.Raw | object,
    stream: str | None,
    raw: bytes | str,
    market: Market,
    symbols: SymbolMap,
    ts_recv_ns: int,
) -> list[BinanceEvent]:
    if kind == _DIFF:
        d = payload if type(payload) is _DepthUpdate else _depth_update.decode(payload)  # type: ignore[arg-type]
        symbol = _symbol(symbols, market, d.s, raw)
        if stream is not None and _stream_kind(stream) == _PARTIAL:
            return [
                BookSnapshot(
                    venue=VENUE,
                    market=market,
                    symbol=symbol,
                    seq=d.u,
                    bids=JsonLevels(d.b),
                    asks=JsonLevels(d.a),
                    ts_event_ns=(d.T or d.E) * _MS,
                    ts_recv_ns=ts_recv_ns,
                )
            ]
        return [_diff(d, raw, market, ts_recv_ns, symbol)]
    if kind == _PARTIAL:
        if market is Market.LINEAR:
            # Futures partial depth is shaped like a diff (with "s", "u").
            return _decode_payload(_DIFF, payload, stream, raw, market, symbols, ts_recv_ns)
        p = _partial_depth.decode(payload)  # type: ignore[arg-type]
        assert stream is not None
        symbol = _symbol(symbols, market, stream.partition("@")[0].upper(), raw)
        return [
            BookSnapshot(
                venue=VENUE,
                market=market,
                symbol=symbol,
                seq=p.lastUpdateId,
                bids=JsonLevels(p.bids),
                asks=JsonLevels(p.asks),
                ts_event_ns=(p.T or p.E) * _MS,
                ts_recv_ns=ts_recv_ns,
            )
        ]
    if kind == _BBO:
        t = payload if type(payload) is _BookTicker else _book_ticker.decode(payload)  # type: ignore[arg-type]
        bid = _optional_price(t.b)
        ask = _optional_price(t.a)
        return [
            Quote(
                venue=VENUE,
                market=market,
                symbol=_symbol(symbols, market, t.s, raw),
                bid=bid,
                bid_qty=decimal_qty(t.B) if bid is not None else None,
                ask=ask,
                ask_qty=decimal_qty(t.A) if ask is not None else None,
                seq=t.u,
                ts_event_ns=(t.T or t.E) * _MS,
                ts_recv_ns=ts_recv_ns,
            )
        ]
    if kind in (_TRADE, _AGG):
        tr: _Trade | _AggTrade
        if kind == _TRADE:
            tr = payload if type(payload) is _Trade else _trade.decode(payload)  # type: ignore[arg-type]
            trade_id = tr.t
        else:
            tr = payload if type(payload) is _AggTrade else _agg_trade.decode(payload)  # type: ignore[arg-type]
            trade_id = tr.a
        return [
            Trade(
                venue=VENUE,
                market=market,
                symbol=_symbol(symbols, market, tr.s, raw),
                trade_id=str(trade_id),
                price=decimal_price(tr.p),
                qty=decimal_qty(tr.q),
                # m: the buyer is the maker, so the taker sold.
                aggressor=Side.SELL if tr.m else Side.BUY,
                ts_event_ns=(tr.T or tr.E) * _MS,
                ts_recv_ns=ts_recv_ns,
            )
        ]
    if kind == _TICKER:
        tk = payload if type(payload) is _Ticker24h else _ticker.decode(payload)  # type: ignore[arg-type]
        return [
            Ticker(
                venue=VENUE,
                market=market,
                symbol=_symbol(symbols, market, tk.s, raw),
                last=_optional_price(tk.c),
                bid=_optional_price(tk.b),
                bid_qty=_optional_qty(tk.B),
                ask=_optional_price(tk.a),
                ask_qty=_optional_qty(tk.A),
                open_24h=_optional_price(tk.o),
                high_24h=_optional_price(tk.h),
                low_24h=_optional_price(tk.low),
                volume_24h=_optional_qty(tk.v),
                quote_volume_24h=_optional_qty(tk.q),
                ts_event_ns=tk.E * _MS,
                ts_recv_ns=ts_recv_ns,
            )
        ]
    return []


def _optional_price(text: str | None) -> Decimal | None:
    """A price that may be absent or zero (an empty side, no trade yet) -> ``None``."""
    if text is None:
        return None
    value = decimal_qty(text)
    return value if value else None


def _optional_qty(text: str | None) -> Decimal | None:
    return None if text is None else decimal_qty(text)


def _control(head: _Envelope) -> ControlMessage:
    request_id = None if head.id is None else str(head.id)
    if head.error is not None:
        return ControlMessage(
            kind="error",
            ok=False,
            detail=f"code {head.error.code}: {head.error.msg}",
            request_id=request_id,
        )
    if head.code is not None:
        return ControlMessage(
            kind="error", ok=False, detail=f"code {head.code}: {head.msg}", request_id=request_id
        )
    # {"result": null, "id": n} acknowledges SUBSCRIBE/UNSUBSCRIBE (the same reply
    # for both: correlate by request_id); a list answers LIST_SUBSCRIPTIONS.
    result = bytes(head.result).decode() if head.result else "null"
    return ControlMessage(kind="info", ok=True, detail=f"result={result}", request_id=request_id)
