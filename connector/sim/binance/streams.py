"""Binance market streams of one market: subscriptions, diff windows, events.

Streams (``<sym>`` is the lower-case symbol):

* ``<sym>@depth`` (spot 1000 ms, futures 250 ms), ``@depth@100ms``, futures
  ``@depth@500ms``: diff events batching every engine update of the window
  (``U`` first update id, ``u`` last, futures ``pu`` = previous event's ``u``);
  ``@depth@0ms``: one event per engine update (benchmarks).
* ``<sym>@depth5|10|20[@100ms]`` partial book (spot ``lastUpdateId/bids/asks``,
  futures a ``depthUpdate`` with ``pu``), ``@trade``, ``@aggTrade``,
  ``@bookTicker``, ``@ticker``.

A connection on ``/stream`` gets every event wrapped as
``{"stream": name, "data": event}``; on ``/ws`` the bare event. Any name may
be subscribed (and is listed), but only the names above produce events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from connector.model import Side
from connector.sim.binance.wire import (
    Listing,
    agg_trade_event,
    book_ticker_event,
    depth_update,
    encode,
    parse_stream,
    partial_book,
    ticker_event,
    trade_event,
)
from connector.sim.engine import EngineResult
from connector.sim.hub import BookBatch, SimVenue
from connector.sim.topics import Topic, TopicBoard, TopicStatistics
from connector.sim.ws import WsConnection

__all__ = ["MarketStreams", "StreamTopic"]


class StreamTopic(Topic):
    """One Binance stream: bare events on ``/ws``, wrapped ones on ``/stream``."""

    def publish_event(self, data: bytes) -> None:
        """Send one encoded event to every subscriber in its connection's form."""
        subs = self.subs
        if not subs:
            return
        self.published += 1
        conns = list(subs.values())
        self.sent += len(conns)
        name = self.name
        raw: str | None = None
        wrapped: str | None = None
        for conn in conns:
            if conn.state["combined"]:
                if wrapped is None:
                    wrapped = '{"stream":"' + name + '","data":' + data.decode() + "}"
                conn.send(wrapped, name)
            else:
                if raw is None:
                    raw = data.decode()
                conn.send(raw, name)


class _DiffWindow:
    """Engine changes of one symbol accumulated over one stream interval."""

    __slots__ = ("asks", "bids", "first", "interval_ms", "last", "names", "prev")

    def __init__(self, interval_ms: int) -> None:
        self.interval_ms = interval_ms
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.first: int | None = None
        self.last: int | None = None
        self.prev: int | None = None
        self.names: set[str] = set()

    def add(self, result: EngineResult) -> None:
        if self.first is None:
            self.first = result.update_id
        self.last = result.update_id
        bids = self.bids
        asks = self.asks
        for side, price, qty in result.changes:
            if side is Side.BUY:
                bids[price] = qty
            else:
                asks[price] = qty


class _Partial:
    """A partial-book stream of one symbol at one interval."""

    __slots__ = ("first", "interval_ms", "levels", "names", "prev_u")

    def __init__(self, levels: int, interval_ms: int) -> None:
        self.levels = levels
        self.interval_ms = interval_ms
        self.names: set[str] = set()
        self.prev_u: int | None = None
        self.first: int | None = None


class _SymbolStreams:
    """Per-symbol stream state of one market."""

    def __init__(self, listing: Listing) -> None:
        self.listing = listing
        self.lower = listing.lower
        self.windows: dict[int, _DiffWindow] = {}
        self.partials: dict[tuple[int, int], _Partial] = {}
        self.best: tuple[object, object] | None = None
        self.agg_id = 0


