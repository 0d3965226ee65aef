"""Market-data values: tickers, trades, book levels, snapshots, deltas, book state.

Every event carries ``ts_event_ns`` (the venue's time, 0 when the venue sends none)
and ``ts_recv_ns`` (our receive time), both int nanoseconds since the epoch.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar, NamedTuple

import attrs
import msgspec

from connector.model.instrument import Market
from connector.model.symbols import Symbol
from connector.model.trading import Side

__all__ = [
    "BookDelta",
    "BookLevel",
    "BookSnapshot",
    "BookState",
    "BookStatus",
    "BookUpdate",
    "ConnectionEvent",
    "ConnectionStatus",
    "ConsolidatedBook",
    "ConsolidatedQuote",
    "Quote",
    "Ticker",
    "Trade",
    "VenueLevel",
]


class BookLevel(NamedTuple):
    """One price level: ``qty == 0`` in a delta removes the level.

    A named tuple rather than an attrs class: books create millions of these.
    """

    price: Decimal
    qty: Decimal


class BookStatus(enum.StrEnum):
    """Where a book is in ``syncing -> valid -> invalid(reason) -> syncing``."""

    SYNCING = "syncing"
    VALID = "valid"
    INVALID = "invalid"


@attrs.frozen
class BookState:
    """A book's status, with the reason when it is invalid (or why it is syncing)."""

    VALID: ClassVar[BookState]

    status: BookStatus
    reason: str | None = None

    @property
    def valid(self) -> bool:
        return self.status is BookStatus.VALID

    @classmethod
    def syncing(cls, reason: str | None = None) -> BookState:
        return cls(BookStatus.SYNCING, reason)

    @classmethod
    def invalid(cls, reason: str) -> BookState:
        return cls(BookStatus.INVALID, reason)


BookState.VALID = BookState(BookStatus.VALID)


@attrs.frozen(kw_only=True)
class BookSnapshot:
    """A full book from the venue (REST snapshot or websocket snapshot message).

    Attributes:
        seq: The venue's update id of this book state (Binance ``lastUpdateId``,
            Bybit ``u``, OKX ``seqId``; 0 when the venue sends none).
        prev_seq: OKX ``prevSeqId`` (-1 on snapshots); ``None`` elsewhere.
        checksum: OKX CRC32 of the top 25 levels; 0 or ``None`` means not sent.
        bids: Best first (highest price first).
        asks: Best first (lowest price first).
    """

    venue: str
    market: Market
    symbol: Symbol
    seq: int
    bids: Sequence[BookLevel]
    asks: Sequence[BookLevel]
    prev_seq: int | None = None
    checksum: int | None = None
    ts_event_ns: int = 0
    ts_recv_ns: int = 0


