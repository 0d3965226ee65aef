"""Bybit v5 order-book sequencing (design.md section 5), pure and per book.

Rules (Bybit v5 docs, "Orderbook"):

* a ``snapshot`` replaces the book; the venue sends one right after every
  subscribe, and again when its service restarts (then with ``u == 1``);
* each ``delta`` must have ``u == prev_u + 1``; one with a larger ``u`` shows
  that deltas are missing, which may only be late: it is held (:class:`Hold`, at
  most ``hold_limit``) and applied once they come, and the keeper resyncs if
  they do not come within the reorder window; one with a smaller ``u`` is a gap:
  resync (resubscribe, which brings a fresh snapshot);
* a delta that repeats the last ``u`` is a duplicate: drop it;
* deltas before the first snapshot are dropped, not buffered: the venue always
  sends the snapshot first on a socket, so an earlier delta belongs to an old
  subscription.

A snapshot older than the book (``u`` below the last one, and not the restart
value 1) is dropped: it cannot be newer than what the book already holds.

Limit: ``u`` restarts from 1 after a venue restart, so two restarts close
together reuse ``u`` values and a lost restart snapshot could go unnoticed. A
live socket loses nothing; a reconnect resets the sequencer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from connector.book.sequencing import (
    APPLY,
    DEFAULT_HOLD_LIMIT,
    Decision,
    Drop,
    HeldDeltas,
    Hold,
    HoldsAhead,
    Resync,
)
from connector.model import BookDelta, BookSnapshot

if TYPE_CHECKING:
    from connector.book.orderbook import OrderBook

__all__ = ["BybitSync", "BybitSyncStatistics"]

_RESTART_U = 1


@attrs.frozen(kw_only=True)
class BybitSyncStatistics:
    """Counters of one :class:`BybitSync`.

    Attributes:
        last_u: The ``u`` of the last applied message, ``None`` before a snapshot.
        snapshots: Snapshots accepted.
        restarts: Snapshots with ``u == 1`` that replaced a running book.
        applied: Deltas accepted.
        dropped: Deltas and snapshots dropped (early, duplicate or stale).
        gaps: Gaps that resynced the book (deltas that did not chain, held deltas
            whose gap was not filled).
        held: Deltas held ahead of the book now.
    """

    last_u: int | None
    snapshots: int
    restarts: int
    applied: int
    dropped: int
    gaps: int
    held: int = 0


@attrs.define
class BybitSync(HoldsAhead):
    """The :class:`~connector.book.sequencing.Sequencer` for one Bybit book.

    Args:
        hold_limit: Deltas held ahead of the book at most; one more resyncs.
    """

    hold_limit: int = DEFAULT_HOLD_LIMIT
    needs_rest_snapshot: bool = attrs.field(default=False, init=False)
    _last_u: int | None = attrs.field(default=None, init=False)
    _snapshots: int = attrs.field(default=0, init=False)
    _restarts: int = attrs.field(default=0, init=False)
    _applied: int = attrs.field(default=0, init=False)
    _dropped: int = attrs.field(default=0, init=False)
    _gaps: int = attrs.field(default=0, init=False)
    _held: HeldDeltas = attrs.field(
        default=attrs.Factory(lambda self: HeldDeltas(self.hold_limit), takes_self=True),
        init=False,
    )

    @property
    def last_u(self) -> int | None:
        """The ``u`` the book is at, ``None`` until a snapshot is accepted."""
        return self._last_u

    def on_snapshot(self, snapshot: BookSnapshot) -> Decision:
        """Accept a snapshot (it replaces the book) unless it is older than the book."""
        u = snapshot.seq
        last = self._last_u
        if last is not None and u < last:
            if u != _RESTART_U:
                self._dropped += 1
                return Drop(f"stale snapshot u={u} older than the book's u={last}")
            self._restarts += 1
        self._last_u = u
        self._snapshots += 1
        # The snapshot replaces the book: deltas held ahead of the old one are moot.
        self._held.clear()
        return APPLY

    def on_delta(self, delta: BookDelta) -> Decision:
        """Apply a delta that chains (``u == prev_u + 1``), hold one ahead of the book;
        drop or resync the rest."""
        decision = self._judge(delta)
        if type(decision) is Hold:
            decision = self._held.hold(delta, decision.reason)
        if type(decision) is Resync:
            self._gaps += 1
        return decision

    def _judge(self, delta: BookDelta) -> Decision:
        """``delta`` against the book as it stands; advances it on :data:`APPLY`."""
        u = delta.seq
        last = self._last_u
        if last is None:
            self._dropped += 1
            return Drop("delta before the first snapshot")
        if u == last + 1:
            self._last_u = u
            self._applied += 1
            return APPLY
        if u == last:
            self._dropped += 1
            return Drop(f"duplicate delta u={u}")
        reason = f"gap: expected u={last + 1}, got u={u}"
        return Hold(reason) if u > last else Resync(reason)

    def _gap_given_up(self) -> None:
        self._gaps += 1

    def after_apply(self, book: OrderBook, update: BookSnapshot | BookDelta) -> Decision:
        """Bybit sends no checksum: every applied update stands."""
        return APPLY

    def reset(self) -> None:
        """Forget the book's position and the held deltas; the next snapshot starts over."""
        self._last_u = None
        self._held.clear()

    def statistics(self) -> BybitSyncStatistics:
        """A frozen snapshot of the counters."""
        return BybitSyncStatistics(
            last_u=self._last_u,
            snapshots=self._snapshots,
            restarts=self._restarts,
            applied=self._applied,
            dropped=self._dropped,
            gaps=self._gaps,
            held=len(self._held),
        )