class MarketStreams:
    """Every stream of one market and who listens to it.

    Args:
        venue: The venue hub (its clock stamps events).
        market: ``spot`` or ``linear``.
        listings: The market's listings by symbol.
        ensure_timer: Starts the flush timer of an interval (ms) if not running.
    """

    def __init__(
        self,
        venue: SimVenue,
        market: str,
        listings: Mapping[str, Listing],
        ensure_timer: Callable[[int], None],
    ) -> None:
        self.venue = venue
        self.market = market
        self.spot = market == "spot"
        self.symbols = {sym: _SymbolStreams(listing) for sym, listing in listings.items()}
        self.by_lower = {s.lower: s for s in self.symbols.values()}
        self.board: TopicBoard[str, StreamTopic] = TopicBoard(prune=True)
        self._ensure_timer = ensure_timer

    def statistics(self) -> TopicStatistics:
        """The subscription counters of this market."""
        return self.board.statistics()

    # --------------------------------------------------------- subscriptions

    def subscribed(self, conn: WsConnection) -> list[str]:
        """``conn``'s stream names in subscription order."""
        return list(self.board.subscriptions(conn))

    def subscribe(self, conn: WsConnection, name: str) -> None:
        """Subscribe ``conn`` to stream ``name`` (known or not; only known ones emit)."""
        if not self.board.subscribe(conn, name, self.board.topic(name, lambda: StreamTopic(name))):
            return
        parsed = parse_stream(self.market, name)
        sym = self.by_lower.get(name.split("@", 1)[0])
        if parsed is None or sym is None:
            return
        kind, ms, levels = parsed
        if kind == "depth" and ms > 0:
            window = sym.windows.get(ms)
            if window is None:
                window = _DiffWindow(ms)
                sym.windows[ms] = window
                self._ensure_timer(ms)
            window.names.add(name)
        elif kind == "partial":
            partial = sym.partials.get((levels, ms))
            if partial is None:
                partial = _Partial(levels, ms)
                sym.partials[(levels, ms)] = partial
                self._ensure_timer(ms)
            partial.names.add(name)
        elif kind == "ticker":
            self._ensure_timer(1000)

    def unsubscribe(self, conn: WsConnection, name: str) -> None:
        """End ``conn``'s subscription to ``name`` (no-op when there is none)."""
        self.board.unsubscribe(conn, name)

    def _emit(self, name: str, data: bytes) -> None:
        topic = self.board.active(name)
        if topic is not None:
            topic.publish_event(data)

    # ---------------------------------------------------------------- events

    def on_batch(self, batch: BookBatch) -> None:
        """Feed one hub batch: diff windows, ``@depth@0ms``, trades, ``@bookTicker``."""
        sym = self.symbols.get(batch.native_id)
        if sym is None:
            return
        active = self.board.active
        low = sym.lower
        spot = self.spot
        tx_ms = batch.ts_ns // 1_000_000
        windows = sym.windows
        zero_name = low + "@depth@0ms"
        zero = active(zero_name) is not None
        next_trade_id = sym.listing.book.last_trade_id + 1
        if active(low + "@trade") or active(low + "@aggTrade"):
            next_trade_id -= sum(len(r.trades) for r in batch.results)
        for result in batch.results:
            if result.changes:
                for window in windows.values():
                    if window.names:
                        window.add(result)
                for partial in sym.partials.values():
                    if partial.first is None:
                        partial.first = result.update_id
                if zero:
                    self._emit(
                        zero_name, self._diff_event(sym, [result], tx_ms, result.update_id - 1)
                    )
            if result.trades:
                self._on_trades(sym, result, tx_ms, next_trade_id)
                next_trade_id += len(result.trades)
        book_name = low + "@bookTicker"
        if active(book_name):
            engine = sym.listing.book.engine
            bid, ask = engine.best_bid(), engine.best_ask()
            best = (bid, ask)
            if best != sym.best and bid is not None and ask is not None:
                sym.best = best
                data = book_ticker_event(
                    sym.listing, spot, engine.update_id, tx_ms, self.venue.now_ms()
                )
                self._emit(book_name, data)

    def _on_trades(
        self, sym: _SymbolStreams, result: EngineResult, tx_ms: int, first_id: int
    ) -> None:
        active = self.board.active
        spot = self.spot
        listing = sym.listing
        trade_name = sym.lower + "@trade"
        agg_name = sym.lower + "@aggTrade"
        # Trade ids follow the hub's per-book numbering (the REST /trades ids).
        if active(trade_name):
            now = self.venue.now_ms()
            for i, t in enumerate(result.trades):
                self._emit(trade_name, trade_event(listing, spot, t, first_id + i, tx_ms, now))
        if active(agg_name):
            now = self.venue.now_ms()
            groups: list[tuple[Decimal, Decimal, int, int, bool]] = []
            for i, t in enumerate(result.trades):
                if groups and groups[-1][0] == t.price:
                    price, qty, first, _last, m = groups[-1]
                    groups[-1] = (price, qty + t.qty, first, first_id + i, m)
                else:
                    groups.append(
                        (t.price, t.qty, first_id + i, first_id + i, t.aggressor is Side.SELL)
                    )
            for price, qty, first, last, m in groups:
                sym.agg_id += 1
                data = agg_trade_event(
                    listing, spot, sym.agg_id, price, qty, first, last, m, tx_ms, now
                )
                self._emit(agg_name, data)

    def _diff_event(
        self, sym: _SymbolStreams, results: Iterable[EngineResult], tx_ms: int, prev_u: int
    ) -> bytes:
        bids: dict[Decimal, Decimal] = {}
        asks: dict[Decimal, Decimal] = {}
        first = last = 0
        for r in results:
            if not first:
                first = r.update_id
            last = r.update_id
            for side, price, qty in r.changes:
                (bids if side is Side.BUY else asks)[price] = qty
        return depth_update(
            sym.listing, self.spot, first, last, prev_u, bids, asks, tx_ms, self.venue.now_ms()
        )

    def flush(self, interval_ms: int) -> None:
        """Emit every window and partial book due at this interval."""
        now_ms = self.venue.now_ms()
        active = self.board.active
        for sym in self.symbols.values():
            window = sym.windows.get(interval_ms)
            if window is not None and window.first is not None and window.last is not None:
                if any(active(n) for n in window.names):
                    prev = window.prev if window.prev is not None else window.first - 1
                    data = depth_update(
                        sym.listing,
                        self.spot,
                        window.first,
                        window.last,
                        prev,
                        window.bids,
                        window.asks,
                        now_ms,
                        self.venue.now_ms(),
                    )
                    for name in window.names:
                        self._emit(name, data)
                window.prev = window.last
                window.first = window.last = None
                window.bids = {}
                window.asks = {}
            for (_levels, ms), partial in sym.partials.items():
                if ms != interval_ms or not any(active(n) for n in partial.names):
                    continue
                self._emit_partial(sym, partial, now_ms)
            if interval_ms == 1000:
                name = sym.lower + "@ticker"
                if active(name):
                    self._emit(name, encode(ticker_event(sym.listing, self.spot, now_ms)))

    def _emit_partial(self, sym: _SymbolStreams, partial: _Partial, now_ms: int) -> None:
        book = sym.listing.book
        _uid, bids, asks = book.depth(partial.levels)
        update_id = book.engine.update_id
        first = partial.first if partial.first is not None else update_id
        prev = partial.prev_u if partial.prev_u is not None else first - 1
        data = partial_book(
            sym.listing,
            self.spot,
            bids,
            asks,
            first=first,
            last=update_id,
            prev_u=prev,
            tx_ms=now_ms,
            now=self.venue.now_ms(),
        )
        if not self.spot:
            partial.prev_u = update_id
            partial.first = None
        for name in partial.names:
            self._emit(name, data)
