"""A client-side L2 order book: sorted price levels with exact Decimal prices.

Pure logic (sans-I/O): no trio, no clock. One :class:`OrderBook` per venue symbol,
owned by a :class:`~connector.book.keeper.BookKeeper`.

Where prices become Decimal (the hot path): venues send prices and quantities as
decimal strings. Building a ``Decimal`` and hashing it for the first time costs far
more than a dict lookup, and the same price strings come back in message after
message, so :func:`decimal_price` and :func:`decimal_qty` intern them through a
bounded two-generation cache: new strings go into the young generation; when it
holds :data:`DECIMAL_CACHE_SIZE` entries it becomes the old generation (the
previous old one is dropped) and a new young one starts; a string found only in
the old generation is moved back into the young one. Strings still in use (the
prices near the top of the book, the common quantities) therefore stay cached,
the ones a random walk of the price left behind are forgotten after two
generations, and each cache holds at most ``2 * DECIMAL_CACHE_SIZE`` entries.
:func:`decimal_cache_statistics` reports their size. A cached Decimal's hash is
computed once and reused by every book dict lookup. Parsers call
:func:`levels_from_raw` to turn the venue's ``[["price", "qty"], ...]`` into
validated :class:`BookLevel` tuples once; the book and the published
:class:`~connector.model.BookUpdate` share those objects.

Ordering: each side is a dict ``price -> qty``, a binary heap that finds the best
price, and an ascending list of the prices that is brought up to date only when
a depth view (:meth:`OrderBook.bids`, :meth:`OrderBook.asks`, a depth limit)
reads it. Updating the quantity of an existing level is a dict store; inserting
a level also pushes it onto the heap; removing one is a dict delete (the heap
forgets it lazily). A stream of deltas whose consumers only read the top of the
book (the common case) therefore never pays for keeping every price sorted.
Keys are the Decimals themselves, so ordering is exact for any decimal text the
venue sends (``"1e-5"`` sorts below ``"0.00001234"``, and ``"61800.2"`` and
``"61800.20"`` are the same level; venues send plain decimal text, exponent
notation is accepted too). Floats never appear.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from heapq import heapify, heappop, heappush

import attrs

from connector.model import BookLevel

__all__ = [
    "DECIMAL_CACHE_SIZE",
    "DecimalCacheStatistics",
    "OrderBook",
    "RawLevel",
    "decimal_cache_statistics",
    "decimal_price",
    "decimal_qty",
    "levels_from_raw",
]

RawLevel = tuple[str, str]
"""A level as the venue sends it: ``(price text, qty text)``."""

DECIMAL_CACHE_SIZE = 32_768
"""Entries in the young generation of each interning cache before it becomes the old one.

Each cache (prices, quantities) holds at most twice this many entries.
"""

_new_level = tuple.__new__

_HEAP_SLACK = 64
"""Stale heap entries tolerated beyond twice the live levels before a rebuild."""

_PENDING_SLACK = 4096
"""Pending price changes tolerated beyond the book's size before the sorted list is dropped."""


# Young generations: the hot path reads these module globals directly, so a
# generation change rebinds them (never clears them in place).
_PRICES: dict[str, Decimal] = {}
_QTYS: dict[str, Decimal] = {}
_OLD_PRICES: dict[str, Decimal] = {}
_OLD_QTYS: dict[str, Decimal] = {}
_generations = [0, 0]
"""Generation changes so far: ``[prices, quantities]``."""


@attrs.frozen(kw_only=True)
class DecimalCacheStatistics:
    """A snapshot of the price and quantity interning caches.

    Attributes:
        prices: Entries of the price cache now (both generations; a string
            moved back into the young generation is counted in both).
        qtys: Entries of the quantity cache now (likewise).
        limit: Most entries either cache can hold (``2 * DECIMAL_CACHE_SIZE``).
        price_generations: Times the price cache started a new generation.
        qty_generations: Times the quantity cache started a new generation.
    """

    prices: int
    qtys: int
    limit: int
    price_generations: int
    qty_generations: int


def decimal_cache_statistics() -> DecimalCacheStatistics:
    """A frozen snapshot of the interning caches' sizes."""
    return DecimalCacheStatistics(
        prices=len(_PRICES) + len(_OLD_PRICES),
        qtys=len(_QTYS) + len(_OLD_QTYS),
        limit=2 * DECIMAL_CACHE_SIZE,
        price_generations=_generations[0],
        qty_generations=_generations[1],
    )


