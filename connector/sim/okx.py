"""The simulator's OKX v5 public market-data front-end (REST and websocket).

Wire shapes follow the real venue as recorded in
``cryptofeed/master/sample_data/OKX-dev.ws.1.0`` and ``OKX.0`` (instrument
listings, keys in alphabetical order, every field a string), the OKX v5 docs
and later captures (``seqId``/``prevSeqId``, ``connId``, trade ``count``):

* REST (envelope ``{"code":"0","msg":"","data":[...]}``):
  ``/api/v5/public/time``, ``/api/v5/public/instruments``,
  ``/api/v5/market/books``, ``/api/v5/market/ticker``,
  ``/api/v5/market/tickers``, ``/api/v5/market/trades``. Errors use the real
  codes (51001 unknown instrument with HTTP 200, 50014 missing parameter and
  51000 bad parameter with HTTP 400, 50011 rate limit with HTTP 429).
* Websocket ``/ws/v5/public``: ``subscribe``/``unsubscribe`` with one
  ``{"event":...,"arg":...,"connId":...}`` reply per argument, ``error`` events
  (60012 invalid request, 60018 unknown channel or instrument, 60019 bad op),
  text ``ping`` -> ``pong``, and the connection closed after ``idle_timeout``
  (30 s) without any message from the client. Channels ``books`` (a 400-level
  snapshot, then updates every 100 ms), ``books5`` (100 ms), ``bbo-tbt``
  (10 ms), ``trades`` and ``tickers`` (100 ms).

``seqId`` is the engine's update id; an update's ``prevSeqId`` is the
previous message's ``seqId`` (``-1`` on a snapshot) and, after ``heartbeat``
seconds without a change, an empty update repeats the last ``seqId`` as both.
``checksum`` is ``0`` (as OKX sends since 2026-06) unless the run asks for real
checksums (``FrontendOptions.okx_checksum``): the CRC32 of the top 25 bids and
asks interleaved as ``bid:size:ask:size...``, as a signed 32-bit integer. The
``corrupt_checksum`` fault sends a wrong non-zero checksum on some messages.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import attrs
import msgspec
import structlog
import trio
from sortedcontainers import SortedDict

from connector.model import Side
from connector.sim.faults import FaultInjector, FaultKind, RestVerdict
from connector.sim.hub import BookBatch, SimBook, SimVenue
from connector.sim.instruments import SimInstrument
from connector.sim.ratelimit import OkxLimiter
from connector.sim.server import (
    FrontendOptions,
    Request,
    Response,
    Router,
    VenueServer,
    WsConnection,
    WsSettings,
    json_response,
    settings_from,
)

__all__ = [
    "CHANNEL_DEPTH",
    "OkxFrontend",
    "OkxSettings",
    "OkxStatistics",
    "book_checksum",
    "books_message",
    "create_frontend",
    "error_event",
    "format_number",
    "instrument_item",
    "ok_body",
    "subscribe_event",
    "ticker_item",
]

log = structlog.get_logger(__name__)

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()

JsonDict = dict[str, object]

#: Levels per side of each book channel.
CHANNEL_DEPTH: dict[str, int] = {"books": 400, "books5": 5, "bbo-tbt": 1}
_CHANNEL_INTERVAL: dict[str, float] = {"books": 0.100, "books5": 0.100, "bbo-tbt": 0.010}
_TICKER_INTERVAL = 0.100
_INST_TYPES = {"spot": "SPOT", "swap": "SWAP"}
_MARKETS = {v: k for k, v in _INST_TYPES.items()}
_UNKNOWN_INSTRUMENT = "Instrument ID, Instrument ID code, or Spread ID doesn't exist."


def format_number(value: Decimal) -> str:
    """Plain decimal string without trailing zeros (``"30243.5"``, ``"0.08"``), as OKX sends."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def book_checksum(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> int:
    """OKX book checksum: CRC32 of the top 25 levels, interleaved, as a signed 32-bit int.

    Args:
        bids: Bid levels best first, each ``[price, size, ...]`` strings as sent.
        asks: Ask levels best first.

    Returns:
        The signed checksum (``okx_checksum_vectors.json`` holds test vectors).
    """
    parts: list[str] = []
    for i in range(25):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def ok_body(data: list[JsonDict]) -> JsonDict:
    """The v5 REST success envelope."""
    return {"code": "0", "msg": "", "data": data}


