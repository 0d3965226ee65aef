"""A venue's market-data feed: frames in, bus events out, one keeper per book.

Runs inside the connection task (design.md section 5: parse, sequence, apply and
publish in one task, no channel hop) and inside ``connector replay``, which is
why it does no I/O itself: it publishes through a callable and asks for
snapshots through another. Bad input from the venue is logged with the raw
frame, counted, and skipped; it never raises out of :meth:`VenueFeed.on_frame`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs
import structlog

from connector.book.keeper import BookKeeper, KeeperResult
from connector.book.orderbook import OrderBook
from connector.book.sequencing import APPLY, BUFFER, Drop
from connector.errors import ConnectorError, MalformedMessage, UnknownSymbol
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

__all__ = ["FeedStatistics", "VenueFeed"]

log = structlog.get_logger(__name__)

Publish = Callable[[str, object], None]
ResyncRequest = Callable[[Market, Instrument], None]

_RAW_LOG_LIMIT = 500


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
        snapshot_depth: Levels a snapshot update carries (``None``: all).
    """

    def __init__(
        self,
        adapter: MarketDataAdapter,
        symbols: SymbolMap,
        publish: Publish,
        *,
        on_resync: ResyncRequest | None = None,
        snapshot_depth: int | None = 50,
    ) -> None:
        self.venue = adapter.name
        self.adapter = adapter
        self.symbols = symbols
        self._publish = publish
        self.on_resync = on_resync
        self._depth = snapshot_depth
        self._keepers: dict[tuple[Market, Symbol], BookKeeper] = {}
        self._topics: dict[tuple[type, Symbol], str] = {}
        # Hot path: (market, symbol) -> (keeper, topic); one entry per followed book.
        self._books: dict[tuple[Market, Symbol], tuple[BookKeeper, str]] = {}
        self._frames = 0
        self._events = 0
        self._malformed = 0
        self._unknown = 0
        self._control_errors = 0
        self.touch: Callable[[tuple[Market, Symbol]], None] | None = None

    # -- books ---------------------------------------------------------------

    def keeper(self, market: Market, symbol: Symbol) -> BookKeeper:
        """The keeper of one book, created on first use (state ``syncing``)."""
        key = (market, symbol)
        keeper = self._keepers.get(key)
        if keeper is None:
            keeper = BookKeeper(
                self.venue,
                market,
                symbol,
                self.adapter.new_sequencer(market),
                depth=self.adapter.book_depth(market),
                snapshot_depth=self._depth,
            )
            self._keepers[key] = keeper
        return keeper

    def keepers(self) -> dict[tuple[Market, Symbol], BookKeeper]:
        return dict(self._keepers)

    def book(self, symbol: Symbol) -> tuple[OrderBook, BookState] | None:
        for (_, sym), keeper in self._keepers.items():
            if sym == symbol:
                return keeper.book, keeper.state
        return None

    def on_snapshot(self, snapshot: BookSnapshot) -> None:
        """A snapshot fetched by the session (Binance REST).

        Like a snapshot over the socket, it restarts the book's staleness window
        (``touch``): the watchdog reports a silent book once and re-arms only on
        a touch, so a book made valid again by REST while its stream stays
        silent (a stalled gateway) would otherwise never be reported stale
        again and would stay "valid" while the venue's book moves on.
        """
        key = (snapshot.market, snapshot.symbol)
        if self.touch is not None:
            self.touch(key)
        self._book_result(snapshot.market, snapshot.symbol, self.keeper(*key).on_snapshot(snapshot))

    def invalidate(self, reason: str, keys: Iterable[tuple[Market, Symbol]] | None = None) -> None:
        """Mark books invalid (all of them when ``keys`` is None) and resync them."""
        targets = [k for k in (self._keepers if keys is None else keys) if k in self._keepers]
        if targets:
            log.info("book.invalidated", venue=self.venue, books=len(targets), reason=reason)
        for market, symbol in targets:
            result = self._keepers[(market, symbol)].invalidate(reason)
            self._book_result(market, symbol, result, logged=True)

    # -- frames --------------------------------------------------------------

    def on_frame(self, raw: str | bytes, market: Market, ts_recv_ns: int) -> None:
        """Decode one frame and carry out everything it means. Never raises for bad input."""
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
            return
        except MalformedMessage as exc:
            self._malformed += 1
            log.warning(
                "feed.malformed",
                venue=self.venue,
                market=market.value,
                error=str(exc),
                raw=_clip(raw),
            )
            return
        except ConnectorError as exc:
            self._unknown += 1
            log.info(
                "feed.skipped",
                venue=self.venue,
                market=market.value,
                error=str(exc),
                raw=_clip(raw),
            )
            return
        for event in events:
            self._events += 1
            cls = type(event)
            if cls is BookDelta:
                delta: BookDelta = event  # type: ignore[assignment]
                key = (delta.market, delta.symbol)
                book = self._books.get(key) or self._book(*key)
                if self.touch is not None:
                    self.touch(key)
                result = book[0].on_delta(delta)
                update = result.update
                if (
                    update is not None
                    and result.decision is APPLY
                    and not result.need_snapshot
                    and not result.state_changed
                ):
                    # Applied and still valid (the common case): publish, nothing to log.
                    self._publish(book[1], update)
                else:
                    self._book_result(delta.market, delta.symbol, result)
            elif cls is BookSnapshot:
                snap: BookSnapshot = event  # type: ignore[assignment]
                key = (snap.market, snap.symbol)
                if self.touch is not None:
                    self.touch(key)
                self._book_result(snap.market, snap.symbol, self.keeper(*key).on_snapshot(snap))
            elif cls is Trade or cls is Ticker or cls is Quote:
                self._publish(self._topic(cls, event.symbol), event)  # type: ignore[union-attr]
            elif cls is ControlMessage:
                self._control(event)  # type: ignore[arg-type]

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

    def _book(self, market: Market, symbol: Symbol) -> tuple[BookKeeper, str]:
        entry = self._books[(market, symbol)] = (
            self.keeper(market, symbol),
            self._topic(BookDelta, symbol),
        )
        return entry

    def _book_result(
        self, market: Market, symbol: Symbol, result: KeeperResult, *, logged: bool = False
    ) -> None:
        update, state_changed, need_snapshot, decision = result
        if update is not None:
            self._publish(self._topic(BookDelta, symbol), update)
        resync = decision is not APPLY and decision is not BUFFER and type(decision) is not Drop
        if resync and not logged:  # ``logged``: the caller said why already
            log.warning(
                "book.resync",
                venue=self.venue,
                market=market.value,
                symbol=str(symbol),
                reason=getattr(decision, "reason", str(decision)),
            )
        elif state_changed and update is not None:
            log.info(
                "book.state",
                venue=self.venue,
                market=market.value,
                symbol=str(symbol),
                state=update.state.status.value,
            )
        if need_snapshot and self.on_resync is not None:
            self.on_resync(market, self.symbols.by_symbol(market, symbol))

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
