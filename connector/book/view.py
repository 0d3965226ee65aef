"""A read-only live view of one book, as ``Connector.order_book`` returns it."""

from __future__ import annotations

from connector.book.keeper import BookKeeper
from connector.model import BookLevel, BookState, Market, Symbol

__all__ = ["BookView", "levels"]


class BookView:
    """Reads one venue book as it is now; it follows resyncs and restarts.

    While :attr:`state` is not valid the book is empty: a consumer never reads
    levels of a book that is not known to be right.
    """

    def __init__(self, keeper: BookKeeper) -> None:
        self._keeper = keeper

    @property
    def venue(self) -> str:
        return self._keeper.venue

    @property
    def market(self) -> Market:
        return self._keeper.market

    @property
    def symbol(self) -> Symbol:
        return self._keeper.symbol

    @property
    def state(self) -> BookState:
        return self._keeper.state

    @property
    def valid(self) -> bool:
        return self._keeper.state.valid

    @property
    def seq(self) -> int:
        """The venue's update id of the book's current state."""
        return self._keeper.seq

    def best_bid(self) -> BookLevel | None:
        return self._keeper.book.best_bid()

    def best_ask(self) -> BookLevel | None:
        return self._keeper.book.best_ask()

    def bids(self, n: int | None = None) -> list[BookLevel]:
        """The top ``n`` bids, best first (all when ``n`` is None).

        Raises:
            ValueError: a negative ``n``.
        """
        return self._keeper.bids(levels(n))

    def asks(self, n: int | None = None) -> list[BookLevel]:
        """The top ``n`` asks, best first (all when ``n`` is None).

        Raises:
            ValueError: a negative ``n``.
        """
        return self._keeper.asks(levels(n))

    def __repr__(self) -> str:
        return f"<BookView {self.venue} {self.symbol} {self.state.status.value} seq={self.seq}>"


def levels(n: int | None) -> int | None:
    """A number of levels asked for by a caller: ``None`` (all) or 0 and more."""
    if n is not None and n < 0:
        raise ValueError(f"{n} levels: expected 0 or more (None for all of them)")
    return n