def _parse(text: str, *, positive: bool) -> Decimal:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"not a decimal number: {text!r}") from None
    if not value.is_finite() or value.is_signed():
        raise ValueError(f"not a finite non-negative number: {text!r}")
    if positive and not value:
        raise ValueError(f"price must be positive: {text!r}")
    return value


def _intern_price(text: str) -> Decimal:
    """A price missing from the young generation: promote it from the old one or parse it."""
    global _PRICES, _OLD_PRICES
    value = _OLD_PRICES.get(text)
    if value is None:
        value = _parse(text, positive=True)
    if len(_PRICES) >= DECIMAL_CACHE_SIZE:
        _OLD_PRICES = _PRICES
        _PRICES = {}
        _generations[0] += 1
    _PRICES[text] = value
    return value


def _intern_qty(text: str) -> Decimal:
    """A quantity missing from the young generation: promote it from the old one or parse it."""
    global _QTYS, _OLD_QTYS
    value = _OLD_QTYS.get(text)
    if value is None:
        value = _parse(text, positive=False)
    if len(_QTYS) >= DECIMAL_CACHE_SIZE:
        _OLD_QTYS = _QTYS
        _QTYS = {}
        _generations[1] += 1
    _QTYS[text] = value
    return value


def decimal_price(text: str) -> Decimal:
    """The interned Decimal for a venue price string.

    Raises:
        ValueError: ``text`` is not a finite, strictly positive decimal number.
    """
    value = _PRICES.get(text)
    return value if value is not None else _intern_price(text)


def decimal_qty(text: str) -> Decimal:
    """The interned Decimal for a venue quantity string (zero allowed).

    Raises:
        ValueError: ``text`` is not a finite, non-negative decimal number.
    """
    value = _QTYS.get(text)
    return value if value is not None else _intern_qty(text)


def levels_from_raw(pairs: Sequence[Sequence[str]]) -> tuple[BookLevel, ...]:
    """Convert the venue's ``[[price, qty], ...]`` strings into validated levels.

    Only the first two elements of each level are read (OKX sends four).

    Raises:
        ValueError: a price that is not strictly positive, a qty that is negative,
            or text that is not a finite decimal number; nothing is returned then.
    """
    prices = _PRICES
    qtys = _QTYS
    try:
        # Hot path: plain dict subscripts (specialized by the interpreter) when
        # every string was seen before and levels have exactly two elements.
        return tuple([_new_level(BookLevel, (prices[p], qtys[q])) for p, q in pairs])
    except (KeyError, ValueError):
        pass
    try:
        # Levels with more than two elements (OKX), strings all seen before.
        return tuple([_new_level(BookLevel, (prices[lv[0]], qtys[lv[1]])) for lv in pairs])
    except KeyError:
        pass
    return tuple(
        [_new_level(BookLevel, (decimal_price(lv[0]), decimal_qty(lv[1]))) for lv in pairs]
    )


