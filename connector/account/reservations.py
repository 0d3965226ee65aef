"""Funds our spot orders hold that the venue's balance does not show yet (sans-I/O).

Between an order's placement and the venue's balance value that shows its lock,
the venue's ``free`` overstates what is left to trade with: a strategy placing
orders back to back would over-commit. :class:`Reservations` keeps, per
(venue, asset), what our open spot orders need beyond what the venue's balance
already shows, so that

    available = free - reserved

What an order needs (:func:`spot_need`):

- a limit buy: price x open qty of the quote asset;
- a market buy: open qty x a reference price (the book's mid when placed; with
  none, nothing is reserved);
- a sell: the open qty of the base asset;
- fees: nothing (the venue takes them from the fill, not from a lock);
- a derivative (perpetual, future): nothing: its margin depends on leverage
  that is not modelled here.

The rule, per order:

    reserved = max(0, need now - the need the venue's balance showed)

- :meth:`Reservations.reserve`: the order is about to be sent; nothing of it is
  shown yet, all its need is reserved.
- :meth:`Reservations.order_changed`: every change of the order. An end
  (filled, canceled, rejected, expired: also an unknown outcome resolved to
  "not placed") drops it; a fill or an amendment changes its need; a venue
  status (``new``, ``partially_filled``) means the venue acknowledged it, so
  its lock exists there.
- :meth:`Reservations.balance_applied`: a venue balance of the asset was
  applied. Orders acknowledged before it are shown by it: the need they had
  then counts as shown. A balance applied before the acknowledgement shows
  nothing of the order (the reservation stays until the next one:
  conservative). An amendment the venue acknowledged counts as a new
  acknowledgement: a larger need is reserved by the difference until the next
  balance shows it.
- :meth:`Reservations.wallet_read`: a REST read of the whole wallet, asked for
  at :meth:`Reservations.mark`: what was acknowledged before the mark is shown
  by it (balances the read found unchanged are not applied, yet show the lock).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from connector.model.symbols import Symbol, SymbolKind
from connector.model.trading import Order, OrderStatus, OrderType, PlaceOrder, Side

__all__ = ["Need", "ReservationStatistics", "Reservations", "drawn_asset", "spot_need"]

_ZERO = Decimal(0)
_UNACKNOWLEDGED = frozenset({OrderStatus.SUBMITTED, OrderStatus.UNKNOWN})


@attrs.frozen(kw_only=True)
class Need:
    """What an order holds of one asset while it is open."""

    asset: str
    amount: Decimal


def drawn_asset(symbol: Symbol, side: Side) -> str | None:
    """The asset a spot order of ``side`` draws on (``None``: not a spot symbol)."""
    if symbol.kind is not SymbolKind.SPOT:
        return None
    return symbol.quote if side is Side.BUY else symbol.base


def spot_need(
    order: PlaceOrder | Order, reference_price: Decimal | None, *, qty: Decimal | None = None
) -> Need | None:
    """What a spot order needs of which asset (see the module docstring).

    Args:
        order: The order (its ``qty`` in base units).
        reference_price: What a market buy is priced at (the book's mid).
        qty: The quantity to count (default: the order's).

    Returns:
        ``None`` for a derivative, a reduce-only order, or a market buy without a
        reference price.
    """
    asset = drawn_asset(order.symbol, order.side)
    if asset is None or order.reduce_only:
        return None
    amount = order.qty if qty is None else qty
    if order.side is Side.BUY:
        price = order.price if order.type is not OrderType.MARKET else reference_price
        if price is None:
            return None
        amount = amount * price
    return Need(asset=asset, amount=amount)


@attrs.frozen(kw_only=True)
class ReservationStatistics:
    orders: int
    """Open orders holding a reservation entry."""
    reserved: int
    """Orders whose reservation is above zero now."""


@attrs.define
class _Entry:
    asset: str
    reference: Decimal | None
    need: Decimal
    shown: Decimal = _ZERO
    """The need the venue's balance showed (the last one applied after the ack)."""
    acked: int | None = None
    """The sequence number of its (or its last amendment's) acknowledgement."""
    values: tuple[Decimal, Decimal | None] = (_ZERO, None)
    """(qty, price) as last seen: a change is an amendment."""

    @property
    def reserved(self) -> Decimal:
        return max(_ZERO, self.need - self.shown)


class Reservations:
    """The reservations of every venue's open spot orders (one owner mutates it)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._seq = 0

    # -- inputs ----------------------------------------------------------------

    def reserve(self, order: PlaceOrder, reference_price: Decimal | None = None) -> Need | None:
        """Reserve what ``order`` needs (it is about to be sent); the need, or ``None``
        when it reserves nothing (see :func:`spot_need`)."""
        need = spot_need(order, reference_price)
        if need is None:
            return None
        self._entries[(order.venue, order.client_order_id)] = _Entry(
            asset=need.asset,
            reference=reference_price,
            need=need.amount,
            values=(order.qty, order.price),
        )
        return need

    def release(self, venue: str, client_order_id: str) -> None:
        """Drop the order's reservation (it ended, or was never sent)."""
        self._entries.pop((venue, client_order_id), None)

    def order_changed(self, order: Order) -> None:
        """The order as it stands after a change (any source): ended, acknowledged,
        filled or amended."""
        entry = self._entries.get((order.venue, order.client_order_id))
        if entry is None:
            return
        if order.status.is_terminal:
            del self._entries[(order.venue, order.client_order_id)]
            return
        remaining = max(_ZERO, order.qty - order.filled_qty)
        need = spot_need(order, entry.reference, qty=remaining)
        entry.need = _ZERO if need is None else need.amount
        values = (order.qty, order.price)
        if order.status not in _UNACKNOWLEDGED and (entry.acked is None or values != entry.values):
            # Acknowledged now, or an amendment the venue made: the lock (or its new
            # size) is at the venue; the next balance applied shows it.
            self._seq += 1
            entry.acked = self._seq
        entry.values = values

    def mark(self) -> int:
        """A mark to pass to :meth:`wallet_read` (taken when its request is sent)."""
        return self._seq

    def balance_applied(self, venue: str, asset: str) -> None:
        """A venue balance of ``asset`` was applied: it shows every order acknowledged
        before it."""
        self._shown(venue, asset, self._seq)

    def wallet_read(self, venue: str, mark: int) -> None:
        """A REST read of the venue's wallet, asked for at ``mark``, was applied: it
        shows every order acknowledged before the mark, whatever the asset."""
        self._shown(venue, None, mark)

    # -- queries ---------------------------------------------------------------

    def reserved(self, venue: str, asset: str) -> Decimal:
        """What our open orders hold of ``asset`` on ``venue`` beyond the venue's balance."""
        return sum(
            (e.reserved for (v, _), e in self._entries.items() if v == venue and e.asset == asset),
            _ZERO,
        )

    def statistics(self) -> ReservationStatistics:
        entries = self._entries.values()
        return ReservationStatistics(
            orders=len(entries), reserved=sum(1 for e in entries if e.reserved > _ZERO)
        )

    # -- helpers ---------------------------------------------------------------

    def _shown(self, venue: str, asset: str | None, mark: int) -> None:
        for (v, _), entry in self._entries.items():
            if v != venue or (asset is not None and entry.asset != asset):
                continue
            if entry.acked is not None and entry.acked <= mark:
                entry.shown = entry.need
