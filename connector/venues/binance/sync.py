"""Binance diff-depth sequencing (sans-I/O): spot and USDⓈ-M futures.

Binance's "how to manage a local order book correctly", as a pure state machine
per symbol (see :class:`connector.book.sequencing.Sequencer`):

1. Subscribe to ``<symbol>@depth@100ms`` and buffer the diffs (bounded).
2. Fetch a REST snapshot (``lastUpdateId``).
3. Drop buffered diffs older than the snapshot: spot ``u <= lastUpdateId``,
   futures ``u < lastUpdateId``.
4. The first diff applied must straddle the snapshot: spot
   ``U <= lastUpdateId + 1 <= u``; futures ``U <= lastUpdateId <= u``.
5. Every later diff must chain: spot ``U == prev_u + 1``; futures ``pu == prev_u``.

A diff that starts further on (spot ``U > prev_u + 1``, futures ``pu > prev_u``;
or past the snapshot's id for the first one) shows that diffs are missing; they
may only be late (frames swapped on the way), so it is held (:class:`Hold`, at
most ``hold_limit``) and applied once they come; the keeper resyncs if they do
not come within the reorder window. Buffered diffs are chained to a snapshot in
``u`` order. Anything else answers :class:`Resync` with a reason naming what was
expected and what came. A diff with the same ``u`` again (or older, once the
chain is running: every ``u`` up to ``prev_u`` was applied, so an older one is a
replay) answers :class:`Drop`. Shown by the captures
``hftbacktest/examples/{usdm,spot}/btcusdt_20240808.gz`` and
``cryptofeed/master/sample_data/BINANCE*.ws.1.0`` with ``*.http.0.0``.
"""

from __future__ import annotations

from operator import attrgetter
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

if TYPE_CHECKING:
    from connector.book.orderbook import OrderBook

__all__ = ["DEFAULT_BUFFER_LIMIT", "BinanceFuturesSync", "BinanceSpotSync", "BinanceSyncStatistics"]

DEFAULT_BUFFER_LIMIT = 10_000
"""Diffs held while waiting for a snapshot before giving up with :class:`Resync`."""


@attrs.frozen(kw_only=True)
class BinanceSyncStatistics:
    """Where one Binance book's chain stands.

    Attributes:
        buffered: Diffs waiting for a snapshot.
        held: Diffs held ahead of the book, waiting for a missing one.
        snapshot_id: ``lastUpdateId`` of the snapshot the chain started from.
        last_update_id: ``u`` of the last diff applied.
    """

    buffered: int
    snapshot_id: int | None
    last_update_id: int | None
    held: int = 0


class _BinanceSync(HoldsAhead):
    """What spot and futures share; subclasses define the two chain rules."""

    needs_rest_snapshot = True

    def __init__(
        self, *, buffer_limit: int = DEFAULT_BUFFER_LIMIT, hold_limit: int = DEFAULT_HOLD_LIMIT
    ) -> None:
        if buffer_limit < 1:
            raise ValueError(f"buffer_limit must be positive, got {buffer_limit}")
        self.buffer_limit = buffer_limit
        self._held = HeldDeltas(hold_limit)
        self._buffer: list[BookDelta] = []
        self._pending: list[BookDelta] = []
        self._snapshot_id: int | None = None
        self._prev_u: int | None = None

    # -- rules (overridden) ---------------------------------------------------

    def _older_than_snapshot(self, delta: BookDelta, last_update_id: int) -> bool:
        raise NotImplementedError

    def _first_rule(self, delta: BookDelta, last_update_id: int) -> str | None:
        """``None`` when ``delta`` may be the first applied after the snapshot."""
        raise NotImplementedError

    def _chain_rule(self, delta: BookDelta, prev_u: int) -> str | None:
        """``None`` when ``delta`` follows the diff whose ``u`` was ``prev_u``."""
        raise NotImplementedError

    def _ahead(self, delta: BookDelta, position: int) -> bool:
        """Whether ``delta`` (newer than the book, not following it) starts after the
        diff following ``position`` (the last ``u`` applied, or the snapshot's id):
        diffs between are missing, and may still come."""
        raise NotImplementedError

    # -- Sequencer ------------------------------------------------------------

    def on_delta(self, delta: BookDelta) -> Decision:
        """Buffer, apply, hold, drop or resync one diff (see the module docstring).

        The buffer holds at most ``buffer_limit`` diffs; one more answers
        :class:`Resync` (the snapshot is overdue) and empties it. A diff ahead of
        the book is held (at most ``hold_limit``; one more answers :class:`Resync`).
        """
        if self._prev_u is None and self._snapshot_id is None:
            if len(self._buffer) >= self.buffer_limit:
                self._buffer.clear()
                return Resync(f"buffer overflow: {self.buffer_limit} diffs and no snapshot")
            self._buffer.append(delta)
            return BUFFER
        decision = self._judge(delta)
        if type(decision) is Hold:
            return self._held.hold(delta, decision.reason)
        return decision

    def _judge(self, delta: BookDelta) -> Decision:
        """``delta`` against the book as it stands (a snapshot is loaded): :data:`APPLY`
        (and advance), :class:`Drop`, :class:`Hold` (it is ahead) or :class:`Resync`."""
        prev_u = self._prev_u
        if prev_u is not None:
            if delta.seq <= prev_u:
                return Drop(f"duplicate or replayed diff: u={delta.seq} <= applied u={prev_u}")
            problem = self._chain_rule(delta, prev_u)
            position = prev_u
        else:
            lid = self._snapshot_id
            assert lid is not None
            if self._older_than_snapshot(delta, lid):
                return Drop(f"diff u={delta.seq} is older than snapshot lastUpdateId={lid}")
            problem = self._first_rule(delta, lid)
            position = lid
        if problem is None:
            self._prev_u = delta.seq
            return APPLY
        return Hold(problem) if self._ahead(delta, position) else Resync(problem)

    def on_snapshot(self, snapshot: BookSnapshot) -> Decision:
        """Chain a REST snapshot to the buffered diffs; :meth:`drain` then has them.

        A snapshot no newer than the book already applied is dropped; one loaded
        forgets the held diffs.
        """
        lid = snapshot.seq
        if self._prev_u is not None and lid <= self._prev_u:
            return Drop(f"snapshot lastUpdateId={lid} is not newer than applied u={self._prev_u}")
        if self._snapshot_id is not None and self._prev_u is None and lid <= self._snapshot_id:
            return Drop(f"snapshot lastUpdateId={lid} is not newer than {self._snapshot_id}")
        # In ``u`` order: frames swapped on the way chain all the same.
        buffered = sorted(self._buffer, key=attrgetter("seq"))
        self._buffer = []
        chained: list[BookDelta] = []
        prev_u: int | None = None
        for delta in buffered:
            if prev_u is None:
                if self._older_than_snapshot(delta, lid):
                    continue
                problem = self._first_rule(delta, lid)
            elif delta.seq <= prev_u:
                continue
            else:
                problem = self._chain_rule(delta, prev_u)
            if problem is not None:
                self.reset()
                return Resync(problem)
            chained.append(delta)
            prev_u = delta.seq
        self._snapshot_id = lid
        self._prev_u = prev_u
        self._pending = chained
        # The snapshot replaces the book: diffs held ahead of the old one are moot.
        self._held.clear()
        return APPLY

    def drain(self) -> list[BookDelta]:
        """The buffered diffs that chain to the last snapshot, or else the held diffs
        that follow the book now, in order (once)."""
        pending = self._pending
        if pending:
            self._pending = []
            return pending
        return self._release_held()

    def after_apply(self, book: OrderBook, update: BookSnapshot | BookDelta) -> Decision:
        """Binance sends no checksum: always :data:`APPLY`."""
        return APPLY

    def reset(self) -> None:
        """Forget the snapshot, the chain and every buffered or held diff."""
        self._buffer = []
        self._held.clear()
        self._pending = []
        self._snapshot_id = None
        self._prev_u = None

    def statistics(self) -> BinanceSyncStatistics:
        """Where the chain stands (a frozen snapshot)."""
        return BinanceSyncStatistics(
            buffered=len(self._buffer),
            held=len(self._held),
            snapshot_id=self._snapshot_id,
            last_update_id=self._prev_u,
        )

    @property
    def buffered(self) -> int:
        """Diffs waiting for a snapshot."""
        return len(self._buffer)

    @property
    def last_update_id(self) -> int | None:
        """``u`` of the last diff applied (or accepted from the buffer)."""
        return self._prev_u