class _Side:
    """One side: ``price -> qty``, a heap for the best price, lazily sorted prices.

    The hot path (apply a delta, read the best level) touches only the dict, the
    heap and a list of touched prices: an insert pushes onto the heap (O(log n),
    usually O(1)); a removal is a dict delete, and its stale heap entry is popped
    when it reaches the top (the heap is rebuilt once it holds more than twice
    the live levels plus :data:`_HEAP_SLACK` entries). The ascending price list
    that depth views read is brought up to date only when a view asks for it:
    the prices inserted or removed since the last view wait in ``pending``
    (past ``len(keys) // 8 + 64`` entries the next view rebuilds the list in one
    pass instead of one bisection per price; when no view comes, ``pending`` is
    bounded by the live levels plus the sorted list plus :data:`_PENDING_SLACK`:
    past that the sorted list is dropped and rebuilt by the next view).

    Invariants: every price in ``levels`` is in ``keys`` or in ``pending``;
    every price in ``keys`` that is not in ``levels`` is in ``pending``; every
    price in ``levels`` has an entry in the heap.
    """

    __slots__ = ("ask_heap", "bid", "bid_heap", "keys", "levels", "pending")

    def __init__(self, *, bid: bool) -> None:
        self.bid = bid
        self.levels: dict[Decimal, Decimal] = {}
        self.keys: list[Decimal] = []
        self.pending: list[Decimal] = []
        # Min-heaps: asks hold the prices, bids (negated price, price) pairs.
        self.ask_heap: list[Decimal] = []
        self.bid_heap: list[tuple[Decimal, Decimal]] = []

    def load(self, levels: Iterable[BookLevel]) -> None:
        fresh: dict[Decimal, Decimal] = {}
        for price, qty in levels:
            if qty:
                fresh[price] = qty
            else:
                fresh.pop(price, None)
        self.levels = fresh
        self.keys = sorted(fresh)
        self.pending = []
        self._rebuild_heap()

    def _rebuild_heap(self) -> None:
        if self.bid:
            self.bid_heap = [(p.copy_negate(), p) for p in self.levels]
            heapify(self.bid_heap)
        else:
            self.ask_heap = list(self.levels)
            heapify(self.ask_heap)

    def apply(self, levels: Iterable[BookLevel]) -> None:
        book = self.levels
        pending = self.pending
        if self.bid:
            bid_heap = self.bid_heap
            for price, qty in levels:
                if qty:
                    if price not in book:
                        pending.append(price)
                        heappush(bid_heap, (price.copy_negate(), price))
                    book[price] = qty
                elif price in book:
                    del book[price]
                    pending.append(price)
            if len(bid_heap) > 2 * len(book) + _HEAP_SLACK:
                self._rebuild_heap()
        else:
            ask_heap = self.ask_heap
            for price, qty in levels:
                if qty:
                    if price not in book:
                        pending.append(price)
                        heappush(ask_heap, price)
                    book[price] = qty
                elif price in book:
                    del book[price]
                    pending.append(price)
            if len(ask_heap) > 2 * len(book) + _HEAP_SLACK:
                self._rebuild_heap()
        if len(pending) > len(book) + len(self.keys) + _PENDING_SLACK:
            # Nobody reads depth views: forget the order instead of queueing forever.
            self.keys = []
            self.pending = list(book)

    def best(self) -> Decimal | None:
        """The best price (highest bid, lowest ask), or ``None`` when empty."""
        book = self.levels
        if self.bid:
            bid_heap = self.bid_heap
            while bid_heap:
                price = bid_heap[0][1]
                if price in book:
                    return price
                heappop(bid_heap)
        else:
            ask_heap = self.ask_heap
            while ask_heap:
                price = ask_heap[0]
                if price in book:
                    return price
                heappop(ask_heap)
        return None

    def sorted_keys(self) -> list[Decimal]:
        """Every price, ascending (merges the pending inserts and removals first)."""
        pending = self.pending
        if not pending:
            return self.keys
        keys = self.keys
        levels = self.levels
        if len(pending) <= (len(keys) >> 3) + 64:
            for price in pending:
                i = bisect_left(keys, price)
                there = i < len(keys) and keys[i] == price
                if price in levels:
                    if not there:
                        keys.insert(i, price)
                elif there:
                    del keys[i]
        else:
            kept = [p for p in keys if p in levels]
            known = set(kept)
            kept.extend({p for p in pending if p in levels and p not in known})
            kept.sort()  # two sorted runs (after sorting the new ones): a merge
            self.keys = keys = kept
        self.pending = []
        return keys

    def trim(self, limit: int, *, low: bool) -> None:
        """Keep the best ``limit`` prices (``low``: drop from the low end)."""
        keys = self.sorted_keys()
        extra = len(keys) - limit
        if extra <= 0:
            return
        levels = self.levels
        if low:
            for price in keys[:extra]:
                del levels[price]
            del keys[:extra]
        else:
            for price in keys[limit:]:
                del levels[price]
            del keys[limit:]

    def clear(self) -> None:
        self.levels = {}
        self.keys = []
        self.pending = []
        self.ask_heap = []
        self.bid_heap = []