def _err_body(code: str, msg: str) -> JsonDict:
    return {"code": code, "msg": msg, "data": []}


def instrument_item(inst: SimInstrument) -> JsonDict:
    """One ``public/instruments`` entry: the keys of ``OKX.0``, alphabetical, all strings."""
    swap = inst.market == "swap"
    return {
        "alias": "",
        "baseCcy": "" if swap else inst.base,
        "category": "1",
        "ctMult": "1" if swap else "",
        "ctType": "linear" if swap else "",
        "ctVal": format_number(inst.contract_size) if swap else "",
        "ctValCcy": inst.base if swap else "",
        "expTime": "",
        "instId": inst.native_id,
        "instType": _INST_TYPES[inst.market],
        "lever": "125" if swap else "10",
        "listTime": "1611916828000" if swap else "1548133413000",
        "lotSz": format_number(inst.lot_step),
        "maxIcebergSz": format_number(inst.max_qty),
        "maxLmtSz": format_number(inst.max_qty),
        "maxMktSz": "1600" if swap else "1000000",
        "maxStopSz": "1600" if swap else "1000000",
        "maxTriggerSz": format_number(inst.max_qty),
        "maxTwapSz": format_number(inst.max_qty),
        "minSz": format_number(inst.min_qty),
        "optType": "",
        "quoteCcy": "" if swap else inst.quote,
        "settleCcy": inst.quote if swap else "",
        "state": "live",
        "stk": "",
        "tickSz": format_number(inst.tick_size),
        "uly": f"{inst.base}-{inst.quote}" if swap else "",
    }


def ticker_item(book: SimBook, now_ms: int, *, rest: bool) -> JsonDict:
    """Ticker of one instrument (REST key order when ``rest``, else the channel's)."""
    inst = book.instrument
    stats = book.ticker()
    best_bid = book.engine.best_bid()
    best_ask = book.engine.best_ask()
    f = format_number
    vol = stats.volume
    vol_ccy = stats.quote_volume if inst.market == "spot" else vol * inst.contract_size
    out: JsonDict = {
        "instType": _INST_TYPES[inst.market],
        "instId": inst.native_id,
        "last": f(stats.last),
        "lastSz": f(stats.last_qty),
        "askPx": f(best_ask.price) if best_ask else "",
        "askSz": f(best_ask.qty) if best_ask else "",
        "bidPx": f(best_bid.price) if best_bid else "",
        "bidSz": f(best_bid.qty) if best_bid else "",
        "open24h": f(stats.open),
        "high24h": f(stats.high),
        "low24h": f(stats.low),
    }
    if rest:
        out["volCcy24h"] = f(vol_ccy)
        out["vol24h"] = f(vol)
        out["ts"] = str(now_ms)
        out["sodUtc0"] = f(stats.open)
        out["sodUtc8"] = f(stats.open)
    else:
        out["sodUtc0"] = f(stats.open)
        out["sodUtc8"] = f(stats.open)
        out["volCcy24h"] = f(vol_ccy)
        out["vol24h"] = f(vol)
        out["ts"] = str(now_ms)
    return out


def subscribe_event(event: str, arg: JsonDict, conn_id: str, req_id: str | None) -> JsonDict:
    """A ``subscribe``/``unsubscribe`` acknowledgement for one argument."""
    out: JsonDict = {}
    if req_id is not None:
        out["id"] = req_id
    out["event"] = event
    out["arg"] = arg
    out["connId"] = conn_id
    return out


def error_event(code: str, msg: str, conn_id: str, req_id: str | None) -> JsonDict:
    """An ``error`` event (``code`` a string, as OKX sends it)."""
    out: JsonDict = {}
    if req_id is not None:
        out["id"] = req_id
    out.update({"event": "error", "code": code, "msg": msg, "connId": conn_id})
    return out


def books_message(
    inst_id: str,
    action: str,
    *,
    asks: Sequence[Sequence[str]],
    bids: Sequence[Sequence[str]],
    ts_ms: int,
    checksum: int,
    prev_seq_id: int,
    seq_id: int,
) -> JsonDict:
    """A ``books`` push (``action`` ``snapshot`` or ``update``)."""
    return {
        "arg": {"channel": "books", "instId": inst_id},
        "action": action,
        "data": [
            {
                "asks": [list(level) for level in asks],
                "bids": [list(level) for level in bids],
                "ts": str(ts_ms),
                "checksum": checksum,
                "prevSeqId": prev_seq_id,
                "seqId": seq_id,
            }
        ],
    }


