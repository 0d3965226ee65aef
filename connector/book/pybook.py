"""The pure-Python book engine: the reference for, and fallback of, the compiled one.

:class:`~connector.book.orderbook.OrderBook` keeps its levels in an *engine*:
``connector.book._native.NativeBook`` (C, see ``_native.c``) when it was built,
else :class:`PyBook`. Both store each level as the venue's own text (the price
and quantity strings exactly as received) and answer with that text; the
``OrderBook`` turns it into ``Decimal`` only for what a caller reads. Both accept
the same input and raise the same errors, and a property test drives them side
by side (``tests/book/test_engines.py``).

The engine interface (every method is also on ``NativeBook``):

* ``apply_json(bids, asks)`` / ``load_json(bids, asks)``: change / replace the
  book from the venue's JSON level arrays, raw bytes such as
  ``b'[["61800.2","0.5"],["61800.1","0"]]'`` (a level may have more than two
  elements, as OKX's four; only the first two, both JSON strings, are read,
  and the others may be any JSON value). A string with an escape (``\\u0031``)
  is refused: venues never escape numbers, and the compiled engine reads the
  text in place.
* ``apply_json_crossed(bids, asks)``: ``apply_json``, then ``crossed()``, in one
  call (what the keeper does with every delta nobody reads the update of).
* ``apply_pairs(bids, asks)`` / ``load_pairs(bids, asks)``: the same from
  sequences of ``(price, qty, ...)`` strings.
* ``best(bid)``, ``levels(bid, n)``, ``qty(bid, price)``, ``count(bid)``,
  ``crossed()``, ``clear()``: reads answer ``(price text, qty text)`` pairs, best
  first.
* ``top()``: ``(best bid, best ask, crossed)`` in one call, each best a
  ``(price text, qty text)`` pair or ``None``, crossed true when both sides have
  a level and best bid >= best ask: what the keeper reads after every change.

Rules: a quantity of zero removes the level (absent: no-op), any other sets it
(the latest text wins: ``"61800.20"`` and ``"61800.2"`` are one level). A
snapshot is applied to an empty book, so zero levels in it are ignored. Every
level of both sides is checked before anything changes: text that is not a
plain decimal number (digits with an optional point and an optional exponent,
no sign), a price that is not positive, raises ``ValueError`` naming the text
and leaves the book as it was. With a depth limit, only the best ``limit``
levels per side are kept after each change (venues whose stream is a window of
fixed depth).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from decimal import Decimal
from heapq import heapify, heappop, heappush
from typing import Protocol

from connector.model.levels import NUMBER, JsonText, check_number, decode_json_levels

__all__ = ["BookEngine", "PyBook", "TextLevel", "Top"]

TextLevel = tuple[str, str]
"""A level as the venue wrote it: ``(price text, qty text)``."""

Top = tuple[TextLevel | None, TextLevel | None, bool]
"""``(best bid, best ask, crossed)`` as an engine's ``top()`` answers it."""

_HEAP_SLACK = 64
"""Stale heap entries tolerated beyond twice the live levels before a rebuild."""

_PENDING_SLACK = 4096
"""Pending price changes tolerated beyond the book's size before the sorted list is dropped."""


class BookEngine(Protocol):
    """What an :class:`~connector.book.orderbook.OrderBook` needs of its engine."""

    def __init__(self, depth_limit: int | None = None) -> None: ...
    def apply_json(self, bids: JsonText, asks: JsonText) -> None: ...
    def apply_json_crossed(self, bids: JsonText, asks: JsonText) -> bool: ...
    def load_json(self, bids: JsonText, asks: JsonText) -> None: ...
    def apply_pairs(
        self, bids: Iterable[Sequence[object]], asks: Iterable[Sequence[object]]
    ) -> None: ...
    def load_pairs(
        self, bids: Iterable[Sequence[object]], asks: Iterable[Sequence[object]]
    ) -> None: ...
    def clear(self) -> None: ...
    def best(self, bid: bool) -> TextLevel | None: ...
    def levels(self, bid: bool, n: int = -1) -> list[TextLevel]: ...
    def qty(self, bid: bool, price: str) -> str | None: ...
    def count(self, bid: bool) -> int: ...
    def crossed(self) -> bool: ...
    def top(self) -> Top: ...
    @property
    def depth_limit(self) -> int | None: ...


def _checked(levels: Iterable[Sequence[object]]) -> list[tuple[Decimal, bool, TextLevel]]:
    """``(price, qty is zero, texts)`` per level, or ``ValueError`` for the first bad one."""
    out = []
    for level in levels:
        if not isinstance(level, tuple | list) or len(level) < 2:
            raise ValueError(f"a book level needs a price and a quantity, got {level!r}")
        price, qty = level[0], level[1]
        value = check_number(price, positive=False)
        amount = check_number(qty, positive=False)
        if not value:
            raise ValueError(f"price must be positive: {price!r}")
        out.append((value, not amount, (price, qty)))
    return out


