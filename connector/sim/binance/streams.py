"""Binance market streams of one market: subscriptions, diff windows, events.

Streams (``<sym>`` is the lower-case symbol):

* ``<sym>@depth`` (spot 1000 ms, futures 250 ms), ``@depth@100ms``, futures
  ``@depth@500ms``: diff events batching every engine update of the window
  (``U`` first update id, ``u`` last, futures ``pu`` = previous event's ``u``);
  ``@depth@0ms``: one event per engine update (benchmarks).
* ``<sym>@depth5|10|20[@100ms]`` partial book (spot ``lastUpdateId/bids/asks``,
  futures a ``depthUpdate`` with ``pu``), ``@trade``, ``@aggTrade`` (ids
  shared with ``GET aggTrades``, see :mod:`.history`), ``@bookTicker``,
  ``@ticker`` (1000 ms), ``@miniTicker`` (spot 1000 ms, USDⓈ-M 2000 ms),
  ``@kline_<interval>`` (spot 1000 ms for ``1s``, else 2000 ms; USDⓈ-M
  250 ms): every candle closed or changed since the last push, a closed one
  with ``"x": true``.

A connection on ``/stream`` gets every event wrapped as
``{"stream": name, "data": event}``; on ``/ws`` the bare event. Well-formed
names (see :mod:`.names`) may be subscribed (and are listed), but only the
names above produce events, and only on a connection whose route carries them
(``conn.state["routes"]``: the USDⓈ-M routes the connection gets, None for
every stream): a stream on the wrong route is subscribed and muted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from connector.model import Side
from connector.sim.binance.history import AggTrade, MarketHistory
from connector.sim.binance.names import StreamName
from connector.sim.binance.wire import (
    Listing,
    agg_trade_event,
    book_ticker_event,
    depth_update,
    encode,
    kline_event,
    mini_ticker_event,
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
    """One Binance stream: bare events on ``/ws``, wrapped ones on ``/stream``.

    Attributes:
        muted: Subscribers whose connection's route does not carry this stream.
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.muted: set[int] = set()

    def detach(self, conn_id: int) -> None:
        """Remove a subscriber (no-op when it is not one)."""
        super().detach(conn_id)
        self.muted.discard(conn_id)

    def publish_event(self, data: bytes) -> None:
        """Send one encoded event to every subscriber in its connection's form."""
        subs = self.subs
        if not subs:
            return
        muted = self.muted
        conns = (
            [c for c in subs.values() if c.conn_id not in muted] if muted else list(subs.values())
        )
        if not conns:
            return
        self.published += 1
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
        # Kline interval name -> (stream names, cursor of the last push).
        self.klines: dict[str, tuple[set[str], int]] = {}


class MarketStreams:
    """Every stream of one market and who listens to it.

    Args:
        venue: The venue hub (its clock stamps events).
        market: ``spot`` or ``linear``.
        listings: The market's listings by symbol.
        history: The market's aggregate trades and candles (fed by :meth:`on_batch`).
        ensure_timer: Starts the flush timer of an interval (ms) if not running.
    """

    def __init__(
        self,
        venue: SimVenue,
        market: str,
        listings: Mapping[str, Listing],
        history: MarketHistory,
        ensure_timer: Callable[[int], None],
    ) -> None:
        self.venue = venue
        self.market = market
        self.history = history
        self.spot = market == "spot"
        self.mini_ms = 1000 if self.spot else 2000
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

    def subscribe(self, conn: WsConnection, name: str, parsed: StreamName | None) -> None:
        """Subscribe ``conn`` to stream ``name`` (only served names on its route emit).

        Args:
            conn: The connection.
            name: The stream name as sent.
            parsed: The parsed name (None: not one the venue knows; listed, silent).
        """
        topic = self.board.topic(name, lambda: StreamTopic(name))
        if not self.board.subscribe(conn, name, topic):
            return
        routes = conn.state.get("routes")
        if parsed is not None and routes is not None and parsed.route not in routes:  # type: ignore[operator]
            topic.muted.add(conn.conn_id)
            return
        sym = self.by_lower.get(parsed.symbol) if parsed is not None else None
        if parsed is None or sym is None or not parsed.served:
            return
        kind, ms, levels = parsed.kind, parsed.interval_ms, parsed.levels
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
        elif kind == "miniTicker":
            self._ensure_timer(self.mini_ms)
        elif kind == "kline":
            entry = sym.klines.get(parsed.interval)
            if entry is None:
                series = self.history.candles.series(
                    self.market, sym.listing.symbol, parsed.interval
                )
                current = series.current(self.venue.now_ms())
                # The first push carries the current candle.
                entry = (set(), current.seq - 1 if current is not None else series.seq)
                sym.klines[parsed.interval] = entry
                self._ensure_timer(ms)
            entry[0].add(name)

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
        traded = iter(self.history.record(batch, sym.listing.book.last_trade_id))
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
                first_id, aggs = next(traded)
                self._on_trades(sym, result, tx_ms, first_id, aggs)
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
        self,
        sym: _SymbolStreams,
        result: EngineResult,
        tx_ms: int,
        first_id: int,
        aggs: list[AggTrade],
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
            for agg in aggs:
                data = agg_trade_event(
                    listing,
                    spot,
                    agg.agg_id,
                    agg.price,
                    agg.qty,
                    agg.first_id,
                    agg.last_id,
                    agg.maker_is_buyer,
                    tx_ms,
                    now,
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
            if interval_ms == self.mini_ms:
                name = sym.lower + "@miniTicker"
                if active(name):
                    self._emit(name, mini_ticker_event(sym.listing, self.spot, now_ms))
            if sym.klines:
                self._flush_klines(sym, interval_ms, now_ms)

    def _flush_klines(self, sym: _SymbolStreams, interval_ms: int, now_ms: int) -> None:
        active = self.board.active
        spot = self.spot
        push_ms = 250 if not spot else None
        for interval, (names, cursor) in list(sym.klines.items()):
            due = push_ms if push_ms is not None else (1000 if interval == "1s" else 2000)
            if due != interval_ms:
                continue
            live = [n for n in names if active(n)]
            if not live:
                del sym.klines[interval]
                continue
            series = self.history.candles.series(self.market, sym.listing.symbol, interval)
            candles, cursor = series.updates(cursor, now_ms)
            sym.klines[interval] = (names, cursor)
            for candle in candles:
                data = kline_event(sym.listing, spot, interval, candle, candle.closed, now_ms)
                for name in live:
                    self._emit(name, data)

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