# ------------------------------------------------------------------- settings


@attrs.frozen(kw_only=True)
class OkxSettings:
    """Options of the OKX front-end (``FrontendOptions.settings`` names).

    Attributes:
        idle_timeout: Close a connection after this many seconds without a
            message from the client (OKX: 30).
        heartbeat: Seconds without a book change after which ``books`` sends an
            empty update with ``seqId == prevSeqId``.
        immediate: Publish one book message per engine change (benchmarks).
        rest_limits: Requests per ``rest_window`` per path and IP.
        rest_default_limit: Limit of paths not in ``rest_limits``.
        rest_window: Rate-limit window (OKX: 2 s).
        send_buffer: Outgoing frames buffered per connection.
    """

    idle_timeout: float | None = 30.0
    heartbeat: float = 5.0
    immediate: bool = False
    rest_limits: Mapping[str, int] = attrs.field(
        factory=lambda: {
            "/api/v5/market/books": 40,
            "/api/v5/market/trades": 100,
            "/api/v5/public/time": 10,
        }
    )
    rest_default_limit: int = 20
    rest_window: float = 2.0
    send_buffer: int = 10_000


@attrs.frozen(kw_only=True)
class OkxStatistics:
    """Counters of the OKX front-end."""

    connections: int
    subscriptions: int
    book_messages: int
    trade_messages: int
    ticker_messages: int
    corrupted_checksums: int


# ------------------------------------------------------------------- streams

_Level = tuple[Decimal, str, str, str]


class _Mirror:
    """A sorted copy of one engine book, fed from hub batches, with its wire levels.

    Each level is kept as its wire tuple ``(price, "price", "size",
    "numOrders")``, built once when the level changes, so a channel's view is
    read without formatting anything. ``numOrders`` is the engine's count when
    the batch arrives (at least 1). Bounded by the engine's book.
    """

    def __init__(self, book: SimBook) -> None:
        self.book = book
        self.engine = book.engine
        self.bids: SortedDict[Decimal, _Level] = SortedDict()
        self.asks: SortedDict[Decimal, _Level] = SortedDict()
        bids, asks = book.engine.depth(None)
        for level in bids:
            self.apply(Side.BUY, level.price, level.qty)
        for level in asks:
            self.apply(Side.SELL, level.price, level.qty)
        self.seq = book.update_id

    def apply(self, side: Side, price: Decimal, qty: Decimal) -> None:
        if side is Side.BUY:
            target = self.bids
        else:
            target = self.asks
        if qty:
            count = len(self.engine.order_ids_at(side, price)) or 1
            target[price] = (price, format_number(price), format_number(qty), str(count))
        else:
            target.pop(price, None)

    def top(self, depth: int) -> tuple[list[_Level], list[_Level]]:
        """Best ``depth`` bid and ask levels, best first."""
        bids = self.bids
        asks = self.asks
        return (
            [bids[p] for p in itertools.islice(reversed(bids), depth)],
            [asks[p] for p in itertools.islice(asks, depth)],
        )


def _wire(levels: Sequence[_Level]) -> list[list[str]]:
    return [[p, q, "0", n] for _, p, q, n in levels]


def _diff(old: list[_Level], new: list[_Level], *, reverse: bool) -> list[list[str]]:
    """Update entries turning ``old`` into ``new`` (removed levels: ``["p","0","0","0"]``)."""
    if old == new:
        return []
    before = {lv[0]: lv for lv in old}
    # Levels are shared tuples, rebuilt only when they change: most compare by identity.
    out = [lv for lv in new if before.pop(lv[0], None) != lv]
    out.extend((p, lv[1], "0", "0") for p, lv in before.items())
    out.sort(key=_price_key, reverse=reverse)
    return _wire(out)


def _price_key(level: _Level) -> Decimal:
    return level[0]


