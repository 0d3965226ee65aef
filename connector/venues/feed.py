"""A venue's market-data feed: frames in, bus events out, one keeper per book.

Runs inside the connection task (design.md section 5: parse, sequence, apply and
publish in one task, no channel hop) and inside ``connector replay``, which is
why it does no I/O itself: it publishes through a callable and asks for
snapshots through another. Bad input from the venue is logged with the raw
frame, counted, and skipped; it never raises out of :meth:`VenueFeed.on_frame`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

import attrs
import structlog

from connector.book.keeper import BookKeeper, KeeperAction, KeeperResult
from connector.book.orderbook import OrderBook
from connector.errors import ConnectorError, MalformedMessage, UnknownInstrument, UnknownSymbol
from connector.model import (
    BookDelta,
    BookSnapshot,
    BookState,
    Instrument,
    Market,
    Quote,
    Symbol,
    Ticker,
    Trade,
)
from connector.venues.common import ControlMessage, SymbolMap
from connector.venues.driver import MarketDataAdapter

__all__ = ["FeedBook", "FeedStatistics", "VenueFeed"]

log = structlog.get_logger(__name__)

Publish = Callable[[str, object], None]
ResyncRequest = Callable[[Market, Instrument], None]

_RAW_LOG_LIMIT = 500
_PUBLISH = KeeperAction.PUBLISH
_LOG_STATE = frozenset({KeeperAction.STATE, KeeperAction.SYNC})
_FETCH = frozenset({KeeperAction.FETCH, KeeperAction.SYNC, KeeperAction.RESYNC})


@attrs.define(eq=False)
class FeedBook:
    """One followed book: everything the feed keeps for it, in one place.

    Attributes:
        market: Market segment of the book.
        symbol: Canonical symbol.
        keeper: Its keeper (book, state, sequencer, counters).
        topic: ``orderbook.{venue}.{symbol}``, where its updates are published.
    """

    market: Market
    symbol: Symbol
    keeper: BookKeeper
    topic: str

    @property
    def book(self) -> OrderBook:
        """The book (read it, never change it)."""
        return self.keeper.book

    @property
    def state(self) -> BookState:
        """The book's state."""
        return self.keeper.state


@attrs.frozen(kw_only=True)
class FeedStatistics:
    venue: str
    frames: int
    events: int
    malformed: int
    unknown_symbols: int
    control_errors: int