class BookDelta(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Changed levels from the venue; ``qty == 0`` removes a level.

    A frozen ``msgspec.Struct`` rather than an attrs class, as :class:`BookUpdate`:
    one is built per book message on the hot path, and building a Struct costs
    about 0.9 µs less (docs/benchmarks.md, replay). It behaves as a frozen
    value (immutable, compared and hashed by fields, keyword-only);
    ``msgspec.structs.replace`` changes a copy.

    Attributes:
        first_seq: Binance ``U`` (first update id in the event); equals ``seq`` elsewhere.
        seq: Binance ``u``, Bybit ``u``, OKX ``seqId``.
        prev_seq: Binance USDⓈ-M ``pu``, OKX ``prevSeqId``; ``None`` where not sent.
        checksum: OKX CRC32 of the top 25 levels after applying; 0/None: not sent.
    """

    venue: str
    market: Market
    symbol: Symbol
    first_seq: int
    seq: int
    bids: Sequence[BookLevel]
    asks: Sequence[BookLevel]
    prev_seq: int | None = None
    checksum: int | None = None
    ts_event_ns: int = 0
    ts_recv_ns: int = 0


class BookUpdate(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What ``orderbook.{venue}.{symbol}`` carries after every applied change.

    A frozen ``msgspec.Struct`` (see :class:`BookDelta` for why).

    A subscriber rebuilds the book from the updates: a ``snapshot`` update replaces
    it (no levels when the state is not valid: the book is gone until the next
    snapshot), any other sets each level it carries (qty 0: removes it). Where the
    deltas cover the whole book and the snapshot only its top (Binance, with its
    ``book_depth`` limit), the rebuilt book holds what the connector's does: below
    the snapshot's last level only the levels a delta named since, which
    ``Connector.order_book`` shows only once the top has moved past that level.

    Attributes:
        seq: The venue's update id after this change.
        state: The book's state; consumers never see ``valid`` on a wrong book.
        bids: The levels that changed (qty 0: removed), or the whole side, every level
            the book holds, if ``snapshot``.
        asks: Likewise.
        best_bid: Top of book after the change, ``None`` when the side is empty.
        best_ask: Likewise.
        snapshot: True when the update carries the whole book (a snapshot was
            loaded, or held deltas were applied together): replace the book
            rather than change it.
    """

    venue: str
    market: Market
    symbol: Symbol
    seq: int
    state: BookState
    bids: Sequence[BookLevel] = ()
    asks: Sequence[BookLevel] = ()
    best_bid: BookLevel | None = None
    best_ask: BookLevel | None = None
    snapshot: bool = False
    ts_event_ns: int = 0
    ts_recv_ns: int = 0


@attrs.frozen(kw_only=True)
class Ticker:
    """Rolling 24-hour statistics and last price; fields the venue omits are ``None``."""

    venue: str
    market: Market
    symbol: Symbol
    last: Decimal | None = None
    bid: Decimal | None = None
    bid_qty: Decimal | None = None
    ask: Decimal | None = None
    ask_qty: Decimal | None = None
    open_24h: Decimal | None = None
    high_24h: Decimal | None = None
    low_24h: Decimal | None = None
    volume_24h: Decimal | None = None
    quote_volume_24h: Decimal | None = None
    ts_event_ns: int = 0
    ts_recv_ns: int = 0


@attrs.frozen(kw_only=True)
class Quote:
    """Best bid and offer as the venue streams it (bookTicker, bbo-tbt, orderbook.1)."""

    venue: str
    market: Market
    symbol: Symbol
    bid: Decimal | None
    bid_qty: Decimal | None
    ask: Decimal | None
    ask_qty: Decimal | None
    seq: int | None = None
    ts_event_ns: int = 0
    ts_recv_ns: int = 0


@attrs.frozen(kw_only=True)
class Trade:
    """A public trade. ``aggressor`` is the taker's side when the venue tells it."""

    venue: str
    market: Market
    symbol: Symbol
    trade_id: str
    price: Decimal
    qty: Decimal
    aggressor: Side | None
    ts_event_ns: int = 0
    ts_recv_ns: int = 0


class ConnectionStatus(enum.StrEnum):
    """A websocket connection's lifecycle, as published on ``connection.{venue}``."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class HealthStatus(enum.StrEnum):
    """A venue's overall health, as published on ``health.{venue}`` (the rule that
    decides it is ``connector.health.breaker.venue_status``)."""

    HEALTHY = "healthy"
    """Everything works: breaker closed, every websocket up, the event store writing."""
    DEGRADED = "degraded"
    """The venue works in part: breaker half-open, some websockets down, or the event
    store not writing."""
    DOWN = "down"
    """Orders are refused (breaker open) or no websocket of the venue is up."""


@attrs.frozen(kw_only=True)
class ConnectionEvent:
    """A connection changed state; ``reason`` says why it went down.

    ``planned``: it went down on purpose, to be replaced (the venue announced its
    close, a listenKey was renewed): not a failure of the venue.
    """

    venue: str
    conn_id: str
    status: ConnectionStatus
    reason: str | None = None
    planned: bool = False
    ts_event_ns: int = 0
    ts_recv_ns: int = 0


class VenueLevel(NamedTuple):
    """A price level of a consolidated book, with the venue that shows it."""

    venue: str
    price: Decimal
    qty: Decimal


@attrs.frozen(kw_only=True)
class ConsolidatedQuote:
    """Best bid and ask across venues (``consolidated.bbo.{symbol}``).

    Only books that are valid and fresh count; ``venues`` names them.
    """

    symbol: Symbol
    bid: VenueLevel | None
    ask: VenueLevel | None
    venues: tuple[str, ...]
    ts_event_ns: int = 0
    ts_recv_ns: int = 0


@attrs.frozen(kw_only=True)
class ConsolidatedBook:
    """Top levels of every valid, fresh book of a symbol, merged, best first
    (``consolidated.book.{symbol}``). Equal prices on two venues are two levels."""

    symbol: Symbol
    bids: tuple[VenueLevel, ...]
    asks: tuple[VenueLevel, ...]
    venues: tuple[str, ...]
    ts_event_ns: int = 0
    ts_recv_ns: int = 0