class _BookChannel:
    """One book channel (``books``, ``books5`` or ``bbo-tbt``) of one instrument."""

    def __init__(self, front: OkxFrontend, channel: str, mirror: _Mirror) -> None:
        self.front = front
        self.channel = channel
        self.mirror = mirror
        self.inst_id = mirror.book.native_id
        self.depth = CHANNEL_DEPTH[channel]
        self.name = f"{channel}:{self.inst_id}"
        self.subs: dict[int, WsConnection] = {}
        self.bids: list[_Level] = []
        self.asks: list[_Level] = []
        self.seq = mirror.seq
        self.dirty = True
        self.last_sent = trio.current_time()
        self.refresh(publish=False)

    def touches(self, side: Side, price: Decimal) -> bool:
        levels = self.bids if side is Side.BUY else self.asks
        if len(levels) < self.depth:
            return True
        worst = levels[-1][0]
        return price >= worst if side is Side.BUY else price <= worst

    def checksum(self, bids: list[_Level], asks: list[_Level]) -> int:
        if not self.front.real_checksum:
            return 0
        return book_checksum([lv[1:3] for lv in bids], [lv[1:3] for lv in asks])

    def refresh(self, *, publish: bool = True) -> None:
        """Recompute the view; push a message to subscribers when it changed."""
        if not self.dirty:
            return
        self.dirty = False
        bids, asks = self.mirror.top(self.depth)
        if bids == self.bids and asks == self.asks:
            return
        old_bids, old_asks = self.bids, self.asks
        prev = self.seq
        self.bids, self.asks = bids, asks
        self.seq = self.mirror.seq
        if not publish or not self.subs:
            return
        self.last_sent = trio.current_time()
        now = self.front.venue.now_ms()
        if self.channel == "books":
            self._send_books(
                "update",
                _diff(old_asks, asks, reverse=False),
                _diff(old_bids, bids, reverse=True),
                now,
                prev,
            )
        else:
            self._send_plain(now)

    def heartbeat(self) -> None:
        """``books``: an empty update repeating the last ``seqId`` (no change for a while)."""
        self.last_sent = trio.current_time()
        self._send_books("update", [], [], self.front.venue.now_ms(), self.seq)

    def _send_books(
        self, action: str, asks: list[list[str]], bids: list[list[str]], now: int, prev: int
    ) -> None:
        good = self.checksum(self.bids, self.asks)

        def build(checksum: int) -> str:
            msg = books_message(
                self.inst_id,
                action,
                asks=asks,
                bids=bids,
                ts_ms=now,
                checksum=checksum,
                prev_seq_id=prev,
                seq_id=self.seq,
            )
            return _enc.encode(msg).decode()

        frame = build(good)
        for conn in list(self.subs.values()):
            self._deliver(conn, frame, lambda: build(_wrong(good)))

    def _deliver(self, conn: WsConnection, frame: str, corrupted: Callable[[], str]) -> None:
        self.front._book_messages += 1
        if (
            self.front.corrupt_rules
            and self.channel == "books"
            and conn.faults.should(FaultKind.CORRUPT_CHECKSUM, "books")
        ):
            self.front._corrupted += 1
            conn.send(corrupted(), stream=self.name)
        else:
            conn.send(frame, stream=self.name)

    def snapshot_frame(self) -> str:
        """The ``books`` snapshot (or the current ``books5``/``bbo-tbt`` push) for a newcomer."""
        now = self.front.venue.now_ms()
        if self.channel == "books":
            msg = books_message(
                self.inst_id,
                "snapshot",
                asks=_wire(self.asks),
                bids=_wire(self.bids),
                ts_ms=now,
                checksum=self.checksum(self.bids, self.asks),
                prev_seq_id=-1,
                seq_id=self.seq,
            )
            return _enc.encode(msg).decode()
        return self._plain_frame(now)

    def _plain_frame(self, now: int) -> str:
        data: JsonDict = {"asks": _wire(self.asks), "bids": _wire(self.bids)}
        if self.channel == "books5":
            data["instId"] = self.inst_id
        data["ts"] = str(now)
        data["seqId"] = self.seq
        msg = {"arg": {"channel": self.channel, "instId": self.inst_id}, "data": [data]}
        return _enc.encode(msg).decode()

    def _send_plain(self, now: int) -> None:
        frame = self._plain_frame(now)
        for conn in list(self.subs.values()):
            self.front._book_messages += 1
            conn.send(frame, stream=self.name)


def _wrong(checksum: int) -> int:
    """A wrong, non-zero checksum (signed 32-bit)."""
    value = (checksum ^ 0x5BD1E995) & 0xFFFFFFFF
    value = value - (1 << 32) if value >= 1 << 31 else value
    return value if value not in (0, checksum) else 1 if checksum != 1 else 2