class _Side:
    """``price -> texts``, a heap for the best price, a lazily sorted price list.

    Updating an existing level is a dict store; inserting one also pushes it on
    the heap (O(log n)); removing one is a dict delete (the heap forgets it when
    it reaches the top, and is rebuilt once it holds more than twice the live
    levels plus :data:`_HEAP_SLACK`). The ascending price list that depth views
    read is brought up to date only when one asks: changed prices wait in
    ``pending`` (past ``len(keys) // 8 + 64`` of them the view rebuilds the list
    in one pass; with no view at all, past the book's size plus
    :data:`_PENDING_SLACK`, the list is dropped and rebuilt by the next view).
    """

    __slots__ = ("bid", "heap", "keys", "levels", "pending")

    def __init__(self, *, bid: bool) -> None:
        self.bid = bid
        self.levels: dict[Decimal, TextLevel] = {}
        self.keys: list[Decimal] = []
        self.pending: list[Decimal] = []
        # A min-heap of prices (asks) or of negated prices (bids; copy_negate is
        # exact, where unary minus would round to the context).
        self.heap: list[Decimal] = []

    def apply(self, levels: list[tuple[Decimal, bool, TextLevel]]) -> None:
        book = self.levels
        pending = self.pending
        heap = self.heap
        bid = self.bid
        for price, zero, texts in levels:
            if not zero:
                if price not in book:
                    pending.append(price)
                    heappush(heap, price.copy_negate() if bid else price)
                book[price] = texts
            elif price in book:
                del book[price]
                pending.append(price)
        if len(heap) > 2 * len(book) + _HEAP_SLACK:
            self.heap = [p.copy_negate() for p in book] if bid else list(book)
            heapify(self.heap)
        if len(pending) > len(book) + len(self.keys) + _PENDING_SLACK:
            self.keys = []
            self.pending = list(book)

    def best(self) -> Decimal | None:
        book = self.levels
        heap = self.heap
        while heap:
            price = heap[0].copy_negate() if self.bid else heap[0]
            if price in book:
                return price
            heappop(heap)
        return None

    def sorted_keys(self) -> list[Decimal]:
        """Every price, ascending (merges the pending changes first)."""
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
            kept.sort()
            self.keys = keys = kept
        self.pending = []
        return keys

    def best_first(self, n: int) -> list[Decimal]:
        keys = self.sorted_keys()
        if n < 0:
            n = len(keys)
        if self.bid:
            return keys[len(keys) - min(n, len(keys)) :][::-1]
        return keys[:n]

    def trim(self, limit: int) -> None:
        keys = self.sorted_keys()
        extra = len(keys) - limit
        if extra <= 0:
            return
        levels = self.levels
        if self.bid:
            for price in keys[:extra]:
                del levels[price]
            del keys[:extra]
        else:
            for price in keys[limit:]:
                del levels[price]
            del keys[limit:]


class PyBook:
    """An L2 book engine in pure Python: exact ``Decimal`` keys, the venue's text as values.

    Args:
        depth_limit: Keep only the best ``depth_limit`` levels per side (``None``:
            everything).
    """

    __slots__ = ("_asks", "_bids", "depth_limit")

    def __init__(self, depth_limit: int | None = None) -> None:
        if depth_limit is not None and depth_limit < 1:
            raise ValueError(f"depth_limit must be positive or None, got {depth_limit}")
        self.depth_limit = depth_limit
        self._bids = _Side(bid=True)
        self._asks = _Side(bid=False)

    # -- changes -------------------------------------------------------------

    def apply_json(self, bids: JsonText, asks: JsonText) -> None:
        self.apply_pairs(decode_json_levels(bids), decode_json_levels(asks))

    def apply_json_crossed(self, bids: JsonText, asks: JsonText) -> bool:
        self.apply_json(bids, asks)
        return self.crossed()

    def load_json(self, bids: JsonText, asks: JsonText) -> None:
        self.load_pairs(decode_json_levels(bids), decode_json_levels(asks))

    def apply_pairs(
        self, bids: Iterable[Sequence[object]], asks: Iterable[Sequence[object]]
    ) -> None:
        self._change(_checked(bids), _checked(asks), load=False)

    def load_pairs(
        self, bids: Iterable[Sequence[object]], asks: Iterable[Sequence[object]]
    ) -> None:
        self._change(_checked(bids), _checked(asks), load=True)

    def clear(self) -> None:
        self._bids = _Side(bid=True)
        self._asks = _Side(bid=False)

    def _change(
        self,
        bids: list[tuple[Decimal, bool, TextLevel]],
        asks: list[tuple[Decimal, bool, TextLevel]],
        *,
        load: bool,
    ) -> None:
        """Levels checked already (nothing can fail from here on)."""
        if load:
            self.clear()
        self._bids.apply(bids)
        self._asks.apply(asks)
        if self.depth_limit is not None:
            self._bids.trim(self.depth_limit)
            self._asks.trim(self.depth_limit)

    # -- reads ---------------------------------------------------------------

    def best(self, bid: bool) -> TextLevel | None:
        side = self._bids if bid else self._asks
        price = side.best()
        return None if price is None else side.levels[price]

    def levels(self, bid: bool, n: int = -1) -> list[TextLevel]:
        side = self._bids if bid else self._asks
        levels = side.levels
        return [levels[p] for p in side.best_first(n)]

    def qty(self, bid: bool, price: str) -> str | None:
        if NUMBER.fullmatch(price) is None:
            return None
        texts = (self._bids if bid else self._asks).levels.get(Decimal(price))
        return None if texts is None else texts[1]

    def count(self, bid: bool) -> int:
        return len((self._bids if bid else self._asks).levels)

    def crossed(self) -> bool:
        bid = self._bids.best()
        if bid is None:
            return False
        ask = self._asks.best()
        return ask is not None and bid >= ask

    def top(self) -> Top:
        bids = self._bids
        asks = self._asks
        bid = bids.best()
        ask = asks.best()
        return (
            None if bid is None else bids.levels[bid],
            None if ask is None else asks.levels[ask],
            bid is not None and ask is not None and bid >= ask,
        )
