"""OKX v5 public websocket frames to model events (sans-I/O).

:func:`decode_frame` turns one text frame into zero or more events:

* ``books`` (and ``books-l2-tbt``, ``books50-l2-tbt``) ``snapshot`` / ``update``
  -> :class:`BookSnapshot` / :class:`BookDelta` with ``seq`` = ``seqId``,
  ``prev_seq`` = ``prevSeqId`` and ``checksum``. Frames without ``seqId`` (OKX
  before 2022-06) give ``seq=0`` and ``prev_seq=None``: the checksum alone
  sequences them;
* ``books5`` -> :class:`BookSnapshot` (the full top 5, every message);
* ``bbo-tbt`` -> :class:`Quote`;
* ``trades`` -> :class:`Trade` (``side`` is the taker's side);
* ``tickers`` -> :class:`Ticker` (for swaps and futures ``volume_24h`` is
  ``volCcy24h``, in base currency, since ``vol24h`` counts contracts);
* ``event`` messages (subscribe, unsubscribe, error, login, notice) and the
  text ``pong`` -> :class:`ControlMessage`;
* other channels -> nothing.

Quantities are in base units: a linear swap counts contracts of ``ctVal`` base
each (``Instrument.contract_size``), so trade, quote and ticker sizes are
multiplied by it here (an inverse contract's stay in contracts:
``Instrument.base_per_unit``). Book levels stay in the venue's text and units (the book engine and
OKX's checksum read them as sent); the book the keeper builds from them reads in
base units (:class:`~connector.book.orderbook.OrderBook` ``unit``).

The market of an instrument comes from its id (``BTC-USDT`` spot,
``BTC-USDT-SWAP`` swap, ``BTC-USD-220527`` futures): one OKX socket carries all.

Fixtures: ``cryptofeed/master/sample_data/OKX-dev.ws.1.0`` (2022),
``nautilus_trader/crates/adapters/okx/test_data/ws_*.json`` (docs examples).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import msgspec

from connector.errors import MalformedMessage, UnknownInstrument, UnknownSymbol
from connector.model import (
    BookDelta,
    BookLevel,
    BookSnapshot,
    Instrument,
    Market,
    Quote,
    Side,
    Symbol,
    Ticker,
    Trade,
)
from connector.model.levels import JsonLevels, decode_json_levels, levels_from_raw
from connector.venues.common import ControlMessage, SymbolMap, optional_decimal, parse_decimal
from connector.venues.okx.symbols import market_of

__all__ = [
    "BOOK_CHANNELS",
    "Event",
    "decode_frame",
    "parse_books_snapshot",
]

VENUE = "okx"
_MS = 1_000_000

Event = BookSnapshot | BookDelta | Quote | Trade | Ticker | ControlMessage
"""What :func:`decode_frame` returns."""

BOOK_CHANNELS = frozenset({"books", "books-l2-tbt", "books50-l2-tbt"})
"""Incremental book channels (snapshot, then updates)."""

UPGRADE_NOTICE = "64008"
"""``event:notice`` code of a connection the venue will soon close for a service
upgrade ("The connection will soon be closed for a service upgrade. Please
reconnect.", pushed about 30 s before; OKX "WebSocket" / "Notification")."""

_EVENT_KINDS = {
    "subscribe": "subscribed",
    "unsubscribe": "unsubscribed",
    "error": "error",
    "login": "login",
    "notice": "info",
    "channel-conn-count": "info",
}


class _Arg(msgspec.Struct):
    channel: str
    instId: str = ""


class _Envelope(msgspec.Struct):
    arg: _Arg | None = None
    action: str = ""
    data: msgspec.Raw = msgspec.Raw()
    event: str = ""
    code: str = ""
    msg: str = ""
    id: str = ""


class _Book(msgspec.Struct):
    asks: msgspec.Raw  # level arrays stay JSON text: the book engine reads them (JsonLevels)
    bids: msgspec.Raw
    ts: str
    checksum: int | None = None
    seqId: int | None = None
    prevSeqId: int | None = None


class _RestBody(msgspec.Struct):
    code: str
    msg: str = ""
    data: list[_Book] = []


class _Trade(msgspec.Struct):
    instId: str
    tradeId: str
    px: str
    sz: str
    side: str
    ts: str


class _Ticker(msgspec.Struct):
    instId: str
    ts: str
    last: str = ""
    askPx: str = ""
    askSz: str = ""
    bidPx: str = ""
    bidSz: str = ""
    open24h: str = ""
    high24h: str = ""
    low24h: str = ""
    vol24h: str = ""
    volCcy24h: str = ""


_envelope = msgspec.json.Decoder(_Envelope)
_books = msgspec.json.Decoder(list[_Book])
_trades = msgspec.json.Decoder(list[_Trade])
_tickers = msgspec.json.Decoder(list[_Ticker])
_rest_books = msgspec.json.Decoder(_RestBody)


def decode_frame(
    raw: str | bytes,
    *,
    symbols: SymbolMap,
    ts_recv_ns: int,
    market: Market | None = None,
) -> list[Event]:
    """Decode one frame of the OKX public socket.

    Args:
        raw: The frame text.
        symbols: OKX's symbol map (native ids to canonical symbols).
        ts_recv_ns: When the frame was received.
        market: Only accepted for symmetry with the other venues; OKX instrument
            ids name their market, which is used.

    Returns:
        The events in the frame, in order; empty for channels this library ignores.

    Raises:
        MalformedMessage: The frame is not JSON (nor ``pong``), or a known channel
            has missing or impossible fields.
        UnknownSymbol: The frame names an instrument ``symbols`` lacks (a
            :class:`MalformedMessage` too).
    """
    if raw == "pong" or raw == b"pong":
        return [ControlMessage(kind="pong", detail="pong")]
    try:
        env = _envelope.decode(raw)
        if env.event:
            return [_control(env)]
        arg = env.arg
        if arg is None:
            return []
        channel = arg.channel
        if channel in BOOK_CHANNELS:
            return _book_events(env.data, arg.instId, env.action, symbols, ts_recv_ns)
        if channel == "books5":
            return _book_events(env.data, arg.instId, "snapshot", symbols, ts_recv_ns)
        if channel == "bbo-tbt":
            return _quotes(env.data, arg.instId, symbols, ts_recv_ns)
        if channel == "trades":
            return _trade_events(env.data, symbols, ts_recv_ns)
        if channel == "tickers":
            return _ticker_events(env.data, symbols, ts_recv_ns)
        return []
    except UnknownSymbol as exc:
        # The lookup deep inside never sees the text; the error carries it from here.
        raise UnknownSymbol(exc.native_id, raw=raw, venue=VENUE) from None
    except msgspec.DecodeError as exc:
        raise MalformedMessage(f"okx frame: {exc}", raw=raw, venue=VENUE) from exc
    except (ValueError, InvalidOperation, IndexError) as exc:
        raise MalformedMessage(f"okx frame: {exc!r}", raw=raw, venue=VENUE) from exc


def parse_books_snapshot(
    body: str | bytes, *, inst_id: str, symbols: SymbolMap, ts_recv_ns: int
) -> BookSnapshot:
    """Parse a REST ``/api/v5/market/books`` answer into a snapshot.

    The answer carries ``seqId`` (``data[0].seqId``, an integer): the snapshot has
    ``seq`` = ``seqId``, no ``prev_seq`` and no checksum, and
    :class:`~connector.venues.okx.sync.OkxSync` aligns the buffered stream to it.
    An answer without ``seqId`` (older servers) gives ``seq=0``. Fixture: the
    docs example of ``GET /api/v5/market/books``.

    Raises:
        MalformedMessage: Not a books answer, or a non-zero ``code``.
        UnknownSymbol: ``inst_id`` is not in ``symbols``.
    """
    try:
        parsed = _rest_books.decode(body)
        if parsed.code != "0" or len(parsed.data) != 1:
            raise ValueError(f"code {parsed.code} {parsed.msg}")
        book = parsed.data[0]
        market, sym = _lookup(symbols, inst_id)
        return BookSnapshot(
            venue=VENUE,
            market=market,
            symbol=sym,
            seq=book.seqId if book.seqId is not None else 0,
            bids=JsonLevels(book.bids),
            asks=JsonLevels(book.asks),
            ts_event_ns=int(book.ts) * _MS,
            ts_recv_ns=ts_recv_ns,
        )
    except UnknownSymbol as exc:
        # The lookup deep inside never sees the text; the error carries it from here.
        raise UnknownSymbol(exc.native_id, raw=body, venue=VENUE) from None
    except msgspec.DecodeError as exc:
        raise MalformedMessage(f"okx books: {exc}", raw=body, venue=VENUE) from exc
    except (ValueError, InvalidOperation, IndexError) as exc:
        raise MalformedMessage(f"okx books: {exc!r}", raw=body, venue=VENUE) from exc


def _control(env: _Envelope) -> ControlMessage:
    if env.event == "notice" and env.code == UPGRADE_NOTICE:
        return ControlMessage(kind="expired", detail=f"{env.code} {env.msg}".strip())
    kind = _EVENT_KINDS.get(env.event, "info")
    ok = env.event != "error" and env.code in ("", "0")
    if env.msg or env.code:
        detail = f"{env.code} {env.msg}".strip()
    elif env.arg is not None:
        detail = f"{env.arg.channel} {env.arg.instId}".strip()
    else:
        detail = env.event
    return ControlMessage(kind=kind, ok=ok, detail=detail, request_id=env.id or None)


def _lookup(symbols: SymbolMap, inst_id: str) -> tuple[Market, Symbol]:
    instrument = _instrument(symbols, inst_id)
    return instrument.market, instrument.symbol


def _instrument(symbols: SymbolMap, inst_id: str) -> Instrument:
    try:
        return symbols.by_native(market_of(inst_id), inst_id)
    except UnknownInstrument:
        raise UnknownSymbol(inst_id, venue=VENUE) from None


def _base(qty: Decimal, unit: Decimal) -> Decimal:
    """A venue quantity in base units (``unit``: the contract size, 1 on spot)."""
    return qty if unit == 1 else qty * unit


def _book_events(
    data: msgspec.Raw, inst_id: str, action: str, symbols: SymbolMap, ts_recv_ns: int
) -> list[Event]:
    market, sym = _lookup(symbols, inst_id)
    out: list[Event] = []
    for book in _books.decode(data):
        bids = JsonLevels(book.bids)
        asks = JsonLevels(book.asks)
        seq = book.seqId if book.seqId is not None else 0
        ts_event_ns = int(book.ts) * _MS
        if action == "snapshot":
            out.append(
                BookSnapshot(
                    venue=VENUE,
                    market=market,
                    symbol=sym,
                    seq=seq,
                    prev_seq=book.prevSeqId,
                    checksum=book.checksum,
                    bids=bids,
                    asks=asks,
                    ts_event_ns=ts_event_ns,
                    ts_recv_ns=ts_recv_ns,
                )
            )
        elif action == "update":
            out.append(
                BookDelta(
                    venue=VENUE,
                    market=market,
                    symbol=sym,
                    first_seq=seq,
                    seq=seq,
                    prev_seq=book.prevSeqId,
                    checksum=book.checksum,
                    bids=bids,
                    asks=asks,
                    ts_event_ns=ts_event_ns,
                    ts_recv_ns=ts_recv_ns,
                )
            )
        else:
            raise ValueError(f"book action {action!r} is neither snapshot nor update")
    return out


def _quotes(data: msgspec.Raw, inst_id: str, symbols: SymbolMap, ts_recv_ns: int) -> list[Event]:
    instrument = _instrument(symbols, inst_id)
    unit = instrument.base_per_unit
    out: list[Event] = []
    for book in _books.decode(data):
        bid = _top(levels_from_raw(decode_json_levels(book.bids)[:1]))
        ask = _top(levels_from_raw(decode_json_levels(book.asks)[:1]))
        out.append(
            Quote(
                venue=VENUE,
                market=instrument.market,
                symbol=instrument.symbol,
                bid=bid.price if bid else None,
                bid_qty=_base(bid.qty, unit) if bid else None,
                ask=ask.price if ask else None,
                ask_qty=_base(ask.qty, unit) if ask else None,
                seq=book.seqId,
                ts_event_ns=int(book.ts) * _MS,
                ts_recv_ns=ts_recv_ns,
            )
        )
    return out


def _top(levels: tuple[BookLevel, ...]) -> BookLevel | None:
    if not levels or not levels[0].qty:
        return None
    return levels[0]


def _trade_events(data: msgspec.Raw, symbols: SymbolMap, ts_recv_ns: int) -> list[Event]:
    out: list[Event] = []
    for t in _trades.decode(data):
        instrument = _instrument(symbols, t.instId)
        out.append(
            Trade(
                venue=VENUE,
                market=instrument.market,
                symbol=instrument.symbol,
                trade_id=t.tradeId,
                price=parse_decimal(t.px, positive=True),
                qty=_base(parse_decimal(t.sz, positive=True), instrument.base_per_unit),
                aggressor=Side.BUY if t.side == "buy" else Side.SELL if t.side == "sell" else None,
                ts_event_ns=int(t.ts) * _MS,
                ts_recv_ns=ts_recv_ns,
            )
        )
    return out


def _ticker_events(data: msgspec.Raw, symbols: SymbolMap, ts_recv_ns: int) -> list[Event]:
    out: list[Event] = []
    for t in _tickers.decode(data):
        instrument = _instrument(symbols, t.instId)
        spot = instrument.market is Market.SPOT
        bid_qty = optional_decimal(t.bidSz)
        ask_qty = optional_decimal(t.askSz)
        unit = instrument.base_per_unit
        out.append(
            Ticker(
                venue=VENUE,
                market=instrument.market,
                symbol=instrument.symbol,
                last=optional_decimal(t.last),
                bid=optional_decimal(t.bidPx),
                bid_qty=None if bid_qty is None else _base(bid_qty, unit),
                ask=optional_decimal(t.askPx),
                ask_qty=None if ask_qty is None else _base(ask_qty, unit),
                open_24h=optional_decimal(t.open24h),
                high_24h=optional_decimal(t.high24h),
                low_24h=optional_decimal(t.low24h),
                volume_24h=optional_decimal(t.vol24h if spot else t.volCcy24h),
                quote_volume_24h=optional_decimal(t.volCcy24h) if spot else None,
                ts_event_ns=int(t.ts) * _MS,
                ts_recv_ns=ts_recv_ns,
            )
        )
    return out