class _TickerChannel:
    """``tickers`` of one instrument: a push at most every 100 ms when it changed."""

    def __init__(self, front: OkxFrontend, book: SimBook) -> None:
        self.front = front
        self.book = book
        self.name = f"tickers:{book.native_id}"
        self.subs: dict[int, WsConnection] = {}
        self.dirty = True
        self.last: JsonDict = {}

    def frame(self) -> str:
        data = ticker_item(self.book, self.front.venue.now_ms(), rest=False)
        self.last = data
        msg = {"arg": {"channel": "tickers", "instId": self.book.native_id}, "data": [data]}
        return _enc.encode(msg).decode()

    def tick(self) -> None:
        if not self.dirty or not self.subs:
            return
        self.dirty = False
        previous = {k: v for k, v in self.last.items() if k != "ts"}
        frame = self.frame()
        if previous == {k: v for k, v in self.last.items() if k != "ts"}:
            return
        for conn in list(self.subs.values()):
            self.front._ticker_messages += 1
            conn.send(frame, stream=self.name)


class _TradeChannel:
    """``trades`` of one instrument: one push per taker order and price."""

    def __init__(self, front: OkxFrontend, book: SimBook) -> None:
        self.front = front
        self.book = book
        self.name = f"trades:{book.native_id}"
        self.subs: dict[int, WsConnection] = {}

    def publish(self, groups: list[tuple[int, int]]) -> None:
        """Push ``groups``: ``(trade count, taker index)`` runs of the latest trades."""
        if not self.subs:
            return
        total = sum(n for n, _ in groups)
        trades = self.book.recent_trades(total)
        inst_id = self.book.native_id
        index = 0
        for n, _ in groups:
            chunk = trades[index : index + n]
            index += n
            if not chunk:
                continue
            by_price: dict[Decimal, list[Decimal]] = {}
            last_ids: dict[Decimal, int] = {}
            for t in chunk:
                by_price.setdefault(t.price, []).append(t.qty)
                last_ids[t.price] = t.trade_id
            first = chunk[0]
            for price, qtys in by_price.items():
                data = {
                    "instId": inst_id,
                    "tradeId": str(last_ids[price]),
                    "px": format_number(price),
                    "sz": format_number(sum(qtys, Decimal(0))),
                    "side": first.aggressor.value,
                    "ts": str(first.ts_ms),
                    "count": str(len(qtys)),
                }
                msg = {"arg": {"channel": "trades", "instId": inst_id}, "data": [data]}
                frame = _enc.encode(msg).decode()
                for conn in list(self.subs.values()):
                    self.front._trade_messages += 1
                    conn.send(frame, stream=self.name)


_Channel = _BookChannel | _TickerChannel | _TradeChannel


# ------------------------------------------------------------------ front-end


