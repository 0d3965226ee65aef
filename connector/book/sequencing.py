"""Book sequencing decisions: the vocabulary every venue's sequencer speaks.

Sequencers decide, the trio code acts ("decide, don't act"): ``on_delta``
returns :class:`Apply`, :class:`Buffer`, :class:`Hold`, :class:`Drop` or
:class:`Resync`; the keeper (:mod:`connector.book.keeper`) carries the decision
out and the session logs it. Each venue's rule (``connector/venues/<v>/sync.py``)
implements :class:`Sequencer`; :class:`HeldDeltas` is the bounded store of the
updates they hold while a gap may still fill.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Protocol

import attrs

from connector.model import BookDelta, BookSnapshot

if TYPE_CHECKING:
    from connector.book.orderbook import OrderBook

__all__ = [
    "APPLY",
    "BUFFER",
    "DEFAULT_HOLD_LIMIT",
    "Apply",
    "Buffer",
    "Decision",
    "Drop",
    "HeldDeltas",
    "Hold",
    "HoldsAhead",
    "Resync",
    "Sequencer",
]

DEFAULT_HOLD_LIMIT = 32
"""Updates a book holds at most while it waits for a missing one."""


@attrs.frozen
class Apply:
    """Apply the update to the book."""


@attrs.frozen
class Buffer:
    """Keep the update: the book is waiting for a snapshot it must chain to."""


@attrs.frozen
class Hold:
    """Keep the update: it is ahead of the book (earlier ones are missing, perhaps
    only late). The sequencer holds it and hands it out by :meth:`Sequencer.drain`
    once the missing ones were applied; the book stays valid at its last applied
    state meanwhile. If the gap is not filled in the reorder window the keeper
    gives up (:meth:`Sequencer.expire`) and resyncs with ``reason``."""

    reason: str


@attrs.frozen
class Drop:
    """Ignore the update (older than the book, or a harmless duplicate)."""

    reason: str


@attrs.frozen
class Resync:
    """The book cannot be trusted: invalidate it and fetch a fresh snapshot."""

    reason: str


APPLY = Apply()
BUFFER = Buffer()
Decision = Apply | Buffer | Hold | Drop | Resync

Judge = Callable[[BookDelta], Decision]
"""A sequencer's verdict on one update against the book as it stands; advances the
sequencer's position when it answers :data:`APPLY`, changes nothing otherwise."""


class HeldDeltas:
    """Updates ahead of the book, in sequence order, waiting for the missing one.

    Bounded: :meth:`hold` refuses one more than ``limit`` with :class:`Resync` (a
    gap that many updates wide is a loss, not a late frame). Time is the caller's:
    the keeper ends the wait through the sequencer's ``expire``.

    Args:
        limit: Updates held at most (see :data:`DEFAULT_HOLD_LIMIT`).

    Raises:
        ValueError: ``limit`` is below 1.
    """

    def __init__(self, limit: int = DEFAULT_HOLD_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"hold limit must be positive, got {limit}")
        self.limit = limit
        self._deltas: list[BookDelta] = []

    def __len__(self) -> int:
        return len(self._deltas)

    def hold(self, delta: BookDelta, reason: str) -> Hold | Resync:
        """Keep ``delta`` (its gap is ``reason``), or :class:`Resync` when full."""
        if len(self._deltas) >= self.limit:
            return Resync(f"{reason}; {self.limit} updates held and the gap not filled")
        bisect.insort(self._deltas, delta, key=attrgetter("seq"))
        return Hold(reason)

    def release(self, judge: Judge) -> list[BookDelta]:
        """The held updates that follow the book now, in the order they chain (``judge``
        advances the sequencer over each); older ones are discarded, the rest stay
        held. Every held one is tried again after each release: sequence numbers that
        restart (an OKX maintenance reset) do not follow their chain's order."""
        released: list[BookDelta] = []
        deltas = self._deltas
        moved = True
        while moved:
            moved = False
            for i, delta in enumerate(deltas):
                decision = judge(delta)
                if decision is APPLY or type(decision) is Apply:
                    released.append(deltas.pop(i))
                elif type(decision) is Drop:
                    deltas.pop(i)
                else:
                    continue
                moved = True
                break
        return released

    def expire(self, judge: Judge) -> Resync | None:
        """Give up the wait: the gap before the first held update (as ``judge`` words
        it) as a :class:`Resync`, or ``None`` when nothing is held. Empties the store."""
        if not self._deltas:
            return None
        decision = judge(self._deltas[0])
        self._deltas = []
        reason = getattr(decision, "reason", None) or "held updates never chained"
        return Resync(reason)

    def clear(self) -> None:
        self._deltas = []


class HoldsAhead:
    """The :class:`Sequencer` members every rule that holds updates ahead of the book
    shares: its :class:`HeldDeltas` in ``_held``, judged again by its ``_judge``.

    A rule with a buffer of its own (chained to a snapshot) hands that out first and
    calls :meth:`_release_held` after; :meth:`_gap_given_up` is where one that counts
    gaps counts an expired wait.
    """

    __slots__ = ()
    _held: HeldDeltas

    def _judge(self, delta: BookDelta) -> Decision:
        """``delta`` against the book as it stands; advances the rule on :data:`APPLY`."""
        raise NotImplementedError

    def _gap_given_up(self) -> None:
        """The wait for a held gap is over and the book resyncs for it."""

    def _release_held(self) -> list[BookDelta]:
        return self._held.release(self._judge) if self._held else []

    def drain(self) -> list[BookDelta]:
        """The held updates that follow the book now, in order (once)."""
        return self._release_held()

    @property
    def held(self) -> int:
        """Updates held ahead of the book."""
        return len(self._held)

    def expire(self) -> Resync | None:
        """The wait for the updates missing before the held ones is over: the gap as a
        :class:`Resync` (``None``: nothing held); the held updates are forgotten."""
        gap = self._held.expire(self._judge)
        if gap is not None:
            self._gap_given_up()
        return gap


class Sequencer(Protocol):
    """One symbol's sequencing rule (design.md section 5), pure and per book.

    Life: ``on_delta`` answers :data:`BUFFER` until a snapshot is loaded (the
    sequencer holds those deltas itself, bounded); ``on_snapshot`` answers
    :data:`APPLY` (load it, then apply :meth:`drain` in order) or :class:`Resync`
    (the snapshot cannot be chained to; fetch another). Once the book runs, an
    update ahead of it answers :class:`Hold` (kept, :attr:`held` counts them);
    after each applied update :meth:`drain` has the held ones that now follow,
    and :meth:`expire` gives up on them (the caller's reorder window is over).
    After every applied update that carries a checksum (a non-zero ``checksum``:
    OKX) the keeper calls :meth:`after_apply` to check it. :meth:`reset`
    forgets everything, after a gap, a reconnect or an invalidation.
    :meth:`statistics` reports the rule's own counters (in
    :attr:`KeeperStatistics.sequencer <connector.book.keeper.KeeperStatistics>`).
    """

    needs_rest_snapshot: bool

    def on_snapshot(self, snapshot: BookSnapshot) -> Decision: ...

    def on_delta(self, delta: BookDelta) -> Decision: ...

    def drain(self) -> list[BookDelta]: ...

    @property
    def held(self) -> int:
        """Updates held ahead of the book."""
        ...

    def expire(self) -> Resync | None: ...

    def after_apply(self, book: OrderBook, update: BookSnapshot | BookDelta) -> Decision: ...

    def reset(self) -> None: ...

    def statistics(self) -> object:
        """A frozen snapshot of the venue rule's own counters."""
        ...