class VenueFeed:
    """One venue's decoded market data, books and publications.

    Args:
        adapter: The venue.
        symbols: Its loaded instruments.
        publish: ``publish(topic, event)``; the bus's, or replay's printer.
        on_resync: Called when a book needs a fresh snapshot.
        touch: Called with ``(market, symbol)`` for every message of the stream about a
            book (the session's staleness watchdog).
        on_hold: Called with ``(market, symbol)`` when a book starts holding deltas
            ahead of it (a gap that may still fill: swapped frames); the caller calls
            :meth:`expire_held` once its reorder window is over. ``None``: the books
            hold nothing, and a gap resyncs at once.
        snapshot_depth: Levels per side a snapshot update carries; ``None`` (the
            default): the whole book, so that a subscriber can rebuild the book from
            the updates (a snapshot replaces it, the others change it).
        book_updates: Publish an update for every applied delta (the default);
            ``False``: only snapshots and state changes (nobody reads the rest, as
            in ``connector replay --summary``; see :class:`BookKeeper`).
    """

    def __init__(
        self,
        adapter: MarketDataAdapter,
        symbols: SymbolMap,
        publish: Publish,
        *,
        on_resync: ResyncRequest | None = None,
        touch: Callable[[tuple[Market, Symbol]], None] | None = None,
        on_hold: Callable[[tuple[Market, Symbol]], None] | None = None,
        snapshot_depth: int | None = None,
        book_updates: bool = True,
    ) -> None:
        self.venue = adapter.name
        self.adapter = adapter
        self.symbols = symbols
        self._publish = publish
        self.on_resync = on_resync
        self._depth = snapshot_depth
        self._book_updates = book_updates
        # One record per followed book, by (market, symbol).
        self._books: dict[tuple[Market, Symbol], FeedBook] = {}
        # The book of the last delta: the next one is most often for it too.
        self._last: FeedBook | None = None
        # Symbols no longer followed (removed at run time): their frames still in
        # flight are skipped, so that no book is made again nor trade published.
        self._dropped: set[Symbol] = set()
        self._topics: dict[tuple[type, Symbol], str] = {}
        self._frames = 0
        self._events = 0
        self._malformed = 0
        self._unknown = 0
        self._control_errors = 0
        self.touch = touch
        self.on_hold = on_hold
        # (observe, now_ns) of the book-age histogram; None: not timed.
        self._book_age: tuple[Callable[[int], None], Callable[[], int]] | None = None
        self._age_every = 0
        self._age_countdown = 0

    def record_book_age(
        self, observe: Callable[[int], None], now_ns: Callable[[], int], *, every: int = 16
    ) -> None:
        """Time one frame in ``every`` of those that published book updates (the first
        one included): ``observe(now_ns() - ts_recv_ns)`` once its updates are
        published. The others cost a countdown; a timed one a clock read, a subtraction
        and ``observe``.

        Args:
            observe: Takes the age in nanoseconds (a latency histogram's ``observe``).
            now_ns: The clock ``ts_recv_ns`` is read from (wall clock, ns).
            every: The sampling interval, in frames with book updates (1: all of them).

        Raises:
            ValueError: ``every`` is below 1.
        """
        if every < 1:
            raise ValueError(f"every: {every!r} is not a number of frames >= 1")
        self._book_age = (observe, now_ns)
        self._age_every = every
        self._age_countdown = 1

    # -- books ---------------------------------------------------------------

    def keeper(self, market: Market, symbol: Symbol) -> BookKeeper:
        """The keeper of one book, created on first use (state ``syncing``)."""
        return self.feed_book(market, symbol).keeper

    def feed_book(self, market: Market, symbol: Symbol) -> FeedBook:
        """The record of one book, created on first use (state ``syncing``)."""
        entry = self._books.get((market, symbol))
        if entry is None:
            keeper = BookKeeper(
                self.venue,
                market,
                symbol,
                self.adapter.new_sequencer(market),
                depth=self.adapter.book_depth(market),
                snapshot_limit=self.adapter.snapshot_limit(market),
                snapshot_depth=self._depth,
                updates=self._book_updates,
                unit=self._base_per_unit(market, symbol),
                reorder=self.on_hold is not None,
            )
            entry = self._books[(market, symbol)] = FeedBook(
                market=market, symbol=symbol, keeper=keeper, topic=self._topic(BookDelta, symbol)
            )
        return entry

    def _base_per_unit(self, market: Market, symbol: Symbol) -> Decimal | None:
        """Base units per unit of the venue's book quantities (OKX linear swaps count
        contracts); ``None`` for an instrument the symbol map does not hold."""
        try:
            return self.symbols.by_symbol(market, symbol).base_per_unit
        except UnknownInstrument:
            return None

    def keepers(self) -> dict[tuple[Market, Symbol], BookKeeper]:
        return {key: entry.keeper for key, entry in self._books.items()}

    def book(self, symbol: Symbol) -> BookKeeper | None:
        """The keeper of ``symbol``'s book (its state, its known levels), or ``None``."""
        for entry in self._books.values():
            if entry.symbol == symbol:
                return entry.keeper
        return None

    def follow(self, symbol: Symbol) -> None:
        """Follow ``symbol`` again after :meth:`drop` (its book is made on first use)."""
        self._dropped.discard(symbol)

    def drop(self, market: Market, symbol: Symbol, reason: str) -> None:
        """Stop following ``symbol``: its book is marked invalid (views held say so;
        the update is published) and forgotten, and its events are skipped until
        :meth:`follow`."""
        self._dropped.add(symbol)
        entry = self._books.pop((market, symbol), None)
        if entry is None:
            return
        if self._last is entry:
            self._last = None
        update = entry.keeper.invalidate(reason)[1]
        if update is not None:
            self._publish(entry.topic, update)
        log.info("book.dropped", venue=self.venue, symbol=str(symbol), reason=reason)

    def on_snapshot(self, snapshot: BookSnapshot) -> None:
        """A snapshot fetched by the session over REST (not a message of the stream:
        ``touch`` is not called; the session restarts the book's staleness window)."""
        if snapshot.symbol in self._dropped:
            return
        key = (snapshot.market, snapshot.symbol)
        entry = self.feed_book(*key)
        self._carry_out(entry, entry.keeper.on_snapshot(snapshot))

    def invalidate(self, reason: str, keys: Iterable[tuple[Market, Symbol]] | None = None) -> None:
        """Mark books invalid (all of them when ``keys`` is None) and resync them."""
        books = self._books
        targets = [books[k] for k in (books if keys is None else keys) if k in books]
        if targets:
            log.info("book.invalidated", venue=self.venue, books=len(targets), reason=reason)
        for entry in targets:
            self._carry_out(entry, entry.keeper.invalidate(reason), logged=True)

    def expire_held(self, key: tuple[Market, Symbol]) -> None:
        """The reorder window of one book is over: a gap still open resyncs it (see
        :meth:`BookKeeper.expire_held`)."""
        entry = self._books.get(key)
        if entry is not None:
            self._carry_out(entry, entry.keeper.expire_held())

    # -- frames --------------------------------------------------------------

    def on_frame(self, raw: str | bytes, market: Market, ts_recv_ns: int) -> str | None:
        """Decode one frame and carry out everything it means. Never raises for bad input.

        Returns:
            The venue's notice that it will soon close this frame's connection
            (Binance ``serverShutdown``, OKX 64008), for its owner to connect
            again now; ``None`` for anything else.
        """
        self._frames += 1
        try:
            events = self.adapter.decode(raw, market, self.symbols, ts_recv_ns)
        except UnknownSymbol as exc:
            # Well-formed, for an instrument we do not follow (an unloaded list,
            # or another session's symbol).
            self._unknown += 1
            log.debug(
                "feed.unknown_symbol",
                venue=self.venue,
                market=market.value,
                native_id=exc.native_id,
            )
            return None
        except MalformedMessage as exc:
            self._malformed += 1
            log.warning(
                "feed.malformed",
                venue=self.venue,
                market=market.value,
                error=str(exc),
                raw=_clip(raw),
            )
            return None
        except ConnectorError as exc:
            self._unknown += 1
            log.info(
                "feed.skipped",
                venue=self.venue,
                market=market.value,
                error=str(exc),
                raw=_clip(raw),
            )
            return None
        self._events += len(events)
        closing: str | None = None
        published = False
        dropped = self._dropped
        for event in events:
            cls = type(event)
            if dropped and cls is not ControlMessage and event.symbol in dropped:  # type: ignore[union-attr]
                continue
            if cls is BookDelta:
                delta: BookDelta = event  # type: ignore[assignment]
                entry = self._last
                if (
                    entry is None
                    or delta.symbol is not entry.symbol
                    or delta.market is not entry.market
                ):
                    entry = self._last = self.feed_book(delta.market, delta.symbol)
                if self.touch is not None:
                    self.touch((delta.market, delta.symbol))
                result = entry.keeper.on_delta(delta)
                if result[0] is _PUBLISH:
                    # Applied and still valid (the common case): publish, nothing to log.
                    if result[1] is not None:
                        self._publish(entry.topic, result[1])
                        published = True
                else:
                    self._carry_out(entry, result)
                    published = published or result[1] is not None
            elif cls is BookSnapshot:
                snap: BookSnapshot = event  # type: ignore[assignment]
                key = (snap.market, snap.symbol)
                if self.touch is not None:
                    self.touch(key)
                entry = self.feed_book(*key)
                result = entry.keeper.on_snapshot(snap)
                self._carry_out(entry, result)
                published = published or result[1] is not None
            elif cls is Trade or cls is Ticker or cls is Quote:
                self._publish(self._topic(cls, event.symbol), event)  # type: ignore[union-attr]
            elif cls is ControlMessage:
                control: ControlMessage = event  # type: ignore[assignment]
                if control.kind == "expired":
                    closing = control.detail
                else:
                    self._control(control)
        if published and (age := self._book_age) is not None:
            self._age_countdown -= 1
            if not self._age_countdown:
                self._age_countdown = self._age_every
                age[0](age[1]() - ts_recv_ns)
        return closing

    def statistics(self) -> FeedStatistics:
        return FeedStatistics(
            venue=self.venue,
            frames=self._frames,
            events=self._events,
            malformed=self._malformed,
            unknown_symbols=self._unknown,
            control_errors=self._control_errors,
        )

    # -- internals -----------------------------------------------------------

    def _carry_out(self, entry: FeedBook, result: KeeperResult, *, logged: bool = False) -> None:
        """Do what the keeper's action says (``logged``: the caller said why already)."""
        action, update = result
        if update is not None:
            self._publish(entry.topic, update)
        if action is KeeperAction.RESYNC and not logged:
            log.warning(
                "book.resync",
                venue=self.venue,
                market=entry.market.value,
                symbol=str(entry.symbol),
                reason=update.state.reason if update is not None else None,
            )
        elif update is not None and (action in _LOG_STATE or action is KeeperAction.RESYNC):
            log.info(
                "book.state",
                venue=self.venue,
                market=entry.market.value,
                symbol=str(entry.symbol),
                state=update.state.status.value,
            )
        if action in _FETCH and self.on_resync is not None:
            self.on_resync(entry.market, self.symbols.by_symbol(entry.market, entry.symbol))
        elif action is KeeperAction.HOLD and self.on_hold is not None:
            self.on_hold((entry.market, entry.symbol))

    def _topic(self, cls: type, symbol: Symbol) -> str:
        topic = self._topics.get((cls, symbol))
        if topic is None:
            topic = self._topics[(cls, symbol)] = f"{_TOPIC_KIND[cls]}.{self.venue}.{symbol}"
        return topic

    def _control(self, message: ControlMessage) -> None:
        if message.ok:
            log.debug("feed.control", venue=self.venue, kind=message.kind, detail=message.detail)
        else:
            self._control_errors += 1
            log.warning(
                "feed.venue_error",
                venue=self.venue,
                kind=message.kind,
                detail=message.detail,
                request_id=message.request_id,
            )


_TOPIC_KIND: dict[type, str] = {
    BookDelta: "orderbook",
    BookSnapshot: "orderbook",
    Trade: "trade",
    Ticker: "ticker",
    Quote: "quote",
}


def _clip(raw: str | bytes) -> str:
    text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    return text if len(text) <= _RAW_LOG_LIMIT else text[:_RAW_LOG_LIMIT] + "..."
