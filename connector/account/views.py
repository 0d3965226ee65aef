"""``c.positions`` and ``c.balances``: read-only views of the account books (sans-I/O).

The books (:class:`~connector.account.positions.PositionBook`,
:class:`~connector.account.balances.BalanceBook`) hold every trading venue's
positions and balances; each venue's account service feeds them. These views
are what a program reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

from connector.account.balances import BalanceBook
from connector.account.positions import PositionBook
from connector.account.reservations import Reservations
from connector.model.symbols import Symbol
from connector.model.trading import Balance, Position

__all__ = ["BalancesView", "PositionsView"]

MidPrice = Callable[[str, Symbol], Decimal | None]
"""The mid of a venue's valid book of a symbol, or ``None`` (no valid book)."""
CheckVenue = Callable[[str], object]
"""Raises :class:`~connector.errors.ConfigError` for a venue that does not trade here."""


def _symbol(symbol: Symbol | str) -> Symbol:
    return symbol if isinstance(symbol, Symbol) else Symbol.parse(symbol)


class PositionsView:
    """``c.positions``: derivative positions (one-way, signed base quantity) and P&L."""

    def __init__(self, book: PositionBook, mid: MidPrice, check_venue: CheckVenue) -> None:
        self._book = book
        self._mid = mid
        self._check_venue = check_venue

    def get(self, venue: str, symbol: Symbol | str) -> Position | None:
        """The position of ``symbol`` on ``venue``, or ``None`` if no fill or venue
        snapshot ever mentioned it (a closed position is there with ``qty`` 0).

        Raises:
            ConfigError: ``venue`` does not trade here.
        """
        self._check_venue(venue)
        return self._book.get(venue, _symbol(symbol))

    def all(self) -> list[Position]:
        """Every position of every trading venue, flat ones included."""
        return self._book.all()

    def unrealized_pnl(self, venue: str, symbol: Symbol | str) -> Decimal | None:
        """Unrealised P&L at the mid of the venue's valid book (``None``: no valid book).

        Raises:
            ConfigError: ``venue`` does not trade here.
        """
        self._check_venue(venue)
        sym = _symbol(symbol)
        mid = self._mid(venue, sym)
        return None if mid is None else self._book.unrealized_pnl(venue, sym, mid)

    def __iter__(self) -> Iterator[Position]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._book.all())


class BalancesView:
    """``c.balances``: each asset's free and locked amount on each trading venue, and
    what our spot orders hold of it that the venue's values do not show yet."""

    def __init__(
        self,
        book: BalanceBook,
        check_venue: CheckVenue,
        reservations: Reservations | None = None,
    ) -> None:
        self._book = book
        self._check_venue = check_venue
        self._reservations = Reservations() if reservations is None else reservations

    def get(self, venue: str, asset: str) -> Balance | None:
        """The balance of ``asset`` on ``venue`` (the venue's latest value plus the spot
        fills after it), or ``None`` if the venue never reported it.

        Raises:
            ConfigError: ``venue`` does not trade here.
        """
        self._check_venue(venue)
        return self._book.get(venue, asset)

    def reserved(self, venue: str, asset: str) -> Decimal:
        """What our open spot orders hold of ``asset`` on ``venue`` that the venue's
        balance does not show locked yet (0 when nothing is).

        Raises:
            ConfigError: ``venue`` does not trade here.
        """
        self._check_venue(venue)
        return self._reservations.reserved(venue, asset)

    def available(self, venue: str, asset: str) -> Decimal | None:
        """``free`` less what is reserved: what a new order can still use (negative
        when orders hold more than is free), or ``None`` if the venue never reported
        the asset.

        Raises:
            ConfigError: ``venue`` does not trade here.
        """
        self._check_venue(venue)
        balance = self._book.get(venue, asset)
        if balance is None:
            return None
        return balance.free - self._reservations.reserved(venue, asset)

    def all(self, venue: str | None = None) -> list[Balance]:
        """Every asset of every trading venue (or of one).

        Raises:
            ConfigError: ``venue`` does not trade here.
        """
        if venue is not None:
            self._check_venue(venue)
        return self._book.all(venue)

    def __iter__(self) -> Iterator[Balance]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._book.all())
