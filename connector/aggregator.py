"""Cross-venue views: consolidated best bid/offer and depth per canonical symbol.

The aggregator follows ``orderbook.>`` through a bus :class:`~connector.bus.Listener`:
each :class:`~connector.model.BookUpdate` is noted inside its publish (the venue's
best bid and ask, and when the book was last valid), and no task is woken for it,
so a user's subscriber of the same update is not queued behind the aggregator.
The consolidated views of the symbols that changed are computed once per
scheduling batch (conflated: only the newest update per book matters), in the
aggregator's task, and only while someone subscribes to that symbol's
``consolidated.bbo.{symbol}`` or ``consolidated.book.{symbol}``; that task lets
the tasks woken by the same publish run first. :meth:`Aggregator.quote`
computes a changed symbol's view when read. The consolidated depth reads the live
books, and is built only when asked (:meth:`Aggregator.book`) or for a subscriber
of ``consolidated.book.{symbol}``. A book counts while it is valid and has
updated within ``stale_after`` seconds; a book that goes quiet drops out at its
deadline even if nothing else happens.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import structlog
import trio

from connector.book.view import levels
from connector.bus import Bus
from connector.model import (
    BookLevel,
    BookState,
    BookUpdate,
    ConsolidatedBook,
    ConsolidatedQuote,
    Symbol,
    VenueLevel,
)

__all__ = ["Aggregator", "BookSource", "LiveBook"]

log = structlog.get_logger(__name__)


class LiveBook(Protocol):
    """A live book as the aggregator reads it (a :class:`~connector.book.keeper.BookKeeper`)."""

    @property
    def state(self) -> BookState: ...

    def bids(self, n: int | None = None) -> list[BookLevel]: ...

    def asks(self, n: int | None = None) -> list[BookLevel]: ...


BookSource = Callable[[str, Symbol], LiveBook | None]
"""``(venue, symbol) ->`` a live book (its state and known levels), or ``None``."""


class Aggregator:
    """Service: publishes ``consolidated.bbo.{symbol}`` and ``consolidated.book.{symbol}``.

    Args:
        bus: Where book updates arrive and consolidated views go.
        books: Reads a venue's live book.
        depth: Levels per venue merged into the consolidated book.
        stale_after: Seconds without an update after which a book is ignored.
    """

    def __init__(
        self, bus: Bus, books: BookSource, *, depth: int = 10, stale_after: float = 5.0
    ) -> None:
        self._bus = bus
        self._books = books
        self._depth = depth
        self._stale_after = stale_after
        self._seen: dict[Symbol, dict[str, float]] = {}
        # symbol -> venue -> (best bid, best ask) of the venue's latest valid update.
        self._tops: dict[Symbol, dict[str, tuple[BookLevel | None, BookLevel | None]]] = {}
        self._quotes: dict[Symbol, ConsolidatedQuote] = {}
        # Symbols updated since their views were last computed.
        self._dirty: set[Symbol] = set()
        # symbol -> (consolidated.bbo.{symbol}, consolidated.book.{symbol})
        self._topics: dict[Symbol, tuple[str, str]] = {}
        self._wake = trio.Event()
        self._ended = False
        self._first_seen = trio.Event()

    def quote(self, symbol: Symbol) -> ConsolidatedQuote | None:
        """The consolidated best bid/offer of ``symbol`` as of its last book update."""
        if symbol in self._dirty:
            self._refresh(symbol)
        return self._quotes.get(symbol)

    def book(self, symbol: Symbol, depth: int | None = None) -> ConsolidatedBook:
        """The consolidated book of ``symbol`` now (top ``depth`` levels per venue)."""
        venues = self._fresh(symbol, trio.current_time())
        n = self._depth if depth is None else levels(depth)
        bids, asks = [], []
        for venue in venues:
            keeper = self._books(venue, symbol)
            if keeper is None or not keeper.state.valid:
                continue
            bids.append([VenueLevel(venue, lv.price, lv.qty) for lv in keeper.bids(n)])
            asks.append([VenueLevel(venue, lv.price, lv.qty) for lv in keeper.asks(n)])
        now = time.time_ns()
        return ConsolidatedBook(
            symbol=symbol,
            bids=tuple(heapq.merge(*bids, key=lambda lv: -lv.price)),
            asks=tuple(heapq.merge(*asks, key=lambda lv: lv.price)),
            venues=tuple(venues),
            ts_event_ns=now,
            ts_recv_ns=now,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._ended = False
        self._wake = trio.Event()
        with self._bus.listen("orderbook.>", self._on_book, on_close=self._on_bus_closed):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._expire_at_deadlines)
                task_status.started()
                await self._publish_changes()
                nursery.cancel_scope.cancel()
        # The bus closed: end as a plain EndOfChannel, as a subscriber's loop does.
        raise trio.EndOfChannel("the bus is closed")

    def _on_book(self, topic: str, event: object) -> None:
        """The bus listener: note one book update; wake the task if someone reads its views."""
        if type(event) is not BookUpdate:
            return
        self._note(event)
        symbol = event.symbol
        self._dirty.add(symbol)
        if not self._wake.is_set():
            bbo, book = self._topics_of(symbol)
            if self._bus.has_subscribers(bbo) or self._bus.has_subscribers(book):
                self._wake.set()

    def _on_bus_closed(self) -> None:
        self._ended = True
        self._wake.set()

    async def _publish_changes(self) -> None:
        """Publish the changed symbols' views once per wake; return when the bus closes."""
        while True:
            await self._wake.wait()
            # The publish that woke this task woke the update's subscribers too: they
            # run first, and the updates of the rest of this batch are noted meanwhile.
            await trio.lowlevel.cancel_shielded_checkpoint()
            if self._ended:
                return
            self._wake = trio.Event()
            for symbol in list(self._dirty):
                self._refresh(symbol)

    async def _expire_at_deadlines(self) -> None:
        """Drop books that went quiet, at their deadline, even if nothing else arrives.

        Updates only move a book's deadline later, so sleeping until the earliest
        deadline computed now never misses one; a first book wakes the sleeper.
        """
        while True:
            deadline = self._next_deadline()
            if deadline == float("inf"):
                await self._first_seen.wait()
                self._first_seen = trio.Event()
                continue
            await trio.sleep_until(deadline)
            for symbol in list(self._expire(trio.current_time())):
                self._refresh(symbol)

    # -- internals -----------------------------------------------------------

    def _topics_of(self, symbol: Symbol) -> tuple[str, str]:
        """``(consolidated.bbo.{symbol}, consolidated.book.{symbol})``, made once per symbol."""
        topics = self._topics.get(symbol)
        if topics is None:
            topics = self._topics[symbol] = (
                f"consolidated.bbo.{symbol}",
                f"consolidated.book.{symbol}",
            )
        return topics

    def _note(self, update: BookUpdate) -> None:
        seen = self._seen.setdefault(update.symbol, {})
        tops = self._tops.setdefault(update.symbol, {})
        if update.state.valid:
            if not seen:
                self._first_seen.set()  # the deadline watcher may be waiting for any book
            seen[update.venue] = trio.current_time()
            tops[update.venue] = (update.best_bid, update.best_ask)
        else:
            seen.pop(update.venue, None)
            tops.pop(update.venue, None)

    def _fresh(self, symbol: Symbol, now: float) -> list[str]:
        seen = self._seen.get(symbol, {})
        return sorted(v for v, t in seen.items() if now - t < self._stale_after)

    def _next_deadline(self) -> float:
        times = [t for seen in self._seen.values() for t in seen.values()]
        return min(times) + self._stale_after if times else float("inf")

    def _expire(self, now: float) -> Iterable[Symbol]:
        for symbol, seen in self._seen.items():
            stale = [v for v, t in seen.items() if now - t >= self._stale_after]
            for venue in stale:
                log.info("aggregator.stale_book", venue=venue, symbol=str(symbol))
                del seen[venue]
                self._tops.get(symbol, {}).pop(venue, None)
            if stale:
                yield symbol

    def _refresh(self, symbol: Symbol) -> None:
        """Compute ``symbol``'s views; publish the quote if it changed, the depth if read."""
        self._dirty.discard(symbol)
        venues = self._fresh(symbol, trio.current_time())
        tops = self._tops.get(symbol, {})
        bid: tuple[str, BookLevel] | None = None
        ask: tuple[str, BookLevel] | None = None
        for venue in venues:  # sorted: on equal prices the first venue stays
            venue_bid, venue_ask = tops.get(venue, (None, None))
            if venue_bid is not None and (bid is None or venue_bid.price > bid[1].price):
                bid = (venue, venue_bid)
            if venue_ask is not None and (ask is None or venue_ask.price < ask[1].price):
                ask = (venue, venue_ask)
        best_bid = None if bid is None else VenueLevel(bid[0], bid[1].price, bid[1].qty)
        best_ask = None if ask is None else VenueLevel(ask[0], ask[1].price, ask[1].qty)
        fresh = tuple(venues)
        old = self._quotes.get(symbol)
        if old is None or (old.bid, old.ask, old.venues) != (best_bid, best_ask, fresh):
            now = time.time_ns()
            quote = ConsolidatedQuote(
                symbol=symbol,
                bid=best_bid,
                ask=best_ask,
                venues=fresh,
                ts_event_ns=now,
                ts_recv_ns=now,
            )
            self._quotes[symbol] = quote
            self._bus.publish(self._topics_of(symbol)[0], quote)
        topic = self._topics_of(symbol)[1]
        if self._bus.has_subscribers(topic):  # depth is built only for someone who reads it
            self._bus.publish(topic, self.book(symbol))
