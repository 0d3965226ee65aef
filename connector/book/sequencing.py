"""Book sequencing decisions: the vocabulary every venue's sequencer speaks.

Sequencers decide, the trio code acts ("decide, don't act"): ``on_delta``
returns :class:`Apply`, :class:`Buffer`, :class:`Drop` or :class:`Resync`; the
keeper (:mod:`connector.book.keeper`) carries the decision out and the session
logs it. Each venue's rule (``connector/venues/<v>/sync.py``) implements
:class:`Sequencer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import attrs

from connector.model import BookDelta, BookSnapshot

if TYPE_CHECKING:
    from connector.book.orderbook import OrderBook

__all__ = ["APPLY", "BUFFER", "Apply", "Buffer", "Decision", "Drop", "Resync", "Sequencer"]


@attrs.frozen
class Apply:
    """Apply the update to the book."""


@attrs.frozen
class Buffer:
    """Keep the update: the book is waiting for a snapshot it must chain to."""


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
Decision = Apply | Buffer | Drop | Resync


class Sequencer(Protocol):
    """One symbol's sequencing rule (design.md section 5), pure and per book.

    Life: ``on_delta`` answers :data:`BUFFER` until a snapshot is loaded (the
    sequencer holds those deltas itself, bounded); ``on_snapshot`` answers
    :data:`APPLY` (load it, then apply :meth:`drain` in order) or :class:`Resync`
    (the snapshot cannot be chained to; fetch another). After every applied
    update that carries a checksum (a non-zero ``checksum``: OKX) the keeper calls
    :meth:`after_apply` to check it. :meth:`reset`
    forgets everything, after a gap, a reconnect or an invalidation.
    :meth:`statistics` reports the rule's own counters (in
    :attr:`KeeperStatistics.sequencer <connector.book.keeper.KeeperStatistics>`).
    """

    needs_rest_snapshot: bool

    def on_snapshot(self, snapshot: BookSnapshot) -> Decision: ...

    def on_delta(self, delta: BookDelta) -> Decision: ...

    def drain(self) -> list[BookDelta]: ...

    def after_apply(self, book: OrderBook, update: BookSnapshot | BookDelta) -> Decision: ...

    def reset(self) -> None: ...

    def statistics(self) -> object:
        """A frozen snapshot of the venue rule's own counters."""
        ...
