"""OKX v5 order-book sequencing (design.md section 5), pure and per book.

Rules (OKX v5 docs, "Order book channel", "Sequence ID" and "Checksum"):

* a snapshot (``prevSeqId == -1``) replaces the book; the venue sends one right
  after every subscribe;
* an update must have ``prevSeqId`` equal to the last ``seqId``, else it is a gap:
  resync (resubscribe, which brings a fresh snapshot);
* ``seqId == prevSeqId`` is a no-change update (a heartbeat after a quiet spell):
  its chaining is checked, then it is dropped (nothing to apply);
* after a maintenance reset ``seqId`` may be smaller than ``prevSeqId``: it still
  chains by ``prevSeqId`` and becomes the new position;
* an update that repeats the last ``seqId`` is a duplicate: drop it;
* updates before the first snapshot are dropped, not buffered: the venue sends
  the snapshot first;
* after every applied message whose ``checksum`` is non-zero, the CRC32 of the
  book's top 25 levels must equal it, else resync. ``checksum`` 0 or absent
  means not sent (OKX sends 0 from 2026-06-23) and passes.

Messages without ``seqId`` (OKX before mid-2022, ``prev_seq is None``) cannot be
chained: they are applied in order and the checksum alone catches a gap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from connector.book.sequencing import APPLY, Decision, Drop, Resync
from connector.model import BookDelta, BookSnapshot
from connector.venues.okx.checksum import book_checksum

if TYPE_CHECKING:
    from connector.book.orderbook import OrderBook

__all__ = ["OkxSync", "OkxSyncStatistics"]


@attrs.frozen(kw_only=True)
class OkxSyncStatistics:
    """Counters of one :class:`OkxSync`.

    Attributes:
        last_seq: The ``seqId`` of the last applied message; ``None`` before a
            snapshot or when the venue sends no ``seqId``.
        snapshots: Snapshots accepted.
        applied: Updates accepted.
        dropped: Updates dropped (early, duplicate or no-change).
        gaps: Updates that did not chain.
        checksums_checked: Non-zero checksums compared.
        checksum_failures: Checksums that did not match the book.
    """

    last_seq: int | None
    snapshots: int
    applied: int
    dropped: int
    gaps: int
    checksums_checked: int
    checksum_failures: int


@attrs.define
class OkxSync:
    """The :class:`~connector.book.sequencing.Sequencer` for one OKX book."""

    needs_rest_snapshot: bool = attrs.field(default=False, init=False)
    _loaded: bool = attrs.field(default=False, init=False)
    _last_seq: int | None = attrs.field(default=None, init=False)
    _snapshots: int = attrs.field(default=0, init=False)
    _applied: int = attrs.field(default=0, init=False)
    _dropped: int = attrs.field(default=0, init=False)
    _gaps: int = attrs.field(default=0, init=False)
    _checked: int = attrs.field(default=0, init=False)
    _failures: int = attrs.field(default=0, init=False)

    @property
    def last_seq(self) -> int | None:
        """The ``seqId`` the book is at (``None``: no snapshot, or no ``seqId`` sent)."""
        return self._last_seq

    def on_snapshot(self, snapshot: BookSnapshot) -> Decision:
        """Accept a snapshot: it replaces the book."""
        self._loaded = True
        self._last_seq = snapshot.seq if _sequenced(snapshot) else None
        self._snapshots += 1
        return APPLY

    def on_delta(self, delta: BookDelta) -> Decision:
        """Apply an update whose ``prevSeqId`` chains; drop or resync the rest."""
        if not self._loaded:
            self._dropped += 1
            return Drop("update before the first snapshot")
        prev = delta.prev_seq
        last = self._last_seq
        if prev is None or last is None:
            if prev is not None or last is not None:
                self._gaps += 1
                return Resync(f"seqId appeared or vanished: book at {last}, update prev {prev}")
            self._applied += 1
            return APPLY
        seq = delta.seq
        if prev == last:
            if seq == prev:
                self._dropped += 1
                return Drop(f"no-change update seqId={seq}")
            self._last_seq = seq
            self._applied += 1
            return APPLY
        if seq == last:
            self._dropped += 1
            return Drop(f"duplicate update seqId={seq}")
        self._gaps += 1
        return Resync(f"gap: expected prevSeqId={last}, got prevSeqId={prev} (seqId={seq})")

    def drain(self) -> list[BookDelta]:
        """Nothing is ever buffered: the venue sends the snapshot first."""
        return []

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
        """Forget the book's position; the next snapshot starts over."""
        self._loaded = False
        self._last_seq = None

    def statistics(self) -> OkxSyncStatistics:
        """A frozen snapshot of the counters."""
        return OkxSyncStatistics(
            last_seq=self._last_seq,
            snapshots=self._snapshots,
            applied=self._applied,
            dropped=self._dropped,
            gaps=self._gaps,
            checksums_checked=self._checked,
            checksum_failures=self._failures,
        )


def _sequenced(snapshot: BookSnapshot) -> bool:
    # A books snapshot carries prevSeqId -1; books5 carries seqId only. Old
    # frames carry neither (the parser then gives seq 0 and prev_seq None).
    return snapshot.prev_seq is not None or snapshot.seq != 0
