"""The venue's truth for tests: what a simulated venue knows of its accounts (read-only).

A :class:`Truth` is a read-only view over one venue's
:class:`~connector.sim.desk.Desk`: every order (open and closed), fill,
balance and position as the engine and the accounts know them, so a test can
compare a client's view with the venue's::

    async with connector.sim.run() as s:
        truth = s.truth("binance")
        ...  # trade through a client
        assert client_orders == truth.open_orders()

Inside a :class:`~connector.Connector` whose venues use ``endpoint = "sim"``,
``connector.simulator.truth("binance")`` gives the same view of the
simulator it runs. ``account`` defaults to the venue's default account
(``<venue>-demo``) for balances and positions and to every account for orders
and fills. Values are the desk's frozen types (:class:`~connector.sim.desk.UserOrder`,
:class:`~connector.sim.desk.UserFill`, :class:`~connector.sim.accounts.Balance`,
:class:`~connector.sim.accounts.Position`).
"""

from __future__ import annotations

from decimal import Decimal

from connector.sim.accounts import Balance, Position
from connector.sim.desk import Desk, UserFill, UserOrder

__all__ = ["Truth"]


class Truth:
    """A read-only view of one venue's orders, fills, balances and positions.

    Args:
        desk: The venue's desk (``SimVenue.desk``).
    """

    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    @property
    def venue(self) -> str:
        """The venue's name."""
        return self._desk.venue

    def accounts(self) -> tuple[str, ...]:
        """Every account of the venue."""
        return self._desk.accounts()

    def default_account(self) -> str:
        """The account used when none is named.

        Raises:
            LookupError: the venue has no accounts.
        """
        account = self._desk.default_account()
        if account is None:
            raise LookupError(f"the simulated {self.venue} has no accounts")
        return account

    def _each(self, account: str | None) -> tuple[str, ...]:
        return self._desk.accounts() if account is None else (account,)

    def orders(
        self, account: str | None = None, market: str | None = None, native_id: str | None = None
    ) -> list[UserOrder]:
        """Every order (open and closed) of ``account`` (all accounts: None), oldest first."""
        out = [o for a in self._each(account) for o in self._desk.orders(a, market, native_id)]
        return sorted(out, key=lambda o: int(o.order_id))

    def open_orders(
        self, account: str | None = None, market: str | None = None, native_id: str | None = None
    ) -> list[UserOrder]:
        """Resting orders of ``account`` (all accounts: None), oldest first."""
        return [o for o in self.orders(account, market, native_id) if o.is_open]

    def order(
        self,
        account: str | None = None,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> UserOrder | None:
        """One order by venue id, or the latest with a client id, in any market
        (of ``account``, or of any account when None)."""
        found: UserOrder | None = None
        for order in self.orders(account):
            if order_id is not None and order.order_id == order_id:
                return order
            if client_order_id is not None and order.client_order_id == client_order_id:
                found = order
        return found

    def fills(
        self,
        account: str | None = None,
        market: str | None = None,
        native_id: str | None = None,
        *,
        order_id: str | None = None,
    ) -> list[UserFill]:
        """Fills of ``account`` (all accounts: None), oldest first."""
        out = [
            f
            for a in self._each(account)
            for f in self._desk.fills(a, market, native_id, order_id=order_id)
        ]
        return sorted(out, key=lambda f: (f.ts_ms, int(f.trade_id)))

    def balances(self, account: str | None = None) -> tuple[Balance, ...]:
        """Every asset of ``account`` (default account: None)."""
        return self._desk.balances(account or self.default_account())

    def balance(self, asset: str, account: str | None = None) -> Balance:
        """One asset of ``account`` (default account: None)."""
        return self._desk.balance(account or self.default_account(), asset)

    def positions(self, account: str | None = None) -> tuple[Position, ...]:
        """Open linear positions of ``account`` (default account: None), sizes in base units."""
        return self._desk.positions(account or self.default_account())

    def mark_price(self, market: str, native_id: str) -> Decimal:
        """The mark price the venue uses for ``native_id``."""
        return self._desk.mark_price(market, native_id)
