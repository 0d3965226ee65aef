"""The simulator's Bybit v5 public market-data front-end (REST and websocket).

Wire shapes follow the real venue as recorded in
``cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst`` (linear and spot sockets,
2026), ``cryptofeed/pull-1085`` (``orderbook.1``) and the v5 docs:

* REST (envelope ``{"retCode":0,"retMsg":"OK","result":{...},"retExtInfo":{},
  "time":ms}``): ``/v5/market/time``, ``/v5/market/instruments-info``,
  ``/v5/market/orderbook``, ``/v5/market/tickers``, ``/v5/market/recent-trade``.
  Errors use the real retCodes (10001 parameter errors, 10006 rate limit with
  the ``X-Bapi-Limit*`` headers).
* Websocket ``/v5/public/spot`` and ``/v5/public/linear``: ``subscribe``,
  ``unsubscribe`` and ``ping`` ops with the replies each socket sends (the spot
  and linear replies differ, as in the capture); topics ``orderbook.{1,50,200,
  1000}.SYM``, ``publicTrade.SYM`` and ``tickers.SYM``.

Book topics are shared by every connection of a category: each topic keeps
the view it last published (the top ``depth`` levels) and its update id ``u``,
which grows by exactly one per published message. A subscriber gets a
``snapshot`` of that view and then every ``delta``; ``/v5/market/orderbook``
answers from the same view (after publishing any pending change), so its
``u``/``seq`` chain with the websocket stream. ``seq`` is the engine's update
id (a cross sequence). Messages go out at the documented push intervals
(linear: 1 level 10 ms, 50 levels 20 ms, 200 levels 100 ms, 1000 levels
200 ms; spot the same except 200 levels at 200 ms), or, with
``BybitSettings.immediate``, one message per engine change.

Faults: the generic per-frame faults apply (stream = topic name); the
``restart_snapshot`` rule makes one connection receive a ``u=1`` snapshot
mid-stream, after which that connection's ``u`` continues from 1.
"""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from connector.sim.ratelimit import BybitLimiter
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
    "BOOK_DEPTHS",
    "BybitFrontend",
    "BybitSettings",
    "BybitStatistics",
    "book_message",
    "create_frontend",
    "envelope",
    "error_body",
    "format_fixed",
    "format_trim",
    "instrument_item",
    "orderbook_result",
    "pong_reply",
    "push_interval",
    "recent_trade_item",
    "subscribe_reply",
    "ticker_item",
    "ticker_message",
    "trade_message",
]

log = structlog.get_logger(__name__)

_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder()
_ZERO = Decimal(0)

#: Book depths each category serves on the websocket.
BOOK_DEPTHS: dict[str, tuple[int, ...]] = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 1000)}

#: Documented push intervals (seconds) per category and depth.
_INTERVALS: dict[str, dict[int, float]] = {
    "linear": {1: 0.010, 50: 0.020, 200: 0.100, 1000: 0.200},
    "spot": {1: 0.010, 50: 0.020, 200: 0.200, 1000: 0.200},
}
#: Ticker push intervals: linear 100 ms, spot 50 ms.
_TICKER_INTERVAL: dict[str, float] = {"linear": 0.100, "spot": 0.050}
#: Best price and size fields of a linear ``tickers`` delta, always sent together.
_TICKER_PAIRS = (("bid1Price", "bid1Size"), ("ask1Price", "ask1Size"))
#: ``orderbook.1`` re-sends its snapshot after this long without a change.
_LEVEL1_RESEND = 3.0
#: REST depth limits per category (``limit`` parameter): (default, maximum).
_REST_LIMITS: dict[str, tuple[int, int]] = {"spot": (1, 200), "linear": (25, 500)}
_HISTORY = 64

JsonDict = dict[str, object]


# ------------------------------------------------------------------ formatting


def format_trim(value: Decimal) -> str:
    """Plain decimal string without trailing zeros (``"65140"``, ``"0.014"``), as spot sends."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def format_fixed(value: Decimal, step: Decimal) -> str:
    """Plain decimal string with ``step``'s decimals (``"65114.20"``), as linear sends."""
    return format(value.quantize(step), "f")


def push_interval(category: str, depth: int) -> float:
    """Documented push interval in seconds of ``orderbook.{depth}`` on ``category``."""
    return _INTERVALS[category][depth]


# -------------------------------------------------------------- REST builders


def envelope(result: object, now_ms: int) -> JsonDict:
    """The v5 REST success envelope around ``result``."""
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms}


