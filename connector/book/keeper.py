"""The book keeper: one symbol's book and its ``syncing -> valid -> invalid`` state.

Pure state machine (sans-I/O). The market-data session feeds it the venue's
snapshots and deltas and carries out the :class:`KeeperAction` each input
answers: publish :attr:`KeeperResult.update` on ``orderbook.{venue}.{symbol}``,
log a state change, fetch a snapshot (Binance: a rate-limited REST request) or
resubscribe (Bybit, OKX).

States (``connector.model.BookState``):

* ``syncing``: waiting for a snapshot the buffered deltas can chain to.
* ``valid``: the book is the venue's book; every update published says so.
* ``invalid(reason)``: a gap (not filled within the reorder window, see
  below), a checksum mismatch, a crossed book or an
  :meth:`BookKeeper.invalidate` (reconnect, stale stream). The book is emptied and
  the sequencer reset at once; the next message moves the state to ``syncing``.

Reordering: with ``reorder`` on, a delta ahead of the book (the sequencer answers
:class:`~connector.book.sequencing.Hold`) is held, not applied; the book stays
valid at its last applied state, and the first such delta answers
:attr:`KeeperAction.HOLD`, for the session to start the reorder window. When the
missing delta comes it is applied, then the held ones that now follow, each
checked; the update after them carries the whole book. When the window is over
the session calls :meth:`BookKeeper.expire_held`: a gap still open resyncs, with
the gap's reason.

Guarantee: an update marked ``valid`` is only ever published after the change was
applied, the book checked not crossed and, when the update carries a checksum,
the sequencer's :meth:`after_apply` (OKX) accepted it.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import NamedTuple

import attrs

from connector.book.orderbook import OrderBook
from connector.book.sequencing import APPLY, Apply, Drop, Hold, Resync, Sequencer
from connector.model import (
    BookDelta,
    BookLevel,
    BookSnapshot,
    BookState,
    BookStatus,
    BookUpdate,
    Market,
    Symbol,
)
from connector.model.levels import ScaledLevels

__all__ = ["BookKeeper", "KeeperAction", "KeeperResult", "KeeperStatistics"]

_NO_LEVELS: tuple[()] = ()


class KeeperAction(enum.Enum):
    """What the session does after one input; each action names all of it.

    Attributes:
        NOTHING: The input was buffered or dropped; nothing to publish or fetch.
        PUBLISH: Publish the update; the book was valid and still is (the hot path).
        STATE: Publish the update; the book's state changed (valid after a
            snapshot, or syncing again after it was invalid): log it.
        FETCH: Fetch a snapshot (Binance REST, rate limited) or resubscribe
            (Bybit, OKX); nothing to publish. Once per sync attempt.
        SYNC: ``STATE`` and ``FETCH`` together: the book moved to syncing and
            needs a snapshot.
        RESYNC: The book was invalidated (a gap, a crossed book, malformed
            levels, a failed checksum, :meth:`BookKeeper.invalidate`): publish
            the update (state ``invalid``, with the reason), log it as a warning
            and fetch a snapshot.
        HOLD: The delta is held ahead of the book, the first of a gap that may
            still fill: call :meth:`BookKeeper.expire_held` once the reorder window
            is over; nothing to publish (the book stays valid).
    """

    NOTHING = "nothing"
    PUBLISH = "publish"
    STATE = "state"
    FETCH = "fetch"
    SYNC = "sync"
    RESYNC = "resync"
    HOLD = "hold"


class KeeperResult(NamedTuple):
    """What the session must do after one input (a frozen value).

    Attributes:
        action: What to do (see :class:`KeeperAction`).
        update: What to publish on ``orderbook.{venue}.{symbol}`` for the actions
            that publish (``PUBLISH``, ``STATE``, ``SYNC``, ``RESYNC``); ``None``
            for the others.
    """

    action: KeeperAction
    update: BookUpdate | None = None


_NOTHING = KeeperResult(KeeperAction.NOTHING)
_FETCH = KeeperResult(KeeperAction.FETCH)
_HOLD = KeeperResult(KeeperAction.HOLD)
_PUBLISH = KeeperAction.PUBLISH
_PUBLISHED = KeeperResult(_PUBLISH)
"""A delta applied, the book still valid, and no update asked for (``updates=False``)."""


@attrs.frozen(kw_only=True)
class KeeperStatistics:
    """A snapshot of one keeper's counters.

    Attributes:
        messages: Snapshots and deltas received.
        deltas_applied: Deltas applied to the book (including drained buffered ones).
        snapshots_applied: Snapshots loaded.
        dropped: Inputs the sequencer dropped (old or duplicate).
        gaps: Sequence gaps that resynced the book (deltas that did not chain, or
            held ones whose gap the reorder window did not see filled).
        resyncs: Times the keeper asked for a fresh snapshot.
        checksums_checked: Applied updates that carried a non-zero checksum.
        checksums_failed: Checksum (``after_apply``) failures.
        crossed: Times the book was found crossed.
        depth_exhausted: Times a side ran out of the levels a snapshot gave (deltas
            that cover the whole book, Binance's): each one resyncs.
        malformed: Updates whose levels the book refused (bad numbers; each one
            invalidates the book, which resyncs).
        state: The current state.
        sequencer: The venue rule's own counters (its ``statistics()``: e.g. Bybit's
            stream restarts, OKX's checksums).
        held: Deltas held ahead of the book (a gap that might still fill).
        gaps_filled: Gaps whose missing deltas came within the reorder window: the
            held deltas were applied, with no resync.
    """

    messages: int
    deltas_applied: int
    snapshots_applied: int
    dropped: int
    gaps: int
    resyncs: int
    checksums_checked: int
    checksums_failed: int
    crossed: int
    malformed: int
    state: BookState
    sequencer: object
    depth_exhausted: int = 0
    held: int = 0
    gaps_filled: int = 0


_WAITING = BookState.syncing("waiting for snapshot")


class BookKeeper:
    """Owns one :class:`OrderBook` and drives it with a venue :class:`Sequencer`.

    Args:
        venue: Venue name, copied into every update.
        market: Market segment of the symbol.
        symbol: Canonical symbol.
        sequencer: The venue's sequencing rule for this symbol (fresh, not shared).
        depth: ``depth_limit`` of the book (see :class:`OrderBook`); ``None`` for
            venues whose deltas cover the whole book (Binance).
        snapshot_limit: Where deltas cover the whole book, the most levels per side a
            snapshot holds (Binance's REST ``limit``); ``None``: the snapshot is the
            whole book. A side that holds that many was cut: below its last level a
            level the deltas have not named since is not known, so when every level at
            or above it is gone the top of that side is not known either and the book
            resyncs (``depth exhausted``). From :data:`DEEP_SNAPSHOT` levels on, a side
            is deep enough to stay valid past it. Either way :meth:`bids` and
            :meth:`asks` stop at it.
        snapshot_depth: Levels per side an update carries after a snapshot is
            loaded (the top of the book); ``None``: the whole book. Updates after a
            delta carry exactly the delta's changed levels.
        updates: Build the update of every applied delta (the default). ``False``
            when nobody reads them (``connector replay --summary``): an applied
            delta then answers ``PUBLISH`` with no update, and only snapshots and
            state changes carry one.
        unit: Base units per unit of the venue's quantity (an OKX swap's
            ``ctVal``; ``None``: the venue counts base units). Snapshots and deltas
            come in the venue's units; the book's reads and every update are in
            base units.
        reorder: Hold deltas ahead of the book until the caller's reorder window
            is over (see the module docstring); ``False``: a gap resyncs at once.
    """

    def __init__(
        self,
        venue: str,
        market: Market,
        symbol: Symbol,
        sequencer: Sequencer,
        *,
        depth: int | None,
        snapshot_limit: int | None = None,
        snapshot_depth: int | None = None,
        updates: bool = True,
        unit: Decimal | None = None,
        reorder: bool = False,
    ) -> None:
        self.venue = venue
        self.market = market
        self.symbol = symbol
        self.sequencer = sequencer
        self.snapshot_depth = snapshot_depth
        self.updates = updates
        self.reorder = reorder
        self._book = OrderBook(depth_limit=depth, unit=unit)
        self.snapshot_limit = snapshot_limit
        # The worst bid and ask of the last snapshot where deltas cover the whole book
        # and the snapshot held only its top: the book is known down to them (``None``:
        # no bound on that side). Below a shallow one (``_cut``) the book is not valid.
        self._floor: Decimal | None = None
        self._ceiling: Decimal | None = None
        # The top of the book after the last change (read once per change).
        self._bid: BookLevel | None = None
        self._ask: BookLevel | None = None
        self._state = _WAITING
        self._valid = False
        self._seq = 0
        self._snapshot_requested = False
        self._messages = 0
        self._deltas_applied = 0
        self._snapshots_applied = 0
        self._dropped = 0
        self._gaps = 0
        self._resyncs = 0
        self._checksums_checked = 0
        self._checksums_failed = 0
        self._crossed = 0
        self._depth_exhausted = 0
        self._malformed_levels = 0
        # A gap is open: deltas are held, the session's reorder window runs.
        self._holding = False
        self._held = 0
        self._gaps_filled = 0

    # -- views ---------------------------------------------------------------

    @property
    def book(self) -> OrderBook:
        """The book (read it, never change it; empty unless the state is valid). Read
        its levels with :meth:`bids` and :meth:`asks`, which keep to what is known."""
        return self._book

    def bids(self, n: int | None = None) -> list[BookLevel]:
        """The top ``n`` bids (all when ``None``) the book knows, best first: none below
        the last level of a snapshot that held only the top of the book (Binance's),
        where a level no delta named since is not known, so the next level shown
        could skip real ones ("you won't learn the quantities for the levels outside
        of the initial snapshot unless they change"). Once the top itself has moved
        past that level (a deep snapshot's book stays valid then: its top is named by
        the deltas), every level the deltas named is shown."""
        found = self._book.bids(n)
        floor = self._floor
        if floor is None or not found or found[-1].price >= floor or found[0].price < floor:
            return found
        return [level for level in found if level.price >= floor]

    def asks(self, n: int | None = None) -> list[BookLevel]:
        """The top ``n`` asks the book knows, best first (see :meth:`bids`)."""
        found = self._book.asks(n)
        ceiling = self._ceiling
        if ceiling is None or not found or found[-1].price <= ceiling or found[0].price > ceiling:
            return found
        return [level for level in found if level.price <= ceiling]

    @property
    def snapshot_limit(self) -> int | None:
        """The ``snapshot_limit`` (see the class); ``connector replay`` sets it to the
        ``limit`` of each captured snapshot's request before the snapshot."""
        return self._limit

    @snapshot_limit.setter
    def snapshot_limit(self, limit: int | None) -> None:
        self._limit = limit or None
        self._cut = limit if limit and limit < DEEP_SNAPSHOT else None

    @property
    def state(self) -> BookState:
        """The current state."""
        return self._state

    @property
    def seq(self) -> int:
        """The venue sequence number of the last applied change (0 before any)."""
        return self._seq

    def statistics(self) -> KeeperStatistics:
        """A frozen snapshot of the counters and the state."""
        return KeeperStatistics(
            messages=self._messages,
            deltas_applied=self._deltas_applied,
            snapshots_applied=self._snapshots_applied,
            dropped=self._dropped,
            gaps=self._gaps,
            resyncs=self._resyncs,
            checksums_checked=self._checksums_checked,
            checksums_failed=self._checksums_failed,
            crossed=self._crossed,
            depth_exhausted=self._depth_exhausted,
            malformed=self._malformed_levels,
            state=self._state,
            sequencer=self.sequencer.statistics(),
            held=self._held,
            gaps_filled=self._gaps_filled,
        )

    # -- inputs --------------------------------------------------------------

    def on_delta(self, delta: BookDelta) -> KeeperResult:
        """Feed one delta; apply it, buffer it, drop it or resync, as the sequencer says."""
        self._messages += 1
        decision = self.sequencer.on_delta(delta)
        if decision is APPLY or type(decision) is Apply:
            if not self._valid:
                # A sequencer must not apply before a snapshot; treat it as a gap.
                return self._fail("sequencer applied a delta to a book that is not valid", gap=True)
            book = self._book
            if not self.updates:
                # Nobody reads this delta's update, so nor its top of book: the
                # engine answers crossed with the change, and when it is not, only
                # a checksum is left to check.
                try:
                    crossed = book.apply_checked(delta.bids, delta.asks)
                except ValueError as exc:
                    return self._malformed(exc)
                self._deltas_applied += 1
                if (
                    crossed
                    or delta.checksum
                    or (
                        self._cut is not None
                        and (self._floor is not None or self._ceiling is not None)
                    )
                ):
                    failed = self._check(delta)
                    if failed is not None:
                        return failed
                self._seq = delta.seq
                if self._holding:
                    return self._release() or _PUBLISHED
                return _PUBLISHED
            try:
                book.apply(delta.bids, delta.asks)
            except ValueError as exc:
                return self._malformed(exc)
            self._deltas_applied += 1
            failed = self._check(delta)
            if failed is not None:
                return failed
            self._seq = delta.seq
            if self._holding and (released := self._release()) is not None:
                return released
            return KeeperResult(
                _PUBLISH,
                BookUpdate(
                    venue=self.venue,
                    market=self.market,
                    symbol=self.symbol,
                    seq=delta.seq,
                    state=BookState.VALID,
                    bids=delta.bids if book.unit is None else ScaledLevels(delta.bids, book.unit),
                    asks=delta.asks if book.unit is None else ScaledLevels(delta.asks, book.unit),
                    best_bid=self._bid,
                    best_ask=self._ask,
                    ts_event_ns=delta.ts_event_ns,
                    ts_recv_ns=delta.ts_recv_ns,
                ),
            )
        if type(decision) is Hold:
            if self.reorder:
                self._held += 1
                if self._holding:
                    return _NOTHING
                self._holding = True
                return _HOLD
            # No reorder window: the gap is given up at once.
            decision = self.sequencer.expire() or Resync(decision.reason)
        if type(decision) is Resync:
            self._gaps += 1
            result = self._fail(decision.reason)
            # The delta that broke the chain may be the first the next snapshot
            # chains to: offer it to the reset sequencer (it buffers or drops it).
            self.sequencer.on_delta(delta)
            return result
        if type(decision) is Drop:
            self._dropped += 1
            return _NOTHING
        # Buffer: waiting for a snapshot.
        fetch = False
        if not self._snapshot_requested and self.sequencer.needs_rest_snapshot:
            self._snapshot_requested = True
            self._resyncs += 1
            fetch = True
        if self._state.status is BookStatus.INVALID:
            self._state = BookState.syncing(f"resync after: {self._state.reason}")
            action = KeeperAction.SYNC if fetch else KeeperAction.STATE
            return KeeperResult(action, self._state_update(delta.seq))
        return _FETCH if fetch else _NOTHING

    def on_snapshot(self, snapshot: BookSnapshot) -> KeeperResult:
        """Feed one snapshot; load it and the buffered deltas, or ask for another."""
        self._messages += 1
        self._snapshot_requested = False
        decision = self.sequencer.on_snapshot(snapshot)
        if type(decision) is Resync:
            return self._fail(decision.reason)
        if type(decision) is Drop:
            self._dropped += 1
            return _NOTHING
        if type(decision) is not Apply:
            return _NOTHING
        book = self._book
        sequencer = self.sequencer
        try:
            book.load_snapshot(snapshot.bids, snapshot.asks)
        except ValueError as exc:
            return self._malformed(exc)
        self._snapshots_applied += 1
        limit = self._limit
        if limit is not None:
            self._floor = snapshot.bids[-1].price if len(snapshot.bids) >= limit else None
            self._ceiling = snapshot.asks[-1].price if len(snapshot.asks) >= limit else None
        failed = self._check(snapshot)
        if failed is not None:
            return failed
        seq = snapshot.seq
        ts_event_ns = snapshot.ts_event_ns
        ts_recv_ns = snapshot.ts_recv_ns
        for delta in sequencer.drain():
            failed = self._apply(delta)
            if failed is not None:
                return failed
            seq = delta.seq
            ts_event_ns = delta.ts_event_ns
            ts_recv_ns = delta.ts_recv_ns
        changed = not self._valid
        self._valid = True
        self._state = BookState.VALID
        self._seq = seq
        # The snapshot replaced the book: the sequencer forgot any held deltas.
        self._holding = False
        update = self._whole_book(seq, ts_event_ns, ts_recv_ns)
        return KeeperResult(KeeperAction.STATE if changed else _PUBLISH, update)

    def invalidate(self, reason: str) -> KeeperResult:
        """Mark the book invalid from outside (reconnect, stale stream) and resync it."""
        return self._fail(reason)

    def expire_held(self) -> KeeperResult:
        """The reorder window that a :attr:`KeeperAction.HOLD` started is over: a gap
        still open is a loss, so the book resyncs (the gap's reason); otherwise
        nothing happens (the gap was filled, or the book resynced meanwhile)."""
        if not self._holding:
            return _NOTHING
        self._holding = False
        gap = self.sequencer.expire()
        if gap is None:
            return _NOTHING
        self._gaps += 1
        return self._fail(gap.reason)

    # -- internals -----------------------------------------------------------

    def _release(self) -> KeeperResult | None:
        """After an applied delta while deltas are held: apply those that follow the
        book now (each checked). Returns the failure, the update after them (the
        whole book: one update for several deltas), or ``None`` when none followed."""
        sequencer = self.sequencer
        released = sequencer.drain()
        if not sequencer.held:
            self._holding = False
            self._gaps_filled += 1
        if not released:
            return None
        for delta in released:
            failed = self._apply(delta)
            if failed is not None:
                return failed
        last = released[-1]
        self._seq = last.seq
        if not self.updates:
            return _PUBLISHED
        return KeeperResult(_PUBLISH, self._whole_book(last.seq, last.ts_event_ns, last.ts_recv_ns))

    def _whole_book(self, seq: int, ts_event_ns: int, ts_recv_ns: int) -> BookUpdate:
        """A valid update carrying the book's top ``snapshot_depth`` levels (``snapshot``)."""
        book = self._book
        depth = self.snapshot_depth
        return BookUpdate(
            venue=self.venue,
            market=self.market,
            symbol=self.symbol,
            seq=seq,
            state=BookState.VALID,
            bids=tuple(book.bids(depth)),
            asks=tuple(book.asks(depth)),
            best_bid=self._bid,
            best_ask=self._ask,
            snapshot=True,
            ts_event_ns=ts_event_ns,
            ts_recv_ns=ts_recv_ns,
        )

    def _apply(self, delta: BookDelta) -> KeeperResult | None:
        """Apply ``delta`` to the book and check it: the failure to report, or ``None``."""
        try:
            self._book.apply(delta.bids, delta.asks)
        except ValueError as exc:
            return self._malformed(exc)
        self._deltas_applied += 1
        return self._check(delta)

    def _check(self, update: BookSnapshot | BookDelta) -> KeeperResult | None:
        """After applying ``update``: the failure to report, or ``None`` if the book is right.

        Reads the top of the book once (:meth:`OrderBook.top`) and keeps it for
        the update. A crossed book, or for an update that carries a checksum the
        sequencer's check of it (:meth:`Sequencer.after_apply`), fails it.
        """
        book = self._book
        bid, ask, crossed = book.top()
        if crossed:
            self._crossed += 1
            return self._fail(
                f"crossed book: best bid {bid.price if bid else None} >= "
                f"best ask {ask.price if ask else None}"
            )
        self._bid = bid
        self._ask = ask
        floor, ceiling = (self._floor, self._ceiling) if self._cut is not None else (None, None)
        if floor is not None and (bid is None or bid.price < floor):
            return self._exhausted("bid", floor)
        if ceiling is not None and (ask is None or ask.price > ceiling):
            return self._exhausted("ask", ceiling)
        if update.checksum:
            self._checksums_checked += 1
            check = self.sequencer.after_apply(book, update)
            if type(check) is Resync:
                self._checksums_failed += 1
                return self._fail(check.reason)
        return None

    def _exhausted(self, side: str, bound: Decimal) -> KeeperResult:
        """Every level of the snapshot's depth on one side is gone: the levels beyond it
        were never sent, so the top of that side is not known; resync."""
        self._depth_exhausted += 1
        return self._fail(
            f"depth exhausted: no {side} left at or above the snapshot's last level {bound}"
            " (the levels beyond it are not known)"
        )

    def _malformed(self, exc: ValueError) -> KeeperResult:
        """Levels the book refused (it is unchanged): the sequencer has counted the
        update as received, so the book would miss it; resync instead."""
        self._malformed_levels += 1
        return self._fail(f"malformed book levels: {exc}")

    def _fail(self, reason: str, *, gap: bool = False) -> KeeperResult:
        if gap:
            self._gaps += 1
        self._valid = False
        self._holding = False
        self._book.clear()
        self._bid = self._ask = None
        self.sequencer.reset()
        self._state = BookState.invalid(reason)
        self._snapshot_requested = True
        self._resyncs += 1
        return KeeperResult(KeeperAction.RESYNC, self._state_update(self._seq))

    def _state_update(self, seq: int) -> BookUpdate:
        return BookUpdate(
            venue=self.venue,
            market=self.market,
            symbol=self.symbol,
            seq=seq,
            state=self._state,
            bids=_NO_LEVELS,
            asks=_NO_LEVELS,
            best_bid=None,
            best_ask=None,
            snapshot=True,
        )


DEEP_SNAPSHOT = 1000
"""Snapshot limit from which a cut side is deep enough to leave unbounded: Binance's
default. Deltas name the levels near the top as the price moves (the real captures'
``bookTicker`` agrees with the book at every update id long after their 1,000-level
snapshots' last levels), while a shallow snapshot (5 to 500 levels) leaves the
book's top unknown as soon as those few levels are gone."""