class BinanceSpotSync(_BinanceSync):
    """Spot rule: first diff ``U <= lastUpdateId + 1 <= u``, then ``U == prev_u + 1``."""

    def on_delta(self, delta: BookDelta) -> Decision:
        prev_u = self._prev_u
        # The common case first: a diff that chains to the last one applied.
        if prev_u is not None and delta.first_seq == prev_u + 1 and delta.seq > prev_u:
            self._prev_u = delta.seq
            return APPLY
        return super().on_delta(delta)

    def _older_than_snapshot(self, delta: BookDelta, last_update_id: int) -> bool:
        return delta.seq <= last_update_id

    def _first_rule(self, delta: BookDelta, last_update_id: int) -> str | None:
        if delta.first_seq <= last_update_id + 1 <= delta.seq:
            return None
        return (
            f"first diff must have U <= {last_update_id + 1} <= u, "
            f"got U={delta.first_seq} u={delta.seq}"
        )

    def _chain_rule(self, delta: BookDelta, prev_u: int) -> str | None:
        if delta.first_seq == prev_u + 1:
            return None
        return f"gap: expected U={prev_u + 1}, got U={delta.first_seq} (u={delta.seq})"

    def _ahead(self, delta: BookDelta, position: int) -> bool:
        return delta.first_seq > position + 1


class BinanceFuturesSync(_BinanceSync):
    """USDⓈ-M rule: first diff ``U <= lastUpdateId <= u`` (or ``pu == lastUpdateId``),
    then ``pu == prev_u``."""

    def on_delta(self, delta: BookDelta) -> Decision:
        prev_u = self._prev_u
        # The common case first: a diff that chains to the last one applied.
        if prev_u is not None and delta.prev_seq == prev_u and delta.seq > prev_u:
            self._prev_u = delta.seq
            return APPLY
        return super().on_delta(delta)

    def _older_than_snapshot(self, delta: BookDelta, last_update_id: int) -> bool:
        return delta.seq < last_update_id

    def _first_rule(self, delta: BookDelta, last_update_id: int) -> str | None:
        # The documented rule; or the diff that follows the snapshot exactly (its ``pu``
        # is the snapshot's id): a quiet book's snapshot taken between two diffs has no
        # diff spanning its id, and the next one chains to it as ``pu`` says.
        if delta.first_seq <= last_update_id <= delta.seq or delta.prev_seq == last_update_id:
            return None
        return (
            f"first diff must have U <= {last_update_id} <= u or pu = {last_update_id}, "
            f"got U={delta.first_seq} u={delta.seq} pu={delta.prev_seq}"
        )

    def _chain_rule(self, delta: BookDelta, prev_u: int) -> str | None:
        if delta.prev_seq == prev_u:
            return None
        return f"gap: expected pu={prev_u}, got pu={delta.prev_seq} (u={delta.seq})"

    def _ahead(self, delta: BookDelta, position: int) -> bool:
        return delta.prev_seq is not None and delta.prev_seq > position
