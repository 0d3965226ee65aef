"""The wire-level book mirror and the diff between two published views.

Bybit and OKX publish a book topic as "the top N levels, as last sent", with
snapshots and deltas between successive views. Both keep, per instrument, a
:class:`WireBook`: a sorted copy of the engine's book fed from hub batches,
each level held as its wire text (a :data:`WireLevel`) built once when the
level changes, so every view of the instrument is read without formatting
anything. A :class:`BookView` is one published top-``depth`` view of a
:class:`WireBook` (Bybit's ``orderbook.{depth}`` topics, OKX's ``books``,
``books5``, ``bbo-tbt`` channels); :func:`diff_levels` gives the delta
entries that turn one view into the next.

Memory: a wire book is bounded by the engine's book; a view holds at most
``depth`` levels per side.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from decimal import Decimal

import trio
from sortedcontainers import SortedDict

from connector.model import Side
from connector.sim.engine import EngineResult
from connector.sim.hub import SimBook
from connector.sim.topics import Topic

__all__ = ["BookView", "WireBook", "WireLevel", "diff_levels"]

WireLevel = tuple[Decimal, str, str, str]
"""``(price, "price", "size", "extra")``: one level as sent; ``extra`` is OKX's
order count (``""`` where the venue sends none)."""

LevelText = Callable[[Side, Decimal, Decimal], WireLevel]
"""Builds the wire level of ``(side, price, qty)`` for a non-zero ``qty``."""


class WireBook:
    """A sorted copy of one engine book with its levels in wire form.

    Args:
        book: The hub's book (its engine seeds the copy).
        level: Builds one level's wire tuple.

    Attributes:
        seq: The engine update id of the last change applied.
        views: The views of this book, fed by :meth:`feed`.
    """

    def __init__(self, book: SimBook, level: LevelText) -> None:
        self.book = book
        self._level = level
        self.bids: SortedDict[Decimal, WireLevel] = SortedDict()
        self.asks: SortedDict[Decimal, WireLevel] = SortedDict()
        self.views: list[BookView] = []
        bids, asks = book.engine.depth(None)
        for lv in bids:
            self.apply(Side.BUY, lv.price, lv.qty)
        for lv in asks:
            self.apply(Side.SELL, lv.price, lv.qty)
        self.seq = book.update_id

    def apply(self, side: Side, price: Decimal, qty: Decimal) -> None:
        """Set one level (``qty`` 0 removes it)."""
        target = self.bids if side is Side.BUY else self.asks
        if qty:
            target[price] = self._level(side, price, qty)
        else:
            target.pop(price, None)

    def top(self, depth: int) -> tuple[list[WireLevel], list[WireLevel]]:
        """Best ``depth`` bid levels and ask levels, best first."""
        bids = self.bids
        asks = self.asks
        return (
            [bids[p] for p in itertools.islice(reversed(bids), depth)],
            [asks[p] for p in itertools.islice(asks, depth)],
        )

    def feed(self, results: Iterable[EngineResult], *, immediate: bool) -> None:
        """Apply a batch's book changes and mark the views they touch as dirty.

        With ``immediate``, every view refreshes (and publishes) after each
        engine result instead of at its push interval.
        """
        views = self.views
        for result in results:
            if not result.changes:
                continue
            self.seq = result.update_id
            for side, price, qty in result.changes:
                self.apply(side, price, qty)
                for view in views:
                    if not view.dirty and view.touches(side, price):
                        view.dirty = True
            if immediate:
                for view in views:
                    view.refresh()


class BookView(Topic):
    """One published top-``depth`` view of a :class:`WireBook`, as a topic.

    :meth:`refresh` recomputes the view when it is dirty and, when it
    changed, calls :meth:`changed`, where the venue publishes its message.

    Attributes:
        bids: Published bid levels, best first.
        asks: Published ask levels, best first.
        seq: The wire book's ``seq`` when the view was last recomputed.
        dirty: A change may have altered the view since it was computed.
        last_sent: Trio time of the last message (for heartbeats and resends).
    """

    def __init__(self, name: str, mirror: WireBook, depth: int) -> None:
        super().__init__(name)
        self.mirror = mirror
        self.depth = depth
        self.bids: list[WireLevel] = []
        self.asks: list[WireLevel] = []
        self.seq = mirror.seq
        self.dirty = True
        self.last_sent = trio.current_time()
        mirror.views.append(self)

    def touches(self, side: Side, price: Decimal) -> bool:
        """Whether a change at ``price`` can alter the published top ``depth`` levels."""
        levels = self.bids if side is Side.BUY else self.asks
        if len(levels) < self.depth:
            return True
        worst = levels[-1][0]
        return price >= worst if side is Side.BUY else price <= worst

    def refresh(self, *, publish: bool = True, force: bool = False) -> bool:
        """Recompute the view; :meth:`changed` when it changed (or ``force``). Returns whether."""
        if not self.dirty and not force:
            return False
        self.dirty = False
        bids, asks = self.mirror.top(self.depth)
        if bids == self.bids and asks == self.asks and not force:
            return False
        old_bids, old_asks = self.bids, self.asks
        prev_seq = self.seq
        self.bids, self.asks = bids, asks
        self.seq = self.mirror.seq
        self.changed(old_bids, old_asks, prev_seq, publish=publish)
        return True

    def changed(
        self,
        old_bids: list[WireLevel],
        old_asks: list[WireLevel],
        prev_seq: int,
        *,
        publish: bool,
    ) -> None:
        """The view changed from ``old_*`` (at ``prev_seq``); publish when ``publish``."""
        raise NotImplementedError


def diff_levels(old: list[WireLevel], new: list[WireLevel], *, reverse: bool) -> list[WireLevel]:
    """Delta entries turning view ``old`` into ``new``, in book order.

    A removed level comes back as ``(price, "price", "0", "0")``. ``reverse``
    is True for bids (best first means highest price first).
    """
    if old == new:
        return []
    before = {lv[0]: lv for lv in old}
    # Levels are shared tuples, rebuilt only when they change: most compare by identity.
    out = [lv for lv in new if before.pop(lv[0], None) != lv]
    out.extend((p, lv[1], "0", "0") for p, lv in before.items())
    out.sort(key=_price_key, reverse=reverse)
    return out


def _price_key(level: WireLevel) -> Decimal:
    return level[0]