class OrderBook:
    """An L2 book: exact Decimal levels, O(log n) changes, best-first views.

    Identity equality (no ``__eq__``): compare ``bids()`` and ``asks()`` lists.

    Args:
        depth_limit: Keep at most this many levels per side, dropping the far ones
            after every snapshot and change. Only right for venues whose stream is a
            window of fixed depth (Bybit ``orderbook.200``, OKX ``books``) where
            levels can leave the window without an explicit delete. ``None`` (the
            default, and right for Binance diff streams, which cover every price)
            keeps everything the venue sends.
    """

    __slots__ = ("_asks", "_bids", "depth_limit")

    def __init__(self, depth_limit: int | None = None) -> None:
        if depth_limit is not None and depth_limit < 1:
            raise ValueError(f"depth_limit must be positive or None, got {depth_limit}")
        self.depth_limit = depth_limit
        self._bids = _Side(bid=True)
        self._asks = _Side(bid=False)

    # -- changes -------------------------------------------------------------

    def load_snapshot(self, bids: Iterable[BookLevel], asks: Iterable[BookLevel]) -> None:
        """Replace the whole book; zero-qty levels in a snapshot are ignored."""
        self._bids.load(bids)
        self._asks.load(asks)
        if self.depth_limit is not None:
            self._trim(self.depth_limit)

    def apply(self, bids: Iterable[BookLevel], asks: Iterable[BookLevel]) -> None:
        """Apply changed levels: qty 0 removes a level (absent: no-op), else sets it.

        Levels are trusted: they come from :func:`levels_from_raw` or a parser that
        validated them.
        """
        self._bids.apply(bids)
        self._asks.apply(asks)
        if self.depth_limit is not None:
            self._trim(self.depth_limit)

    def apply_raw(
        self, bids: Sequence[RawLevel], asks: Sequence[RawLevel]
    ) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        """Apply changed levels given as the venue's strings; return them as levels.

        Every string is validated before anything changes, so a bad level leaves
        the book untouched.

        Raises:
            ValueError: as :func:`levels_from_raw`.
        """
        bid_levels = levels_from_raw(bids)
        ask_levels = levels_from_raw(asks)
        self.apply(bid_levels, ask_levels)
        return bid_levels, ask_levels

    def load_snapshot_raw(self, bids: Sequence[RawLevel], asks: Sequence[RawLevel]) -> None:
        """Replace the book from the venue's strings (validated before any change).

        Raises:
            ValueError: as :func:`levels_from_raw`.
        """
        bid_levels = levels_from_raw(bids)
        ask_levels = levels_from_raw(asks)
        self.load_snapshot(bid_levels, ask_levels)

    def clear(self) -> None:
        """Remove every level."""
        self._bids.clear()
        self._asks.clear()

    def _trim(self, limit: int) -> None:
        self._bids.trim(limit, low=True)
        self._asks.trim(limit, low=False)

    # -- queries -------------------------------------------------------------

    def best_bid(self) -> BookLevel | None:
        """The highest bid, or ``None`` when there are no bids."""
        side = self._bids
        price = side.best()
        if price is None:
            return None
        return _new_level(BookLevel, (price, side.levels[price]))

    def best_ask(self) -> BookLevel | None:
        """The lowest ask, or ``None`` when there are no asks."""
        side = self._asks
        price = side.best()
        if price is None:
            return None
        return _new_level(BookLevel, (price, side.levels[price]))

    def bids(self, n: int | None = None) -> list[BookLevel]:
        """The best ``n`` bids (all when ``None``), highest price first."""
        side = self._bids
        keys = side.sorted_keys()
        levels = side.levels
        if n is None:
            prices: Iterable[Decimal] = reversed(keys)
        else:
            prices = reversed(keys[max(len(keys) - n, 0) :])
        return [_new_level(BookLevel, (p, levels[p])) for p in prices]

    def asks(self, n: int | None = None) -> list[BookLevel]:
        """The best ``n`` asks (all when ``None``), lowest price first."""
        side = self._asks
        keys = side.sorted_keys()
        levels = side.levels
        prices = keys if n is None else keys[:n]
        return [_new_level(BookLevel, (p, levels[p])) for p in prices]

    def bid_qty(self, price: Decimal) -> Decimal | None:
        """The quantity bid at ``price``, or ``None`` when there is no such level."""
        return self._bids.levels.get(price)

    def ask_qty(self, price: Decimal) -> Decimal | None:
        """The quantity offered at ``price``, or ``None`` when there is no such level."""
        return self._asks.levels.get(price)

    def is_crossed(self) -> bool:
        """True when best bid >= best ask (an impossible, invalid book)."""
        bid = self._bids.best()
        if bid is None:
            return False
        ask = self._asks.best()
        return ask is not None and bid >= ask

    @property
    def bid_count(self) -> int:
        """Number of bid levels."""
        return len(self._bids.levels)

    @property
    def ask_count(self) -> int:
        """Number of ask levels."""
        return len(self._asks.levels)

    def __repr__(self) -> str:
        return (
            f"<OrderBook bids={self.bid_count} asks={self.ask_count} "
            f"best_bid={self.best_bid()} best_ask={self.best_ask()}>"
        )
