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

Anything else answers :class:`Resync` with a reason naming what was expected and
what came. A diff with the same ``u`` again (or older, once the chain is running:
every ``u`` up to ``prev_u`` was applied, so an older one is a replay) answers
:class:`Drop`. Shown by the captures ``hftbacktest/examples/{usdm,spot}/btcusdt_20240808.gz``
and ``cryptofeed/master/sample_data/BINANCE*.ws.1.0`` with ``*.http.0.0``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from connector.book.sequencing import APPLY, BUFFER, Decision, Drop, Resync
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
        snapshot_id: ``lastUpdateId`` of the snapshot the chain started from.
        last_update_id: ``u`` of the last diff applied.
    """

    buffered: int
    snapshot_id: int | None
    last_update_id: int | None


class _BinanceSync:
    """What spot and futures share; subclasses define the two chain rules."""

    needs_rest_snapshot = True

    def __init__(self, *, buffer_limit: int = DEFAULT_BUFFER_LIMIT) -> None:
        if buffer_limit < 1:
            raise ValueError(f"buffer_limit must be positive, got {buffer_limit}")
        self.buffer_limit = buffer_limit
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

    # -- Sequencer ------------------------------------------------------------

    def on_delta(self, delta: BookDelta) -> Decision:
        """Buffer, apply, drop or resync one diff (see the module docstring).

        The buffer holds at most ``buffer_limit`` diffs; one more answers
        :class:`Resync` (the snapshot is overdue) and empties it.
        """
        prev_u = self._prev_u
        if prev_u is not None:
            if delta.seq <= prev_u:
                return Drop(f"duplicate or replayed diff: u={delta.seq} <= applied u={prev_u}")
            problem = self._chain_rule(delta, prev_u)
            if problem is None:
                self._prev_u = delta.seq
                return APPLY
            return Resync(problem)
        lid = self._snapshot_id
        if lid is None:
            if len(self._buffer) >= self.buffer_limit:
                self._buffer.clear()
                return Resync(f"buffer overflow: {self.buffer_limit} diffs and no snapshot")
            self._buffer.append(delta)
            return BUFFER
        # Snapshot loaded, no diff applied yet.
        if self._older_than_snapshot(delta, lid):
            return Drop(f"diff u={delta.seq} is older than snapshot lastUpdateId={lid}")
        problem = self._first_rule(delta, lid)
        if problem is not None:
            return Resync(problem)
        self._prev_u = delta.seq
        return APPLY

    def on_snapshot(self, snapshot: BookSnapshot) -> Decision:
        """Chain a REST snapshot to the buffered diffs; :meth:`drain` then has them.

        A snapshot no newer than the book already applied is dropped.
        """
        lid = snapshot.seq
        if self._prev_u is not None and lid <= self._prev_u:
            return Drop(f"snapshot lastUpdateId={lid} is not newer than applied u={self._prev_u}")
        if self._snapshot_id is not None and self._prev_u is None and lid <= self._snapshot_id:
            return Drop(f"snapshot lastUpdateId={lid} is not newer than {self._snapshot_id}")
        buffered = self._buffer
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
        return APPLY

    def drain(self) -> list[BookDelta]:
        """The buffered diffs that chain to the last snapshot, in order (once)."""
        pending = self._pending
        self._pending = []
        return pending

    def after_apply(self, book: OrderBook, update: BookSnapshot | BookDelta) -> Decision:
        """Binance sends no checksum: always :data:`APPLY`."""
        return APPLY

    def reset(self) -> None:
        """Forget the snapshot, the chain and every buffered diff."""
        self._buffer = []
        self._pending = []
        self._snapshot_id = None
        self._prev_u = None

    def statistics(self) -> BinanceSyncStatistics:
        """Where the chain stands (a frozen snapshot)."""
        return BinanceSyncStatistics(
            buffered=len(self._buffer),
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
