"""Bybit v5 public websocket frames to model events (sans-I/O).

:func:`decode_frame` turns one text frame into zero or more events:

* ``orderbook.{50,200,1000}.SYM`` -> :class:`BookSnapshot` / :class:`BookDelta`
  (``seq`` = ``u``; ``ts_event_ns`` = ``ts``);
* ``orderbook.1.SYM`` -> :class:`Quote` (a delta is merged onto the last quote);
* ``publicTrade.SYM`` -> :class:`Trade` (``S`` is the taker's side, ``i`` the id);
* ``tickers.SYM`` -> :class:`Ticker`; linear ``delta`` messages carry only the
  fields that changed, so they are merged onto the last full ticker kept in
  :class:`StreamState`;
* ``op`` replies (subscribe, unsubscribe, ping, auth) -> :class:`ControlMessage`;
* anything else (``kline``, ``allLiquidation``) -> nothing.

Fixtures: ``cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst`` (linear and spot
sockets), ``cryptofeed/pull-1085/sample_data/BYBIT.ws.*`` (``orderbook.1``),
``nautilus_trader/crates/adapters/bybit/test_data/ws_*.json``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import attrs
import msgspec
from msgspec import UNSET, UnsetType

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
from connector.model.levels import JsonLevels, decode_json_levels, levels_from_raw
from connector.venues.common import ControlMessage, SymbolMap, optional_decimal, parse_decimal

__all__ = ["Event", "StreamState", "decode_frame", "parse_orderbook_snapshot"]

VENUE = "bybit"
_MS = 1_000_000

Event = BookSnapshot | BookDelta | Quote | Trade | Ticker | ControlMessage
"""What :func:`decode_frame` returns."""


class _Envelope(msgspec.Struct):
    topic: str = ""
    type: str = ""
    ts: int = 0
    data: msgspec.Raw = msgspec.Raw()
    op: str = ""
    success: bool | None = None
    ret_msg: str = ""
    req_id: str = ""


class _Book(msgspec.Struct):
    s: str
    b: msgspec.Raw  # level arrays stay JSON text: the book engine reads them (JsonLevels)
    a: msgspec.Raw
    u: int
    seq: int = 0


class _BookFrame(msgspec.Struct):
    """An ``orderbook.*`` frame decoded in one pass (see :func:`decode_frame`)."""

    topic: str
    type: str
    ts: int
    data: _Book


class _RestBook(msgspec.Struct):
    s: str
    b: msgspec.Raw
    a: msgspec.Raw
    ts: int
    u: int


class _RestBody(msgspec.Struct):
    retCode: int
    retMsg: str = ""
    result: _RestBook | None = None


class _Trade(msgspec.Struct):
    T: int
    s: str
    S: str
    v: str
    p: str
    i: str


class _Ticker(msgspec.Struct):
    symbol: str
    lastPrice: str | UnsetType = UNSET
    bid1Price: str | UnsetType = UNSET
    bid1Size: str | UnsetType = UNSET
    ask1Price: str | UnsetType = UNSET
    ask1Size: str | UnsetType = UNSET
    prevPrice24h: str | UnsetType = UNSET
    highPrice24h: str | UnsetType = UNSET
    lowPrice24h: str | UnsetType = UNSET
    volume24h: str | UnsetType = UNSET
    turnover24h: str | UnsetType = UNSET


_TICKER_FIELDS = tuple(f for f in _Ticker.__struct_fields__ if f != "symbol")

_envelope = msgspec.json.Decoder(_Envelope)
_book = msgspec.json.Decoder(_Book)
_book_frame = msgspec.json.Decoder(_BookFrame)
# Bybit writes the topic first: an order-book frame is known before decoding.
_BOOK_PREFIX = '{"topic":"orderbook.'
_BOOK_PREFIX_BYTES = _BOOK_PREFIX.encode()
_trades = msgspec.json.Decoder(list[_Trade])
_ticker = msgspec.json.Decoder(_Ticker)
_rest_book = msgspec.json.Decoder(_RestBody)

_QuoteSides = tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]


@attrs.define
class StreamState:
    """What the parser remembers between frames of one connection (pure data).

    Bounded by the subscriptions: one ticker and one quote per subscribed symbol.
    Use a fresh state after a reconnect (the venue resends full snapshots).
    """

    tickers: dict[str, _Ticker] = attrs.field(factory=dict)
    quotes: dict[str, _QuoteSides] = attrs.field(factory=dict)
    ticker_deltas_without_snapshot: int = 0


def decode_frame(
    raw: str | bytes,
    *,
    market: Market,
    symbols: SymbolMap,
    ts_recv_ns: int,
    state: StreamState | None = None,
) -> list[Event]:
    """Decode one frame of a Bybit public socket.

    Args:
        raw: The frame text.
        market: The socket's market (``spot`` or ``linear``): topic names are the
            same on both sockets.
        symbols: Bybit's symbol map (native ids to canonical symbols).
        ts_recv_ns: When the frame was received.
        state: The connection's :class:`StreamState`; without one, ticker and
            ``orderbook.1`` deltas (which need the previous message) give nothing.

    Returns:
        The events in the frame, in order; empty for topics this library ignores.

    Raises:
        MalformedMessage: The frame is not JSON, or a known topic has missing or
            impossible fields (bad numbers, negative sizes).
        UnknownSymbol: The frame names an instrument ``symbols`` lacks (a
            :class:`MalformedMessage` too).
    """
    try:
        if (
            raw.startswith(_BOOK_PREFIX)
            if isinstance(raw, str)
            else raw.startswith(_BOOK_PREFIX_BYTES)
        ):
            # The most common frame in one typed decode; anything unexpected goes the
            # general way below, which names the frame's real problem.
            try:
                frame = _book_frame.decode(raw)
            except msgspec.DecodeError:
                pass
            else:
                return _book_events(frame, market, symbols, ts_recv_ns, state)
        env = _envelope.decode(raw)
        name = env.topic
        if not name:
            return _control(env)
        head = name.partition(".")[0]
        if head == "orderbook":
            book_frame = _BookFrame(name, env.type, env.ts, _book.decode(env.data))
            return _book_events(book_frame, market, symbols, ts_recv_ns, state)
        if head == "publicTrade":
            return _trade_events(env, market, symbols, ts_recv_ns)
        if head == "tickers":
            return _ticker_events(env, market, symbols, ts_recv_ns, state)
        return []
    except UnknownSymbol as exc:
        # The lookup deep inside never sees the text; the error carries it from here.
        raise UnknownSymbol(exc.native_id, raw=raw, venue=VENUE) from None
    except (msgspec.DecodeError, ValueError, InvalidOperation) as exc:
        raise MalformedMessage(f"bybit frame: {exc}", raw=raw, venue=VENUE) from exc


def parse_orderbook_snapshot(
    body: str | bytes, *, market: Market, symbols: SymbolMap, ts_recv_ns: int
) -> BookSnapshot:
    """Parse a REST ``/v5/market/orderbook`` answer into a snapshot (``seq`` = ``u``).

    Raises:
        MalformedMessage: Not an order-book answer, or a non-zero ``retCode``.
        UnknownSymbol: The answer is for an instrument ``symbols`` lacks.
    """
    try:
        parsed = _rest_book.decode(body)
        book = parsed.result
        if parsed.retCode != 0 or book is None:
            raise ValueError(f"retCode {parsed.retCode} {parsed.retMsg}")
        return BookSnapshot(
            venue=VENUE,
            market=market,
            symbol=_symbol(symbols, market, book.s),
            seq=book.u,
            bids=JsonLevels(book.b),
            asks=JsonLevels(book.a),
            ts_event_ns=book.ts * _MS,
            ts_recv_ns=ts_recv_ns,
        )
    except UnknownSymbol as exc:
        # The lookup deep inside never sees the text; the error carries it from here.
        raise UnknownSymbol(exc.native_id, raw=body, venue=VENUE) from None
    except (msgspec.DecodeError, ValueError, InvalidOperation) as exc:
        raise MalformedMessage(f"bybit orderbook: {exc}", raw=body, venue=VENUE) from exc


def _symbol(symbols: SymbolMap, market: Market, native_id: str) -> Symbol:
    try:
        return symbols.by_native(market, native_id).symbol
    except UnknownInstrument:
        raise UnknownSymbol(native_id, venue=VENUE) from None


def _control(env: _Envelope) -> list[Event]:
    op = env.op
    if not op:
        return []
    ok = env.success is not False
    request_id = env.req_id or None
    if op in ("ping", "pong"):
        kind = "pong"
    elif op == "subscribe":
        kind = "subscribed"
    elif op == "unsubscribe":
        kind = "unsubscribed"
    elif op == "auth":
        kind = "login"
    else:
        kind = "info"
    detail = env.ret_msg if env.ret_msg else op
    return [ControlMessage(kind=kind, ok=ok, detail=detail, request_id=request_id)]


def _book_events(
    frame: _BookFrame,
    market: Market,
    symbols: SymbolMap,
    ts_recv_ns: int,
    state: StreamState | None,
) -> list[Event]:
    book = frame.data
    sym = _symbol(symbols, market, book.s)
    if frame.topic.startswith("orderbook.1."):
        return _quote(frame, book, market, sym, ts_recv_ns, state)
    return [_book_event(frame, book, market, sym, ts_recv_ns)]


def _book_event(
    frame: _BookFrame, book: _Book, market: Market, sym: Symbol, ts_recv_ns: int
) -> BookSnapshot | BookDelta:
    bids = JsonLevels(book.b)
    asks = JsonLevels(book.a)
    if frame.type == "snapshot":
        return BookSnapshot(
            venue=VENUE,
            market=market,
            symbol=sym,
            seq=book.u,
            bids=bids,
            asks=asks,
            ts_event_ns=frame.ts * _MS,
            ts_recv_ns=ts_recv_ns,
        )
    if frame.type == "delta":
        return BookDelta(
            venue=VENUE,
            market=market,
            symbol=sym,
            first_seq=book.u,
            seq=book.u,
            bids=bids,
            asks=asks,
            ts_event_ns=frame.ts * _MS,
            ts_recv_ns=ts_recv_ns,
        )
    raise ValueError(f"orderbook message type {frame.type!r} is neither snapshot nor delta")


def _quote(
    frame: _BookFrame,
    book: _Book,
    market: Market,
    sym: Symbol,
    ts_recv_ns: int,
    state: StreamState | None,
) -> list[Event]:
    bid = _top(book.b)
    ask = _top(book.a)
    if frame.type == "snapshot":
        sides: _QuoteSides = (*bid, *ask)
    elif frame.type == "delta":
        prev = state.quotes.get(book.s) if state is not None else None
        if prev is None:
            return []
        sides = (
            *(bid if book.b else prev[:2]),
            *(ask if book.a else prev[2:]),
        )
    else:
        raise ValueError(f"orderbook message type {frame.type!r} is neither snapshot nor delta")
    if state is not None:
        state.quotes[book.s] = sides
    return [
        Quote(
            venue=VENUE,
            market=market,
            symbol=sym,
            bid=sides[0],
            bid_qty=sides[1],
            ask=sides[2],
            ask_qty=sides[3],
            seq=book.u,
            ts_event_ns=frame.ts * _MS,
            ts_recv_ns=ts_recv_ns,
        )
    ]


def _top(raw: msgspec.Raw) -> tuple[Decimal | None, Decimal | None]:
    levels = decode_json_levels(raw)
    if not levels:
        return None, None
    (level,) = levels_from_raw(levels[:1])
    if not level.qty:
        return None, None
    return level.price, level.qty


def _trade_events(
    env: _Envelope, market: Market, symbols: SymbolMap, ts_recv_ns: int
) -> list[Event]:
    out: list[Event] = []
    for t in _trades.decode(env.data):
        out.append(
            Trade(
                venue=VENUE,
                market=market,
                symbol=_symbol(symbols, market, t.s),
                trade_id=t.i,
                price=parse_decimal(t.p, positive=True),
                qty=parse_decimal(t.v, positive=True),
                aggressor=Side.BUY if t.S == "Buy" else Side.SELL if t.S == "Sell" else None,
                ts_event_ns=t.T * _MS,
                ts_recv_ns=ts_recv_ns,
            )
        )
    return out


def _ticker_events(
    env: _Envelope,
    market: Market,
    symbols: SymbolMap,
    ts_recv_ns: int,
    state: StreamState | None,
) -> list[Event]:
    data = _ticker.decode(env.data)
    sym = _symbol(symbols, market, data.symbol)
    if env.type == "delta":
        prev = state.tickers.get(data.symbol) if state is not None else None
        if prev is None:
            if state is not None:
                state.ticker_deltas_without_snapshot += 1
            return []
        changes = {f: v for f in _TICKER_FIELDS if (v := getattr(data, f)) is not UNSET}
        data = msgspec.structs.replace(prev, **changes)
    elif env.type != "snapshot":
        raise ValueError(f"tickers message type {env.type!r} is neither snapshot nor delta")
    ticker = Ticker(
        venue=VENUE,
        market=market,
        symbol=sym,
        last=optional_decimal(data.lastPrice),
        bid=optional_decimal(data.bid1Price),
        bid_qty=optional_decimal(data.bid1Size),
        ask=optional_decimal(data.ask1Price),
        ask_qty=optional_decimal(data.ask1Size),
        open_24h=optional_decimal(data.prevPrice24h),
        high_24h=optional_decimal(data.highPrice24h),
        low_24h=optional_decimal(data.lowPrice24h),
        volume_24h=optional_decimal(data.volume24h),
        quote_volume_24h=optional_decimal(data.turnover24h),
        ts_event_ns=env.ts * _MS,
        ts_recv_ns=ts_recv_ns,
    )
    if state is not None:
        state.tickers[data.symbol] = data
    return [ticker]