def error_body(code: int, message: str, now_ms: int) -> JsonDict:
    """The v5 REST error body (HTTP 200, as Bybit sends it)."""
    return {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": now_ms}


def _price_fmt(inst: SimInstrument) -> Callable[[Decimal], str]:
    if inst.market == "linear":
        tick = inst.tick_size
        return lambda d: format_fixed(d, tick)
    return format_trim


def _qty_fmt(inst: SimInstrument) -> Callable[[Decimal], str]:
    if inst.market == "linear":
        step = inst.lot_step
        return lambda d: format_fixed(d, step)
    return format_trim


def instrument_item(inst: SimInstrument, symbol_id: int) -> JsonDict:
    """One ``instruments-info`` list entry, keys and order as the 2026 capture."""
    if inst.market == "linear":
        tick = inst.tick_size
        step = inst.lot_step
        max_price = (Decimal(2_000_000) - tick).quantize(tick)
        scale = max(0, -int(tick.as_tuple().exponent))
        return {
            "symbol": inst.native_id,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "launchTime": "1584230400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(scale),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {
                "minPrice": format_fixed(tick, tick),
                "maxPrice": format(max_price, "f"),
                "tickSize": format(tick, "f"),
            },
            "lotSizeFilter": {
                "maxOrderQty": format_fixed(inst.max_qty, step),
                "minOrderQty": format_fixed(inst.min_qty, step),
                "qtyStep": format(step, "f"),
                "postOnlyMaxOrderQty": format_fixed(inst.max_qty, step),
                "maxMktOrderQty": format_fixed(inst.max_qty / 10, step),
                "minNotionalValue": format_trim(inst.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": inst.quote,
            "copyTrading": "both",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
            "preListingInfo": None,
            "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
            "displayName": "",
            "symbolType": "",
            "forbidUplWithdrawal": False,
            "symbolId": symbol_id,
        }
    return {
        "symbolId": symbol_id,
        "symbol": inst.native_id,
        "baseCoin": inst.base,
        "quoteCoin": inst.quote,
        "innovation": "0",
        "status": "Trading",
        "marginTrading": "utaOnly",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": format(inst.lot_step, "f"),
            "quotePrecision": "0.0000001",
            "minOrderQty": format(inst.min_qty, "f"),
            "maxOrderQty": format_trim(inst.max_qty),
            "minOrderAmt": format_trim(inst.min_notional),
            "maxOrderAmt": "8000000",
            "maxLimitOrderQty": format_trim(inst.max_qty),
            "maxMarketOrderQty": format_trim(inst.max_qty / 2),
            "postOnlyMaxLimitOrderSize": format_trim(inst.max_qty * 5),
        },
        "priceFilter": {"tickSize": format(inst.tick_size, "f")},
        "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
        "symbolType": "",
        "xstockMultiplier": "1",
    }


def orderbook_result(
    symbol: str,
    bids: Sequence[tuple[str, str]],
    asks: Sequence[tuple[str, str]],
    *,
    ts_ms: int,
    u: int,
    seq: int,
    cts_ms: int,
) -> JsonDict:
    """The ``result`` of ``/v5/market/orderbook``: ``{s, b, a, ts, u, seq, cts}``."""
    return {
        "s": symbol,
        "b": [list(level) for level in bids],
        "a": [list(level) for level in asks],
        "ts": ts_ms,
        "u": u,
        "seq": seq,
        "cts": cts_ms,
    }


def recent_trade_item(
    symbol: str, *, exec_id: str, price: str, size: str, side: str, time_ms: int
) -> JsonDict:
    """One ``/v5/market/recent-trade`` list entry."""
    return {
        "execId": exec_id,
        "symbol": symbol,
        "price": price,
        "size": size,
        "side": side,
        "time": str(time_ms),
        "isBlockTrade": False,
    }


def _side_name(side: Side) -> str:
    return "Buy" if side is Side.BUY else "Sell"


def _pct(last: Decimal, open_: Decimal, places: int) -> str:
    if open_ == 0:
        return "0"
    return format_trim(((last - open_) / open_).quantize(Decimal(1).scaleb(-places)))


def _next_funding_ms(now_ms: int) -> int:
    period = 8 * 3600 * 1000
    return (now_ms // period + 1) * period


def ticker_item(book: SimBook, now_ms: int, *, rest: bool) -> JsonDict:
    """Ticker fields of one instrument (websocket ``tickers`` data or REST list entry)."""
    inst = book.instrument
    pf = _price_fmt(inst)
    qf = _qty_fmt(inst)
    stats = book.ticker()
    best_bid = book.engine.best_bid()
    best_ask = book.engine.best_ask()
    bid_px = pf(best_bid.price) if best_bid else ""
    bid_sz = qf(best_bid.qty) if best_bid else ""
    ask_px = pf(best_ask.price) if best_ask else ""
    ask_sz = qf(best_ask.qty) if best_ask else ""
    if best_bid and best_ask:
        mid = ((best_bid.price + best_ask.price) / 2).quantize(inst.tick_size)
    else:
        mid = stats.last
    if inst.market == "spot":
        volume = format_trim(stats.volume)
        turnover = format_trim(stats.quote_volume)
        if rest:
            return {
                "symbol": inst.native_id,
                "bid1Price": bid_px,
                "bid1Size": bid_sz,
                "ask1Price": ask_px,
                "ask1Size": ask_sz,
                "lastPrice": pf(stats.last),
                "prevPrice24h": pf(stats.open),
                "price24hPcnt": _pct(stats.last, stats.open, 4),
                "highPrice24h": pf(stats.high),
                "lowPrice24h": pf(stats.low),
                "turnover24h": turnover,
                "volume24h": volume,
                "usdIndexPrice": pf(mid),
            }
        return {
            "symbol": inst.native_id,
            "lastPrice": pf(stats.last),
            "highPrice24h": pf(stats.high),
            "lowPrice24h": pf(stats.low),
            "prevPrice24h": pf(stats.open),
            "volume24h": volume,
            "turnover24h": turnover,
            "price24hPcnt": _pct(stats.last, stats.open, 4),
            "usdIndexPrice": pf(mid),
        }
    four = Decimal("0.0001")
    volume = format_fixed(stats.volume, four)
    turnover = format_fixed(stats.quote_volume, four)
    oi = stats.volume + Decimal(1000) * inst.lot_step
    oi_text = qf(oi)
    oi_value = format_fixed(oi * mid, Decimal("0.01"))
    funding_next = str(_next_funding_ms(now_ms))
    if rest:
        return {
            "symbol": inst.native_id,
            "lastPrice": pf(stats.last),
            "indexPrice": pf(mid),
            "markPrice": pf(mid),
            "prevPrice24h": pf(stats.open),
            "price24hPcnt": _pct(stats.last, stats.open, 6),
            "highPrice24h": pf(stats.high),
            "lowPrice24h": pf(stats.low),
            "prevPrice1h": pf(stats.open),
            "openInterest": oi_text,
            "openInterestValue": oi_value,
            "turnover24h": turnover,
            "volume24h": volume,
            "fundingRate": "0.0001",
            "nextFundingTime": funding_next,
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "ask1Size": ask_sz,
            "bid1Price": bid_px,
            "ask1Price": ask_px,
            "bid1Size": bid_sz,
            "basis": "",
        }
    return {
        "symbol": inst.native_id,
        "tickDirection": "ZeroPlusTick",
        "price24hPcnt": _pct(stats.last, stats.open, 6),
        "lastPrice": pf(stats.last),
        "prevPrice24h": pf(stats.open),
        "highPrice24h": pf(stats.high),
        "lowPrice24h": pf(stats.low),
        "prevPrice1h": pf(stats.open),
        "markPrice": pf(mid),
        "indexPrice": pf(mid),
        "openInterest": oi_text,
        "openInterestValue": oi_value,
        "turnover24h": turnover,
        "volume24h": volume,
        "fundingIntervalHour": "8",
        "fundingCap": "0.005",
        "singleOpenInterest": qf(oi / 2),
        "singleOpenInterestValue": format_fixed(oi * mid / 2, Decimal("0.01")),
        "nextFundingTime": funding_next,
        "fundingRate": "0.0001",
        "bid1Price": bid_px,
        "bid1Size": bid_sz,
        "ask1Price": ask_px,
        "ask1Size": ask_sz,
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
    }


# --------------------------------------------------------- websocket builders


def subscribe_reply(
    category: str, op: str, *, success: bool, ret_msg: str, conn_id: str, req_id: str | None
) -> JsonDict:
    """Reply to ``subscribe``/``unsubscribe``/``ping`` in the socket's own shape.

    Linear always carries ``req_id`` (``""`` when the request had none) and an
    empty ``ret_msg`` on success; spot carries ``req_id`` only when given and
    echoes the op in ``ret_msg``.
    """
    if category == "spot":
        out: JsonDict = {"success": success, "ret_msg": ret_msg, "conn_id": conn_id}
        if req_id is not None:
            out["req_id"] = req_id
        out["op"] = op
        return out
    return {
        "success": success,
        "ret_msg": ret_msg,
        "conn_id": conn_id,
        "req_id": req_id if req_id is not None else "",
        "op": op,
    }


def pong_reply(category: str, conn_id: str, req_id: str | None) -> JsonDict:
    """Reply to ``{"op":"ping"}`` (``ret_msg`` ``"pong"``, ``op`` ``"ping"``)."""
    return subscribe_reply(
        category, "ping", success=True, ret_msg="pong", conn_id=conn_id, req_id=req_id
    )


def book_message(
    category: str,
    topic: str,
    kind: str,
    *,
    ts_ms: int,
    symbol: str,
    bids: Sequence[tuple[str, str]],
    asks: Sequence[tuple[str, str]],
    u: int,
    seq: int,
    cts_ms: int,
) -> JsonDict:
    """An ``orderbook`` push (``kind`` ``snapshot`` or ``delta``) in the socket's key order."""
    data: JsonDict = {
        "s": symbol,
        "b": [list(level) for level in bids],
        "a": [list(level) for level in asks],
        "u": u,
        "seq": seq,
    }
    if category == "spot":
        return {"topic": topic, "ts": ts_ms, "type": kind, "data": data, "cts": cts_ms}
    return {"topic": topic, "type": kind, "ts": ts_ms, "data": data, "cts": cts_ms}


def trade_message(category: str, topic: str, ts_ms: int, items: list[JsonDict]) -> JsonDict:
    """A ``publicTrade`` push (always ``type`` ``snapshot``)."""
    if category == "spot":
        return {"topic": topic, "ts": ts_ms, "type": "snapshot", "data": items}
    return {"topic": topic, "type": "snapshot", "ts": ts_ms, "data": items}


def ticker_message(
    category: str, topic: str, kind: str, ts_ms: int, cs: int, data: JsonDict
) -> JsonDict:
    """A ``tickers`` push in the socket's key order."""
    if category == "spot":
        return {"topic": topic, "ts": ts_ms, "type": kind, "cs": cs, "data": data}
    return {"topic": topic, "type": kind, "data": data, "cs": cs, "ts": ts_ms}


# ------------------------------------------------------------------- settings


@attrs.frozen(kw_only=True)
class BybitSettings:
    """Options of the Bybit front-end.

    Attributes:
        immediate: Publish one book message per engine change instead of at
            the documented push intervals (for benchmarks).
        rest_limits: Requests per ``rest_window`` per endpoint path and IP.
        rest_default_limit: Limit for paths not in ``rest_limits``.
        rest_window: Rate-limit window in seconds.
        max_args_spot: Most topics one spot ``subscribe`` request may carry.
        send_buffer: Outgoing frames buffered per connection (see the server).
    """

    immediate: bool = False
    rest_limits: Mapping[str, int] = attrs.field(factory=dict)
    rest_default_limit: int = 600
    rest_window: float = 5.0
    max_args_spot: int = 10
    send_buffer: int = 10_000


@attrs.frozen(kw_only=True)
class BybitStatistics:
    """Counters of the Bybit front-end."""

    connections: int
    subscriptions: int
    book_messages: int
    trade_messages: int
    ticker_messages: int
    restart_snapshots: int


# --------------------------------------------------------------- book topics

_Level = tuple[Decimal, str, str]


class _Mirror:
    """A sorted copy of one engine book, fed from hub batches, with its wire levels.

    Each level is kept as ``(price, "price", "size")`` in the category's
    number format, built once when the level changes, so every topic of the
    instrument reads its view without formatting anything. Bounded by the
    engine's book.
    """

    def __init__(self, book: SimBook) -> None:
        self.book = book
        inst = book.instrument
        self._pf = _price_fmt(inst)
        self._qf = _qty_fmt(inst)
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
            target[price] = (price, self._pf(price), self._qf(qty))
        else:
            target.pop(price, None)

    def top(self, depth: int) -> tuple[list[_Level], list[_Level]]:
        """Best ``depth`` bid levels and ask levels, best first."""
        bids = self.bids
        asks = self.asks
        return (
            [bids[p] for p in itertools.islice(reversed(bids), depth)],
            [asks[p] for p in itertools.islice(asks, depth)],
        )


@attrs.define
class _Sub:
    """One connection's subscription to a topic (``u_offset`` after a restart snapshot)."""

    conn: WsConnection
    u_offset: int = 0


class _BookTopic:
    """One ``orderbook.{depth}.{symbol}`` stream of one category, shared by connections."""

    def __init__(self, front: BybitFrontend, category: str, mirror: _Mirror, depth: int) -> None:
        self.front = front
        self.category = category
        self.mirror = mirror
        self.depth = depth
        self.symbol = mirror.book.instrument.native_id
        self.name = f"orderbook.{depth}.{self.symbol}"
        self.subs: dict[int, _Sub] = {}
        self.u = 1000 * depth + 1
        self.seq = mirror.seq
        self.cts_ms = front.venue.now_ms()
        self.bids: list[_Level] = []
        self.asks: list[_Level] = []
        self.dirty = True
        self.last_sent = trio.current_time()
        self.history: deque[tuple[int, int, list[_Level], list[_Level]]] = deque(maxlen=_HISTORY)
        self.refresh(publish=False)

    def touches(self, side: Side, price: Decimal) -> bool:
        """Whether a change at ``price`` can alter the published top ``depth`` levels."""
        levels = self.bids if side is Side.BUY else self.asks
        if len(levels) < self.depth:
            return True
        worst = levels[-1][0]
        return price >= worst if side is Side.BUY else price <= worst

    def refresh(self, *, publish: bool = True, force: bool = False) -> bool:
        """Recompute the view; publish a message when it changed. Returns whether it did."""
        if not self.dirty and not force:
            return False
        self.dirty = False
        bids, asks = self.mirror.top(self.depth)
        if bids == self.bids and asks == self.asks and not force:
            return False
        old_bids, old_asks = self.bids, self.asks
        self.bids, self.asks = bids, asks
        self.seq = self.mirror.seq
        self.cts_ms = self.front.venue.now_ms()
        self.u += 1
        self.history.append((self.u, self.seq, bids, asks))
        if publish:
            self.last_sent = trio.current_time()
            if self.depth == 1:
                self._broadcast_snapshot()
            else:
                self._broadcast_delta(
                    _diff(old_bids, bids, reverse=True), _diff(old_asks, asks, reverse=False)
                )
        return True

    def resend_level1(self) -> None:
        """``orderbook.1``: re-send the unchanged snapshot (same ``u``) after 3 s of quiet."""
        self.last_sent = trio.current_time()
        self._broadcast_snapshot()

    def view(self, updates_back: int = 0) -> tuple[int, int, list[_Level], list[_Level]]:
        """``(u, seq, bids, asks)`` as published ``updates_back`` messages ago."""
        if updates_back <= 0 or not self.history:
            return self.u, self.seq, self.bids, self.asks
        index = max(0, len(self.history) - 1 - updates_back)
        return self.history[index]

    def snapshot_frame(self, u: int) -> str:
        now = self.front.venue.now_ms()
        msg = book_message(
            self.category,
            self.name,
            "snapshot",
            ts_ms=now,
            symbol=self.symbol,
            bids=[(p, q) for _, p, q in self.bids],
            asks=[(p, q) for _, p, q in self.asks],
            u=u,
            seq=self.seq,
            cts_ms=self.cts_ms,
        )
        return _enc.encode(msg).decode()

    def _broadcast_snapshot(self) -> None:
        if not self.subs:
            return
        frame = self.snapshot_frame(self.u)
        for sub in list(self.subs.values()):
            self._send(sub, frame, lambda u: self.snapshot_frame(u))

    def _broadcast_delta(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        if not self.subs:
            return
        now = self.front.venue.now_ms()

        def build(u: int) -> str:
            msg = book_message(
                self.category,
                self.name,
                "delta",
                ts_ms=now,
                symbol=self.symbol,
                bids=bids,
                asks=asks,
                u=u,
                seq=self.seq,
                cts_ms=self.cts_ms,
            )
            return _enc.encode(msg).decode()

        frame = build(self.u)
        for sub in list(self.subs.values()):
            self._send(sub, frame, build)

    def _send(self, sub: _Sub, frame: str, build: Callable[[int], str]) -> None:
        conn = sub.conn
        if self.front.restart_rules and conn.faults.should(FaultKind.RESTART_SNAPSHOT, self.name):
            # A service restart as Bybit announces it: a full snapshot with u=1;
            # this connection's numbering continues from there.
            sub.u_offset = self.u - 1
            self.front._restarts += 1
            conn.send(self.snapshot_frame(1), stream=self.name)
            return
        self.front._book_messages += 1
        if sub.u_offset:
            conn.send(build(self.u - sub.u_offset), stream=self.name)
        else:
            conn.send(frame, stream=self.name)


def _diff(old: list[_Level], new: list[_Level], *, reverse: bool) -> list[tuple[str, str]]:
    """Delta entries turning ``old`` into ``new`` (removed levels: size ``"0"``), in book order."""
    if old == new:
        return []
    before = {lv[0]: lv for lv in old}
    # Levels are shared tuples, rebuilt only when they change: most compare by identity.
    out = [lv for lv in new if before.pop(lv[0], None) != lv]
    out.extend((p, lv[1], "0") for p, lv in before.items())
    out.sort(key=_price_key, reverse=reverse)
    return [(ps, q) for _, ps, q in out]


def _price_key(level: _Level) -> Decimal:
    return level[0]


class _TickerTopic:
    """``tickers.{symbol}`` of one category: linear sends deltas, spot snapshots."""

    def __init__(self, front: BybitFrontend, category: str, book: SimBook) -> None:
        self.front = front
        self.category = category
        self.book = book
        self.name = f"tickers.{book.native_id}"
        self.subs: dict[int, _Sub] = {}
        self.last: JsonDict = {}
        self.dirty = True

    def data(self) -> JsonDict:
        return ticker_item(self.book, self.front.venue.now_ms(), rest=False)

    def snapshot_frame(self) -> str:
        data = self.data()
        if self.category == "linear" and not self.last:
            self.last = data
        msg = ticker_message(
            self.category,
            self.name,
            "snapshot",
            self.front.venue.now_ms(),
            self.book.update_id,
            data,
        )
        return _enc.encode(msg).decode()

    def tick(self) -> None:
        if not self.dirty or not self.subs:
            return
        self.dirty = False
        data = self.data()
        if self.category == "linear":
            changed: JsonDict = {"symbol": data["symbol"]}
            for key, value in data.items():
                if self.last.get(key) != value and key != "symbol":
                    changed[key] = value
            # As in the capture, a best price travels with its size even when unchanged.
            for price, size in _TICKER_PAIRS:
                if price in changed or size in changed:
                    changed[price] = data[price]
                    changed[size] = data[size]
            self.last = data
            if len(changed) == 1:
                return
            msg = ticker_message(
                self.category,
                self.name,
                "delta",
                self.front.venue.now_ms(),
                self.book.update_id,
                changed,
            )
        else:
            if data == self.last:
                return
            self.last = data
            msg = ticker_message(
                self.category,
                self.name,
                "snapshot",
                self.front.venue.now_ms(),
                self.book.update_id,
                data,
            )
        frame = _enc.encode(msg).decode()
        for sub in list(self.subs.values()):
            self.front._ticker_messages += 1
            sub.conn.send(frame, stream=self.name)


class _TradeTopic:
    """``publicTrade.{symbol}`` of one category: one push per engine batch with trades."""

    def __init__(self, front: BybitFrontend, category: str, book: SimBook) -> None:
        self.front = front
        self.category = category
        self.book = book
        self.name = f"publicTrade.{book.native_id}"
        self.subs: dict[int, _Sub] = {}
        self._last_price: Decimal | None = None
        self._direction = "ZeroPlusTick"

    def _tick_direction(self, price: Decimal) -> str:
        last = self._last_price
        if last is not None:
            if price > last:
                self._direction = "PlusTick"
            elif price < last:
                self._direction = "MinusTick"
            elif self._direction in ("PlusTick", "ZeroPlusTick"):
                self._direction = "ZeroPlusTick"
            else:
                self._direction = "ZeroMinusTick"
        self._last_price = price
        return self._direction

    def publish(self, count: int, seq: int, ts_ms: int) -> None:
        trades = self.book.recent_trades(count)
        inst = self.book.instrument
        pf = _price_fmt(inst)
        qf = _qty_fmt(inst)
        items: list[JsonDict] = []
        for t in trades:
            direction = self._tick_direction(t.price)
            if not self.subs:
                continue
            if self.category == "spot":
                items.append(
                    {
                        "i": str(2_290_000_000_000_000_000 + t.trade_id),
                        "T": t.ts_ms,
                        "p": pf(t.price),
                        "v": qf(t.qty),
                        "S": _side_name(t.aggressor),
                        "seq": seq,
                        "s": inst.native_id,
                        "BT": False,
                        "RPI": False,
                    }
                )
            else:
                items.append(
                    {
                        "T": t.ts_ms,
                        "s": inst.native_id,
                        "S": _side_name(t.aggressor),
                        "v": qf(t.qty),
                        "p": pf(t.price),
                        "L": direction,
                        "i": str(uuid.UUID(int=t.trade_id)),
                        "BT": False,
                        "RPI": False,
                        "seq": seq,
                    }
                )
        if not items:
            return
        frame = _enc.encode(trade_message(self.category, self.name, ts_ms, items)).decode()
        for sub in list(self.subs.values()):
            self.front._trade_messages += 1
            sub.conn.send(frame, stream=self.name)


# ------------------------------------------------------------------ front-end


class BybitFrontend:
    """Bybit v5 public REST and websocket endpoints over one :class:`SimVenue`.

    One port per market (``spot``, ``linear``), like Binance's hosts: each port
    serves every REST path (for every ``category``) and its own websocket path
    (``/v5/public/spot`` or ``/v5/public/linear``), so websocket faults can be
    aimed at one market. Both ports share one REST rate limiter.
    Per-connection output is bounded by the server's send buffer (a slow
    consumer is disconnected).

    Args:
        venue: The hub of the ``bybit`` venue (markets ``spot`` and ``linear``).
        injector: The run's fault injector.
        options: Host, ports per market and :class:`BybitSettings` names in
            ``options.settings``.
    """

    name = "bybit"

    def __init__(
        self, venue: SimVenue, injector: FaultInjector, options: FrontendOptions | None = None
    ) -> None:
        self.venue = venue
        self.injector = injector
        self.options = options if options is not None else FrontendOptions()
        self.settings = settings_from(BybitSettings, self.options.settings, "bybit")
        self.limiter = BybitLimiter(
            self.settings.rest_limits,
            default=self.settings.rest_default_limit,
            window=self.settings.rest_window,
            wall_ms=venue.now_ms,
        )
        # Whether any message may turn into a restart snapshot (saves a check per frame).
        self.restart_rules = bool(
            injector.rules(self.name, frozenset({FaultKind.RESTART_SNAPSHOT}))
        )
        self._mirrors: dict[tuple[str, str], _Mirror] = {}
        self._books: dict[tuple[str, str, int], _BookTopic] = {}
        self._tickers: dict[tuple[str, str], _TickerTopic] = {}
        self._trades: dict[tuple[str, str], _TradeTopic] = {}
        self._symbol_ids = {
            key: 5 + i for i, key in enumerate(sorted(venue.books, key=lambda k: (k[0], k[1])))
        }
        self._conn_counter = itertools.count(1)
        self._connections = 0
        self._book_messages = 0
        self._trade_messages = 0
        self._ticker_messages = 0
        self._restarts = 0
        self.urls: dict[str, str] = {}
        self.servers: dict[str, VenueServer] = {}
        ws = WsSettings(send_buffer=self.settings.send_buffer)
        for market in ("spot", "linear"):
            if market not in venue.markets():
                continue
            router = Router()
            self._register(router, market)
            self.servers[market] = VenueServer(
                self.name,
                router,
                injector=injector,
                market=market,
                ws_settings=ws,
                rate_limited=self.rate_limited,
                host=self.options.host,
                port=self.options.port(market),
            )

    # ---------------------------------------------------------------- wiring

    def _register(self, router: Router, market: str) -> None:
        router.get("/v5/market/time", self._rest_time)
        router.get("/v5/market/instruments-info", self._rest_instruments)
        router.get("/v5/market/orderbook", self._rest_orderbook)
        router.get("/v5/market/tickers", self._rest_tickers)
        router.get("/v5/market/recent-trade", self._rest_recent_trades)
        router.websocket(f"/v5/public/{market}", self._ws)

    def rate_limited(self, req: Request, verdict: RestVerdict) -> Response:
        """The venue's reply to a REST_429 fault: retCode 10006 (HTTP 200) with limit headers."""
        now = self.venue.now_ms()
        reset = now + int(max(verdict.retry_after, 0.0) * 1000)
        headers = (
            ("X-Bapi-Limit", str(self.settings.rest_default_limit)),
            ("X-Bapi-Limit-Status", "0"),
            ("X-Bapi-Limit-Reset-Timestamp", str(reset)),
        )
        return json_response(error_body(10006, "Too many visits!", now), headers=headers)

    def statistics(self) -> BybitStatistics:
        """A frozen snapshot of the front-end's counters."""
        subs = sum(len(t.subs) for t in self._books.values())
        subs += sum(len(t.subs) for t in self._tickers.values())
        subs += sum(len(t.subs) for t in self._trades.values())
        return BybitStatistics(
            connections=self._connections,
            subscriptions=subs,
            book_messages=self._book_messages,
            trade_messages=self._trade_messages,
            ticker_messages=self._ticker_messages,
            restart_snapshots=self._restarts,
        )

    # ------------------------------------------------------------ publishing

    def _book_topic(self, category: str, symbol: str, depth: int) -> _BookTopic:
        key = (category, symbol, depth)
        topic = self._books.get(key)
        if topic is None:
            topic = _BookTopic(self, category, self._mirrors[(category, symbol)], depth)
            self._books[key] = topic
        return topic

    def _on_batch(self, batch: BookBatch) -> None:
        mirror = self._mirrors.get((batch.market, batch.native_id))
        if mirror is None:
            return
        topics = [t for t in self._books.values() if t.mirror is mirror]
        immediate = self.settings.immediate
        trades = 0
        for result in batch.results:
            trades += len(result.trades)
            if not result.changes:
                continue
            mirror.seq = result.update_id
            for side, price, qty in result.changes:
                mirror.apply(side, price, qty)
                for topic in topics:
                    if not topic.dirty and topic.touches(side, price):
                        topic.dirty = True
            if immediate:
                for topic in topics:
                    topic.refresh()
        key = (batch.market, batch.native_id)
        ticker = self._tickers.get(key)
        if ticker is not None:
            ticker.dirty = True
        if trades:
            trade_topic = self._trades.get(key)
            if trade_topic is not None:
                seq = batch.results[-1].update_id
                trade_topic.publish(trades, seq, batch.ts_ns // 1_000_000)

    async def run(
        self, *, task_status: trio.TaskStatus[dict[str, str]] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve both markets and push at the documented intervals until cancelled.

        Started with ``{"spot.rest": url, "spot.ws": url, "linear.rest": ..., ...}``.
        """
        self._mirrors = {key: _Mirror(book) for key, book in self.venue.books.items()}
        unlisten = self.venue.listen(self._on_batch)
        try:
            async with trio.open_nursery() as nursery:
                intervals = sorted({iv for per in _INTERVALS.values() for iv in per.values()})
                for interval in intervals:
                    nursery.start_soon(self._book_timer, interval)
                for interval in sorted(set(_TICKER_INTERVAL.values())):
                    nursery.start_soon(self._ticker_timer, interval)
                for market, server in self.servers.items():
                    base: str = await nursery.start(server.run)
                    self.urls[f"{market}.rest"] = base
                    self.urls[f"{market}.ws"] = base.replace("http://", "ws://", 1)
                task_status.started(dict(self.urls))
        finally:
            unlisten()

    async def _book_timer(self, interval: float) -> None:
        while True:
            await trio.sleep(interval)
            now = trio.current_time()
            for topic in list(self._books.values()):
                if _INTERVALS[topic.category][topic.depth] != interval:
                    continue
                if not self.settings.immediate:
                    topic.refresh()
                if topic.depth == 1 and topic.subs and now - topic.last_sent >= _LEVEL1_RESEND:
                    topic.resend_level1()

    async def _ticker_timer(self, interval: float) -> None:
        while True:
            await trio.sleep(interval)
            for topic in list(self._tickers.values()):
                if _TICKER_INTERVAL[topic.category] == interval:
                    topic.tick()

    # ------------------------------------------------------------------ REST

    def _limit(self, req: Request) -> tuple[tuple[str, str], ...] | Response:
        verdict = self.limiter.check(req.client, req.path)
        if not verdict.allowed:
            return verdict.response()
        return verdict.headers

    def _ok(self, result: object, headers: tuple[tuple[str, str], ...]) -> Response:
        return json_response(envelope(result, self.venue.now_ms()), headers=headers)

    def _err(self, code: int, message: str, headers: tuple[tuple[str, str], ...]) -> Response:
        return json_response(error_body(code, message, self.venue.now_ms()), headers=headers)

    async def _rest_time(self, req: Request) -> Response:
        limited = self._limit(req)
        if isinstance(limited, Response):
            return limited
        now_ns = self.venue.now_ns()
        result = {"timeSecond": str(now_ns // 1_000_000_000), "timeNano": str(now_ns)}
        return json_response(
            {
                "retCode": 0,
                "retMsg": "OK",
                "result": result,
                "retExtInfo": {},
                "time": now_ns // 1_000_000,
            },
            headers=limited,
        )

    def _category(self, req: Request) -> str | None:
        category = req.query.get("category", "")
        return category if category in ("spot", "linear", "inverse", "option") else None

    async def _rest_instruments(self, req: Request) -> Response:
        limited = self._limit(req)
        if isinstance(limited, Response):
            return limited
        category = self._category(req)
        if category is None:
            return self._err(10001, "Illegal category", limited)
        symbol = req.query.get("symbol")
        items = []
        for inst in self.venue.instruments(category) if category in ("spot", "linear") else []:
            if symbol is not None and symbol != inst.native_id:
                continue
            items.append(instrument_item(inst, self._symbol_ids[(inst.market, inst.native_id)]))
        result: JsonDict = {"category": category, "list": items}
        if category != "spot":
            result["nextPageCursor"] = ""
        return self._ok(result, limited)

    def _book_for(self, req: Request, headers: tuple[tuple[str, str], ...]) -> SimBook | Response:
        category = self._category(req)
        if category is None:
            return self._err(10001, "Illegal category", headers)
        symbol = req.query.get("symbol", "")
        if not symbol:
            return self._err(10001, "params error: symbol invalid", headers)
        book = self.venue.find(category, symbol)
        if book is None:
            return self._err(10001, "Not supported symbols", headers)
        return book

    async def _rest_orderbook(self, req: Request) -> Response:
        limited = self._limit(req)
        if isinstance(limited, Response):
            return limited
        found = self._book_for(req, limited)
        if isinstance(found, Response):
            return found
        category = found.market
        default, maximum = _REST_LIMITS[category]
        try:
            limit = int(req.query.get("limit", str(default)))
        except ValueError:
            return self._err(10001, "params error: limit invalid", limited)
        if not 1 <= limit <= maximum:
            return self._err(10001, "params error: limit invalid", limited)
        depth = next(d for d in BOOK_DEPTHS[category] if d >= limit)
        topic = self._book_topic(category, found.native_id, depth)
        topic.refresh()
        stale = self.injector.stale_updates(self.name, category, req.path)
        u, seq, bids, asks = topic.view(stale)
        now = self.venue.now_ms()
        result = orderbook_result(
            found.native_id,
            [(p, q) for _, p, q in bids[:limit]],
            [(p, q) for _, p, q in asks[:limit]],
            ts_ms=now,
            u=u,
            seq=seq,
            cts_ms=topic.cts_ms,
        )
        return self._ok(result, limited)

    async def _rest_tickers(self, req: Request) -> Response:
        limited = self._limit(req)
        if isinstance(limited, Response):
            return limited
        category = self._category(req)
        if category is None:
            return self._err(10001, "Illegal category", limited)
        symbol = req.query.get("symbol")
        now = self.venue.now_ms()
        books: Iterable[SimBook]
        if symbol:
            book = self.venue.find(category, symbol)
            if book is None:
                return self._err(10001, "Not supported symbols", limited)
            books = [book]
        else:
            books = [b for b in self.venue.books.values() if b.market == category]
        items = [ticker_item(b, now, rest=True) for b in books]
        return self._ok({"category": category, "list": items}, limited)

    async def _rest_recent_trades(self, req: Request) -> Response:
        limited = self._limit(req)
        if isinstance(limited, Response):
            return limited
        found = self._book_for(req, limited)
        if isinstance(found, Response):
            return found
        maximum = 60 if found.market == "spot" else 1000
        try:
            limit = int(req.query.get("limit", "60" if found.market == "spot" else "500"))
        except ValueError:
            return self._err(10001, "params error: limit invalid", limited)
        limit = max(1, min(limit, maximum))
        inst = found.instrument
        pf = _price_fmt(inst)
        qf = _qty_fmt(inst)
        items = []
        for t in reversed(found.recent_trades(limit)):
            exec_id = (
                str(2_290_000_000_000_000_000 + t.trade_id)
                if found.market == "spot"
                else str(uuid.UUID(int=t.trade_id))
            )
            items.append(
                recent_trade_item(
                    inst.native_id,
                    exec_id=exec_id,
                    price=pf(t.price),
                    size=qf(t.qty),
                    side=_side_name(t.aggressor),
                    time_ms=t.ts_ms,
                )
            )
        return self._ok({"category": found.market, "list": items}, limited)

    # ------------------------------------------------------------- websocket

    async def _ws(self, conn: WsConnection) -> None:
        category = "spot" if conn.path.endswith("/spot") else "linear"
        conn_id = str(uuid.UUID(int=(self.venue.seed << 64) + next(self._conn_counter)))
        mine: dict[str, _BookTopic | _TickerTopic | _TradeTopic] = {}
        self._connections += 1

        def drop_all() -> None:
            for topic in mine.values():
                topic.subs.pop(conn.conn_id, None)
            mine.clear()

        conn.on_close.append(drop_all)
        try:
            while True:
                raw = await conn.receive()
                if raw is None:
                    return
                self._on_message(conn, category, conn_id, mine, raw)
        finally:
            self._connections -= 1
            drop_all()

    def _reply(self, conn: WsConnection, value: JsonDict) -> None:
        conn.send(_enc.encode(value).decode())

    def _on_message(
        self,
        conn: WsConnection,
        category: str,
        conn_id: str,
        mine: dict[str, _BookTopic | _TickerTopic | _TradeTopic],
        raw: str | bytes,
    ) -> None:
        try:
            message = _dec.decode(raw)
        except msgspec.DecodeError:
            self._reply(
                conn,
                subscribe_reply(
                    category,
                    "",
                    success=False,
                    ret_msg="error:request not json",
                    conn_id=conn_id,
                    req_id=None,
                ),
            )
            return
        if not isinstance(message, dict):
            return
        op = message.get("op")
        req_raw = message.get("req_id")
        req_id = str(req_raw) if req_raw is not None else None
        if op == "ping":
            self._reply(conn, pong_reply(category, conn_id, req_id))
            return
        if op not in ("subscribe", "unsubscribe"):
            self._reply(
                conn,
                subscribe_reply(
                    category,
                    str(op) if op is not None else "",
                    success=False,
                    ret_msg=f"error:illegal op {op}",
                    conn_id=conn_id,
                    req_id=req_id,
                ),
            )
            return
        args = message.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self._reply(
                conn,
                subscribe_reply(
                    category,
                    op,
                    success=False,
                    ret_msg="error:args invalid",
                    conn_id=conn_id,
                    req_id=req_id,
                ),
            )
            return
        if category == "spot" and len(args) > self.settings.max_args_spot:
            self._reply(
                conn,
                subscribe_reply(
                    category,
                    op,
                    success=False,
                    ret_msg=f"args size >{self.settings.max_args_spot}",
                    conn_id=conn_id,
                    req_id=req_id,
                ),
            )
            return
        errors: list[str] = []
        snapshots: list[tuple[str, str]] = []
        for name in args:
            if op == "subscribe":
                error = self._subscribe(conn, category, name, mine, snapshots)
            else:
                error = self._unsubscribe(conn, name, mine)
            if error:
                errors.append(error)
        ok_msg = "" if category == "linear" else op
        self._reply(
            conn,
            subscribe_reply(
                category,
                op,
                success=not errors,
                ret_msg=";".join(errors) if errors else ok_msg,
                conn_id=conn_id,
                req_id=req_id,
            ),
        )
        for stream, frame in snapshots:
            conn.send(frame, stream=stream)

    def _resolve(self, category: str, name: str) -> _BookTopic | _TickerTopic | _TradeTopic | None:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "orderbook":
            try:
                depth = int(parts[1])
            except ValueError:
                return None
            if depth not in BOOK_DEPTHS[category] or (category, parts[2]) not in self._mirrors:
                return None
            return self._book_topic(category, parts[2], depth)
        if len(parts) != 2 or (category, parts[1]) not in self._mirrors:
            return None
        key = (category, parts[1])
        book = self.venue.book(category, parts[1])
        if parts[0] == "tickers":
            ticker = self._tickers.get(key)
            if ticker is None:
                ticker = _TickerTopic(self, category, book)
                self._tickers[key] = ticker
            return ticker
        if parts[0] == "publicTrade":
            trade = self._trades.get(key)
            if trade is None:
                trade = _TradeTopic(self, category, book)
                self._trades[key] = trade
            return trade
        return None

    def _subscribe(
        self,
        conn: WsConnection,
        category: str,
        name: str,
        mine: dict[str, _BookTopic | _TickerTopic | _TradeTopic],
        snapshots: list[tuple[str, str]],
    ) -> str | None:
        if name in mine:
            return f"error:already subscribed,topic:{name}"
        topic = self._resolve(category, name)
        if topic is None:
            return f"error:handler not found,topic:{name}"
        if isinstance(topic, _BookTopic):
            # Publish what is pending to the others first, so the snapshot is current.
            topic.refresh()
            snapshots.append((name, topic.snapshot_frame(topic.u)))
        mine[name] = topic
        topic.subs[conn.conn_id] = _Sub(conn)
        if isinstance(topic, _BookTopic):
            pass
        elif isinstance(topic, _TickerTopic):
            snapshots.append((name, topic.snapshot_frame()))
            topic.dirty = True
        return None

    def _unsubscribe(
        self,
        conn: WsConnection,
        name: str,
        mine: dict[str, _BookTopic | _TickerTopic | _TradeTopic],
    ) -> str | None:
        topic = mine.pop(name, None)
        if topic is None:
            return f"error:not subscribed,topic:{name}"
        topic.subs.pop(conn.conn_id, None)
        return None


def create_frontend(
    venue: SimVenue, injector: FaultInjector, options: FrontendOptions
) -> BybitFrontend:
    """Front-end factory used by :func:`connector.sim.run`."""
    return BybitFrontend(venue, injector, options)