class OkxFrontend:
    """OKX v5 public REST and websocket endpoints over one :class:`SimVenue`.

    One port serves both markets (``spot`` and ``swap``), as OKX's single
    host does; the URL map has keys for both. Per-connection output is bounded
    by the server's send buffer (a slow consumer is disconnected).

    Args:
        venue: The hub of the ``okx`` venue.
        injector: The run's fault injector.
        options: Host, port (``ports["spot"]``), ``okx_checksum`` and
            :class:`OkxSettings` names in ``options.settings``.
    """

    name = "okx"

    def __init__(
        self, venue: SimVenue, injector: FaultInjector, options: FrontendOptions | None = None
    ) -> None:
        self.venue = venue
        self.injector = injector
        self.options = options if options is not None else FrontendOptions()
        self.settings = settings_from(OkxSettings, self.options.settings, "okx")
        self.real_checksum = self.options.okx_checksum
        # Whether any frame may need a corrupted checksum (saves a check per frame).
        self.corrupt_rules = bool(
            injector.rules(self.name, frozenset({FaultKind.CORRUPT_CHECKSUM}))
        )
        self.limiter = OkxLimiter(
            self.settings.rest_limits,
            default=self.settings.rest_default_limit,
            window=self.settings.rest_window,
        )
        self._mirrors: dict[tuple[str, str], _Mirror] = {}
        self._by_inst: dict[str, SimBook] = {b.native_id: b for b in venue.books.values()}
        self._books: dict[tuple[str, str], _BookChannel] = {}
        self._tickers: dict[str, _TickerChannel] = {}
        self._trades: dict[str, _TradeChannel] = {}
        self._conn_counter = itertools.count(1)
        self._connections = 0
        self._book_messages = 0
        self._trade_messages = 0
        self._ticker_messages = 0
        self._corrupted = 0
        self.urls: dict[str, str] = {}
        router = Router()
        router.get("/api/v5/public/time", self._rest_time)
        router.get("/api/v5/public/instruments", self._rest_instruments)
        router.get("/api/v5/market/books", self._rest_books)
        router.get("/api/v5/market/ticker", self._rest_ticker)
        router.get("/api/v5/market/tickers", self._rest_tickers)
        router.get("/api/v5/market/trades", self._rest_trades)
        router.not_found = self._not_found
        router.websocket("/ws/v5/public", self._ws)
        self.server = VenueServer(
            self.name,
            router,
            injector=injector,
            market=None,
            ws_settings=WsSettings(
                send_buffer=self.settings.send_buffer, idle_timeout=self.settings.idle_timeout
            ),
            rate_limited=self.rate_limited,
            host=self.options.host,
            port=self.options.port("spot") or self.options.port("swap"),
        )

    def rate_limited(self, req: Request, verdict: RestVerdict) -> Response:
        """The venue's reply to a REST_429 fault: HTTP 429, code ``50011``."""
        return json_response(_err_body("50011", "Too Many Requests"), status=429)

    def statistics(self) -> OkxStatistics:
        """A frozen snapshot of the front-end's counters."""
        subs = sum(len(c.subs) for c in self._books.values())
        subs += sum(len(c.subs) for c in self._tickers.values())
        subs += sum(len(c.subs) for c in self._trades.values())
        return OkxStatistics(
            connections=self._connections,
            subscriptions=subs,
            book_messages=self._book_messages,
            trade_messages=self._trade_messages,
            ticker_messages=self._ticker_messages,
            corrupted_checksums=self._corrupted,
        )

    # ------------------------------------------------------------ publishing

    async def run(
        self, *, task_status: trio.TaskStatus[dict[str, str]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; started with ``{"spot.rest": ..., "swap.ws": ...}``."""
        self._mirrors = {key: _Mirror(book) for key, book in self.venue.books.items()}
        unlisten = self.venue.listen(self._on_batch)
        try:
            async with trio.open_nursery() as nursery:
                for interval in sorted(set(_CHANNEL_INTERVAL.values())):
                    nursery.start_soon(self._book_timer, interval)
                nursery.start_soon(self._ticker_timer)
                base: str = await nursery.start(self.server.run)
                for market in self.venue.markets():
                    self.urls[f"{market}.rest"] = base
                    self.urls[f"{market}.ws"] = base.replace("http://", "ws://", 1)
                task_status.started(dict(self.urls))
        finally:
            unlisten()

    def _on_batch(self, batch: BookBatch) -> None:
        mirror = self._mirrors.get((batch.market, batch.native_id))
        if mirror is None:
            return
        channels = [c for c in self._books.values() if c.mirror is mirror]
        immediate = self.settings.immediate
        groups: list[tuple[int, int]] = []
        for i, result in enumerate(batch.results):
            if result.trades:
                groups.append((len(result.trades), i))
            if not result.changes:
                continue
            mirror.seq = result.update_id
            for side, price, qty in result.changes:
                mirror.apply(side, price, qty)
                for channel in channels:
                    if not channel.dirty and channel.touches(side, price):
                        channel.dirty = True
            if immediate:
                for channel in channels:
                    channel.refresh()
        ticker = self._tickers.get(batch.native_id)
        if ticker is not None:
            ticker.dirty = True
        if groups:
            trades = self._trades.get(batch.native_id)
            if trades is not None:
                trades.publish(groups)

    async def _book_timer(self, interval: float) -> None:
        heartbeat = self.settings.heartbeat
        while True:
            await trio.sleep(interval)
            now = trio.current_time()
            for channel in list(self._books.values()):
                if _CHANNEL_INTERVAL[channel.channel] != interval:
                    continue
                if not self.settings.immediate:
                    channel.refresh()
                if (
                    channel.channel == "books"
                    and channel.subs
                    and now - channel.last_sent >= heartbeat
                ):
                    channel.heartbeat()

    async def _ticker_timer(self) -> None:
        while True:
            await trio.sleep(_TICKER_INTERVAL)
            for channel in list(self._tickers.values()):
                channel.tick()

    # ------------------------------------------------------------------ REST

    def _limit(self, req: Request) -> Response | None:
        verdict = self.limiter.check(req.client, req.path)
        return None if verdict.allowed else verdict.response()

    async def _not_found(self, req: Request) -> Response:
        body = {
            "code": 404,
            "data": {},
            "detailMsg": "",
            "error_code": "404",
            "error_message": "Not Found",
            "msg": "Not Found",
        }
        return json_response(body, status=404)

    async def _rest_time(self, req: Request) -> Response:
        refused = self._limit(req)
        if refused is not None:
            return refused
        return json_response(ok_body([{"ts": str(self.venue.now_ms())}]))

    async def _rest_instruments(self, req: Request) -> Response:
        refused = self._limit(req)
        if refused is not None:
            return refused
        inst_type = req.query.get("instType", "")
        if not inst_type:
            return json_response(_err_body("50014", "Parameter instType can not be empty."), 400)
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            return json_response(_err_body("51000", "Parameter instType error"), 400)
        if inst_type == "OPTION" and not (req.query.get("uly") or req.query.get("instFamily")):
            return json_response(
                _err_body("50015", "Either parameter uly or instFamily is required"), 400
            )
        market = _MARKETS.get(inst_type)
        inst_id = req.query.get("instId")
        items = [
            instrument_item(inst)
            for inst in (self.venue.instruments(market) if market else [])
            if inst_id is None or inst.native_id == inst_id
        ]
        return json_response(ok_body(items))

    def _book_param(self, req: Request) -> SimBook | Response:
        inst_id = req.query.get("instId", "")
        if not inst_id:
            return json_response(_err_body("50014", "Parameter instId can not be empty."), 400)
        book = self._by_inst.get(inst_id)
        if book is None:
            return json_response(_err_body("51001", _UNKNOWN_INSTRUMENT))
        return book

    async def _rest_books(self, req: Request) -> Response:
        refused = self._limit(req)
        if refused is not None:
            return refused
        found = self._book_param(req)
        if isinstance(found, Response):
            return found
        try:
            size = int(req.query.get("sz", "1") or "1")
        except ValueError:
            size = -1
        if not 1 <= size <= 400:
            return json_response(_err_body("51000", "Parameter sz error"))
        stale = self.injector.stale_updates(self.name, found.market, req.path)
        _, bid_levels, ask_levels = found.depth_at(stale, size)
        f = format_number
        data: JsonDict = {
            "asks": [[f(p), f(q), "0", "1"] for p, q in ask_levels],
            "bids": [[f(p), f(q), "0", "1"] for p, q in bid_levels],
            "ts": str(self.venue.now_ms()),
        }
        return json_response(ok_body([data]))

    async def _rest_ticker(self, req: Request) -> Response:
        refused = self._limit(req)
        if refused is not None:
            return refused
        found = self._book_param(req)
        if isinstance(found, Response):
            return found
        return json_response(ok_body([ticker_item(found, self.venue.now_ms(), rest=True)]))

    async def _rest_tickers(self, req: Request) -> Response:
        refused = self._limit(req)
        if refused is not None:
            return refused
        inst_type = req.query.get("instType", "")
        if not inst_type:
            return json_response(_err_body("50014", "Parameter instType can not be empty."), 400)
        if inst_type not in ("SPOT", "SWAP", "FUTURES", "OPTION"):
            return json_response(_err_body("51000", "Parameter instType error"), 400)
        market = _MARKETS.get(inst_type)
        now = self.venue.now_ms()
        items = [
            ticker_item(b, now, rest=True) for b in self.venue.books.values() if b.market == market
        ]
        return json_response(ok_body(items))

    async def _rest_trades(self, req: Request) -> Response:
        refused = self._limit(req)
        if refused is not None:
            return refused
        found = self._book_param(req)
        if isinstance(found, Response):
            return found
        try:
            limit = int(req.query.get("limit", "100") or "100")
        except ValueError:
            limit = 100
        limit = max(1, min(limit, 500))
        items: list[JsonDict] = [
            {
                "instId": found.native_id,
                "side": t.aggressor.value,
                "sz": format_number(t.qty),
                "px": format_number(t.price),
                "tradeId": str(t.trade_id),
                "ts": str(t.ts_ms),
            }
            for t in reversed(found.recent_trades(limit))
        ]
        return json_response(ok_body(items))

    # ------------------------------------------------------------- websocket

    async def _ws(self, conn: WsConnection) -> None:
        conn_id = format(
            zlib.crc32(f"{self.venue.seed}/{next(self._conn_counter)}".encode()), "08x"
        )
        mine: dict[tuple[str, str], _Channel] = {}
        self._connections += 1

        def drop_all() -> None:
            for channel in mine.values():
                channel.subs.pop(conn.conn_id, None)
            mine.clear()

        conn.on_close.append(drop_all)
        try:
            while True:
                raw = await conn.receive()
                if raw is None:
                    return
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                if text == "ping":
                    conn.send("pong")
                    continue
                self._on_message(conn, conn_id, mine, text)
        finally:
            self._connections -= 1
            drop_all()

    def _send(self, conn: WsConnection, value: JsonDict) -> None:
        conn.send(_enc.encode(value).decode())

    def _on_message(
        self, conn: WsConnection, conn_id: str, mine: dict[tuple[str, str], _Channel], text: str
    ) -> None:
        try:
            message = _dec.decode(text)
        except msgspec.DecodeError:
            message = None
        if not isinstance(message, dict) or "op" not in message:
            self._send(conn, error_event("60012", f"Invalid request: {text}", conn_id, None))
            return
        req_raw = message.get("id")
        req_id = str(req_raw) if req_raw is not None else None
        op = message.get("op")
        if op not in ("subscribe", "unsubscribe"):
            self._send(conn, error_event("60019", f"Invalid op: {op}", conn_id, req_id))
            return
        args = message.get("args")
        if not isinstance(args, list) or not args:
            self._send(conn, error_event("60012", f"Invalid request: {text}", conn_id, req_id))
            return
        snapshots: list[tuple[str, str]] = []
        for arg in args:
            if not isinstance(arg, dict) or not isinstance(arg.get("channel"), str):
                self._send(conn, error_event("60012", f"Invalid request: {text}", conn_id, req_id))
                continue
            channel_name = str(arg["channel"])
            inst_id = arg.get("instId")
            if not isinstance(inst_id, str) or not inst_id:
                self._send(
                    conn,
                    error_event(
                        "60013", f"Invalid args: {channel_name} instId is empty", conn_id, req_id
                    ),
                )
                continue
            echo: JsonDict = {"channel": channel_name, "instId": inst_id}
            key = (channel_name, inst_id)
            if op == "unsubscribe":
                existing = mine.pop(key, None)
                if existing is not None:
                    existing.subs.pop(conn.conn_id, None)
                self._send(conn, subscribe_event("unsubscribe", echo, conn_id, req_id))
                continue
            channel = self._resolve(channel_name, inst_id)
            if channel is None:
                msg = (
                    f"Wrong URL or channel:{channel_name},instId:{inst_id} doesn't exist. "
                    "Please use the correct URL, channel and parameters referring to API document."
                )
                self._send(conn, error_event("60018", msg, conn_id, req_id))
                continue
            self._send(conn, subscribe_event("subscribe", echo, conn_id, req_id))
            if key in mine:
                continue
            if isinstance(channel, _BookChannel):
                # Push what is pending to the others first, so the snapshot is current.
                channel.refresh()
                snapshots.append((channel.name, channel.snapshot_frame()))
            elif isinstance(channel, _TickerChannel):
                snapshots.append((channel.name, channel.frame()))
            mine[key] = channel
            channel.subs[conn.conn_id] = conn
        for stream, frame in snapshots:
            conn.send(frame, stream=stream)

    def _resolve(self, channel: str, inst_id: str) -> _Channel | None:
        book = self._by_inst.get(inst_id)
        if book is None:
            return None
        if channel in CHANNEL_DEPTH:
            key = (channel, inst_id)
            found = self._books.get(key)
            if found is None:
                found = _BookChannel(self, channel, self._mirrors[(book.market, inst_id)])
                self._books[key] = found
            return found
        if channel == "tickers":
            ticker = self._tickers.get(inst_id)
            if ticker is None:
                ticker = _TickerChannel(self, book)
                self._tickers[inst_id] = ticker
            return ticker
        if channel == "trades":
            trades = self._trades.get(inst_id)
            if trades is None:
                trades = _TradeChannel(self, book)
                self._trades[inst_id] = trades
            return trades
        return None


def create_frontend(
    venue: SimVenue, injector: FaultInjector, options: FrontendOptions
) -> OkxFrontend:
    """Front-end factory used by :func:`connector.sim.run`."""
    return OkxFrontend(venue, injector, options)
