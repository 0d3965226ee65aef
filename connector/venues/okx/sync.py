"""OKX v5 order-book sequencing (design.md section 5), pure and per book.

OKX delisted the snapshot pushed after a ``books`` subscribe (demo May 2026,
production August 2026: changelog "Delist initial snapshot and checksum field
in order book channels"). The documented procedure, which this follows:

1. subscribe and buffer the updates (bounded: :data:`DEFAULT_BUFFER_LIMIT`; one
   more answers :class:`Resync` and empties the buffer);
2. take a snapshot from ``GET /api/v5/market/books`` (it carries ``seqId``): the
   keeper asks for it when the first update is buffered
   (:attr:`OkxSync.needs_rest_snapshot`);
3. drop buffered updates with ``seqId <=`` the snapshot's;
4. the first update applied must satisfy ``prevSeqId <= snapshot seqId < seqId``
   (the REST book may sit between two pushes: an update sets the levels it
   names to their value at its ``seqId``, so applying it on a book taken
   inside its range gives the book at its ``seqId``);
5. then every update must have ``prevSeqId`` equal to the last ``seqId``.

A snapshot older than the buffered stream (its ``seqId`` below the first
remaining update's ``prevSeqId``: the REST cache lags the socket) is dropped and
the buffer kept; the keeper asks for another on the next buffered update.

A pushed snapshot (``prevSeqId == -1``: OKX before August 2026, the simulator)
is still accepted: it replaces the book, the buffer is aligned to it the same
way, and the next update must chain to it exactly. A snapshot without any
sequence (OKX frames before mid-2022: ``seq`` 0, no ``prevSeqId``) replaces the
book and its updates are applied in order; the checksum alone catches a gap.

Chain rules, once aligned (OKX v5 docs, "Order book channel", "Sequence ID"):

* an update whose ``prevSeqId`` is above the last ``seqId`` (before the book
  aligned too) shows that updates are missing, which may only be late: it is
  held (:class:`Hold`, at most ``hold_limit``) and applied once they come; the
  keeper resyncs if they do not come within the reorder window;
* ``seqId == prevSeqId`` is a no-change update (a heartbeat after a quiet
  spell): its chaining is checked, then it is dropped (nothing to apply);
* after a maintenance reset ``seqId`` may be smaller than ``prevSeqId``: it still
  chains by ``prevSeqId`` and becomes the new position (while aligning to a
  snapshot, a reset that does not chain exactly cannot be placed: resync);
* an update that repeats the last applied one (same ``prevSeqId``, ``seqId`` and
  levels; after a snapshot, an in-order update to its ``seqId``) is a duplicate:
  drop it; one that only shares the ``seqId`` (a reset after a lost update) is a gap;
* after every applied message whose ``checksum`` is non-zero, the CRC32 of the
  book's top 25 levels must equal it, else resync. ``checksum`` 0 or absent
  means not sent (OKX sends 0 from 2026-06-23, then removes the field) and passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from connector.book.sequencing import (
    APPLY,
    BUFFER,
    DEFAULT_HOLD_LIMIT,
    Decision,
    Drop,
    HeldDeltas,
    Hold,
    HoldsAhead,
    Resync,
)
from connector.model import BookDelta, BookSnapshot
from connector.venues.okx.checksum import book_checksum

if TYPE_CHECKING:
    from connector.book.orderbook import OrderBook

__all__ = ["DEFAULT_BUFFER_LIMIT", "OkxSync", "OkxSyncStatistics"]

DEFAULT_BUFFER_LIMIT = 1_000
"""Updates held while waiting for a snapshot (100 s of ``books`` at 100 ms)."""

_PUSHED = -1
"""``prevSeqId`` of a snapshot pushed on the socket."""


@attrs.frozen(kw_only=True)
class OkxSyncStatistics:
    """Counters of one :class:`OkxSync`.

    Attributes:
        last_seq: The ``seqId`` the book is at; ``None`` before a snapshot or
            when the venue sends no ``seqId``.
        snapshots: Snapshots accepted.
        applied: Updates accepted (buffered ones included when drained).
        dropped: Updates dropped (older than the snapshot, duplicate or no-change).
        gaps: Gaps that resynced the book (updates that did not chain, held updates
            whose gap was not filled).
        buffered: Updates waiting for a snapshot now.
        stale_snapshots: Snapshots dropped for being older than the buffered stream.
        overflows: Times the buffer filled up before a snapshot came.
        checksums_checked: Non-zero checksums compared.
        checksum_failures: Checksums that did not match the book.
    """

    last_seq: int | None
    snapshots: int
    applied: int
    dropped: int
    gaps: int
    buffered: int
    stale_snapshots: int
    overflows: int
    checksums_checked: int
    checksum_failures: int
    held: int = 0


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"buffer_limit must be positive, got {value}")


@attrs.define
class OkxSync(HoldsAhead):
    """The :class:`~connector.book.sequencing.Sequencer` for one OKX book.

    Args:
        buffer_limit: Updates held while no snapshot is loaded; one more answers
            :class:`Resync` and empties the buffer (the snapshot is overdue).
        hold_limit: Updates held ahead of the book at most; one more resyncs.
    """

    buffer_limit: int = attrs.field(default=DEFAULT_BUFFER_LIMIT, validator=_positive)
    hold_limit: int = DEFAULT_HOLD_LIMIT
    needs_rest_snapshot: bool = attrs.field(default=True, init=False)
    _loaded: bool = attrs.field(default=False, init=False)
    _aligned: bool = attrs.field(default=False, init=False)
    _last_seq: int | None = attrs.field(default=None, init=False)
    # The update that brought the book to _last_seq (None: a snapshot did).
    _last_update: BookDelta | None = attrs.field(default=None, init=False)
    _buffer: list[BookDelta] = attrs.field(factory=list, init=False)
    _pending: list[BookDelta] = attrs.field(factory=list, init=False)
    _snapshots: int = attrs.field(default=0, init=False)
    _applied: int = attrs.field(default=0, init=False)
    _dropped: int = attrs.field(default=0, init=False)
    _gaps: int = attrs.field(default=0, init=False)
    _stale: int = attrs.field(default=0, init=False)
    _overflows: int = attrs.field(default=0, init=False)
    _checked: int = attrs.field(default=0, init=False)
    _failures: int = attrs.field(default=0, init=False)
    _held: HeldDeltas = attrs.field(
        default=attrs.Factory(lambda self: HeldDeltas(self.hold_limit), takes_self=True),
        init=False,
    )

    @property
    def last_seq(self) -> int | None:
        """The ``seqId`` the book is at (``None``: no snapshot, or no ``seqId`` sent)."""
        return self._last_seq

    @property
    def buffered(self) -> int:
        """Updates waiting for a snapshot."""
        return len(self._buffer)

    def on_snapshot(self, snapshot: BookSnapshot) -> Decision:
        """Load a snapshot and align the buffered updates to it (:meth:`drain` has them).

        A snapshot without ``prevSeqId`` (REST, or ``books5``) no newer than the
        book is dropped; one older than the buffered stream is dropped and the
        buffer kept, so that another is fetched. One loaded forgets the held updates.
        """
        if snapshot.prev_seq is None and snapshot.seq == 0:
            # No sequence at all (2022 frames): nothing to align the buffer to.
            self._dropped += len(self._buffer)
            self._load(None, aligned=True, pending=[])
            return APPLY
        pushed = snapshot.prev_seq == _PUSHED
        seq = snapshot.seq
        last = self._last_seq
        if self._loaded and not pushed and last is not None and seq <= last:
            return Drop(f"snapshot seqId={seq} is not newer than the book's seqId={last}")
        # The buffer aligns the same way to either snapshot; after a pushed one the
        # next update must chain exactly (the venue's stream continues from it).
        self._loaded, self._aligned, self._last_seq = True, False, seq
        self._last_update = None
        pending: list[BookDelta] = []
        dropped = 0
        for delta in self._buffer:
            if delta.prev_seq is None:
                decision: Decision = Resync("update without seqId after a snapshot with one")
                behind = False
            else:
                decision, behind = self._next(delta)
            if decision is APPLY:
                pending.append(delta)
            elif type(decision) is Drop:
                dropped += 1
            elif behind:
                # The snapshot is older than the stream: keep the buffer, fetch again.
                self._loaded, self._aligned, self._last_seq = False, False, None
                self._stale += 1
                return Drop(f"stale snapshot: {getattr(decision, 'reason', decision)}")
            else:
                self._gaps += 1
                self.reset()
                return decision
        self._dropped += dropped
        self._load(self._last_seq, aligned=self._aligned or pushed, pending=pending)
        return APPLY

    def on_delta(self, delta: BookDelta) -> Decision:
        """Buffer an update until a snapshot; then apply it if it chains, drop or resync."""
        if not self._loaded:
            if len(self._buffer) >= self.buffer_limit:
                self._buffer.clear()
                self._overflows += 1
                return Resync(f"buffer overflow: {self.buffer_limit} updates and no snapshot")
            self._buffer.append(delta)
            return BUFFER
        prev = delta.prev_seq
        last = self._last_seq
        if prev is None or last is None:
            if prev is not None or last is not None:
                self._gaps += 1
                return Resync(f"seqId appeared or vanished: book at {last}, update prev {prev}")
            self._applied += 1
            return APPLY
        decision = self._judge(delta)
        if type(decision) is Hold:
            decision = self._held.hold(delta, decision.reason)
        if type(decision) is Resync:
            self._gaps += 1
        return decision

    def drain(self) -> list[BookDelta]:
        """The buffered updates that chain to the last snapshot, or else the held
        updates that follow the book now, in order (once)."""
        pending = self._pending
        if pending:
            self._pending = []
            return pending
        return self._release_held()

    def _gap_given_up(self) -> None:
        self._gaps += 1

    def after_apply(self, book: OrderBook, update: BookSnapshot | BookDelta) -> Decision:
        """Compare a non-zero ``checksum`` with the CRC32 of the book's top 25 levels."""
        expected = update.checksum
        if not expected:
            return APPLY
        self._checked += 1
        actual = book_checksum(book)
        if actual != expected:
            self._failures += 1
            return Resync(f"checksum mismatch: venue {expected}, book {actual}")
        return APPLY

    def reset(self) -> None:
        """Forget the book's position and every buffered update; the next snapshot starts over."""
        self._loaded = False
        self._aligned = False
        self._last_seq = None
        self._last_update = None
        self._buffer = []
        self._pending = []
        self._held.clear()

    def statistics(self) -> OkxSyncStatistics:
        """A frozen snapshot of the counters."""
        return OkxSyncStatistics(
            last_seq=self._last_seq,
            snapshots=self._snapshots,
            applied=self._applied,
            dropped=self._dropped,
            gaps=self._gaps,
            buffered=len(self._buffer),
            stale_snapshots=self._stale,
            overflows=self._overflows,
            checksums_checked=self._checked,
            checksum_failures=self._failures,
            held=len(self._held),
        )

    # -- internals -----------------------------------------------------------

    def _repeats(self, delta: BookDelta) -> bool:
        """Whether an update to the book's own ``seqId`` is one already in the book: the
        last applied update again (same ``prevSeqId`` and levels), or, after a snapshot,
        the update that led to its ``seqId`` (in order: ``prevSeqId < seqId``). An update
        that only shares the ``seqId`` (sequence numbers reset after a lost update) is
        new data: not a repeat."""
        last = self._last_update
        if last is None:
            return delta.prev_seq is not None and delta.prev_seq < delta.seq
        return (delta.prev_seq, delta.bids, delta.asks) == (last.prev_seq, last.bids, last.asks)

    def _judge(self, delta: BookDelta) -> Decision:
        """A sequenced update against the book once loaded: :data:`APPLY` (advancing
        it), :class:`Drop`, :class:`Hold` (it is ahead: ``prevSeqId`` above the book's
        ``seqId``) or :class:`Resync`; counts applied and dropped ones."""
        decision, _ = self._next(delta)
        if decision is APPLY:
            self._applied += 1
        elif type(decision) is Drop:
            self._dropped += 1
        elif (
            type(decision) is Resync
            and delta.prev_seq is not None
            and self._last_seq is not None
            and delta.prev_seq > self._last_seq
        ):
            return Hold(decision.reason)
        return decision

    def _load(self, seq: int | None, *, aligned: bool, pending: list[BookDelta]) -> None:
        # The snapshot replaces the book: updates held ahead of the old one are moot.
        self._held.clear()
        self._loaded = True
        self._aligned = aligned
        self._last_seq = seq
        self._buffer = []
        self._pending = pending
        self._snapshots += 1
        self._applied += len(pending)

    def _next(self, delta: BookDelta) -> tuple[Decision, bool]:
        """Judge one sequenced update against the book at ``_last_seq``; advance on apply.

        Returns:
            The decision, and whether a :class:`Resync` means the snapshot is
            older than the stream (rather than a gap in the stream).
        """
        prev = delta.prev_seq
        seq = delta.seq
        last = self._last_seq
        assert prev is not None and last is not None
        if prev == last:
            self._aligned = True
            if seq == prev:
                return Drop(f"no-change update seqId={seq}"), False
            self._last_seq, self._last_update = seq, delta
            return APPLY, False
        if self._aligned:
            if seq == last and self._repeats(delta):
                return Drop(f"duplicate update seqId={seq}"), False
            return Resync(
                f"gap: expected prevSeqId={last}, got prevSeqId={prev} (seqId={seq})"
            ), False
        # A snapshot is loaded and no update has chained to it yet.
        if seq < prev:
            return Resync(
                f"sequence reset (prevSeqId={prev}, seqId={seq}) before the book aligned "
                f"to snapshot seqId={last}"
            ), False
        if seq <= last:
            return Drop(f"update seqId={seq} is not newer than snapshot seqId={last}"), False
        if prev < last:
            self._aligned = True
            self._last_seq, self._last_update = seq, delta
            return APPLY, False
        return Resync(
            f"snapshot seqId={last} is older than the stream: first update has "
            f"prevSeqId={prev} (seqId={seq})"
        ), True
