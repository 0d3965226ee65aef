"""Projections of the event log: orders, fills, positions, balances (pure).

A :class:`Projector` is fed the log's values in order and says which rows of the
projection tables each batch changes; the stores write those rows in the same
transaction as the batch. Orders go through the order state machine
(:class:`~connector.oms.state.OrderBookkeeping`), so the ``orders`` table holds
exactly what replaying the log into the order state gives; fills are kept once
per ``Fill.key``; positions and balances keep the latest value.
``connector store check`` rebuilds a projector from the whole log and compares.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from connector.model import Balance, Fill, Order, OrderEvent, OrderFilled, Position
from connector.model.trading import FillKey, OrderReport
from connector.oms.state import OrderBookkeeping, order_key
from connector.store.log import Logged

__all__ = ["ProjectionChanges", "Projector"]


@attrs.frozen(kw_only=True)
class ProjectionChanges:
    """The rows one batch changes: the newest value of each, in first-touched order."""

    orders: tuple[Order, ...] = ()
    fills: tuple[Fill, ...] = ()
    positions: tuple[Position, ...] = ()
    balances: tuple[Balance, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.orders or self.fills or self.positions or self.balances)


class Projector:
    """The projections' state in memory, built by applying the log in order."""

    def __init__(self) -> None:
        self.orders = OrderBookkeeping()
        self._fills: dict[FillKey, Fill] = {}
        self._positions: dict[tuple[str, str], Position] = {}
        self._balances: dict[tuple[str, str], Balance] = {}

    def apply(self, events: Iterable[Logged]) -> ProjectionChanges:
        """Apply a batch; return the rows it changed."""
        orders: dict[tuple[str, str], Order] = {}
        fills: list[Fill] = []
        positions: dict[tuple[str, str], Position] = {}
        balances: dict[tuple[str, str], Balance] = {}
        for event in events:
            if isinstance(event, OrderEvent | OrderReport):
                before = self._order_of(event) if isinstance(event, OrderReport) else None
                made = self.orders.apply(event)
                # A logged report may move an order without an event of its own.
                if made or (isinstance(event, OrderReport) and self._order_of(event) != before):
                    order = self._order_of(event)
                    if order is not None:
                        orders[
                            (order.venue, order_key(order.client_order_id, order.venue_order_id))
                        ] = order
                if isinstance(event, OrderFilled) and self._add_fill(event.fill):
                    fills.append(event.fill)
            elif isinstance(event, Fill):
                if self._add_fill(event):
                    fills.append(event)
            elif isinstance(event, Position):
                key = (event.venue, str(event.symbol))
                self._positions[key] = positions[key] = event
            else:
                key = (event.venue, event.asset)
                self._balances[key] = balances[key] = event
        return ProjectionChanges(
            orders=tuple(orders.values()),
            fills=tuple(fills),
            positions=tuple(positions.values()),
            balances=tuple(balances.values()),
        )

    def fills(self) -> list[Fill]:
        """Every distinct fill, in the order first seen."""
        return list(self._fills.values())

    def positions(self) -> list[Position]:
        """The latest position of each venue and symbol."""
        return list(self._positions.values())

    def balances(self) -> list[Balance]:
        """The latest balance of each venue and asset."""
        return list(self._balances.values())

    def _add_fill(self, fill: Fill) -> bool:
        key = fill.key
        if key in self._fills:
            return False
        self._fills[key] = fill
        return True

    def _order_of(self, event: OrderEvent | OrderReport) -> Order | None:
        order = self.orders.get(event.venue, order_key(event.client_order_id, event.venue_order_id))
        if order is None and event.venue_order_id:
            order = self.orders.get_by_venue_id(event.venue, event.venue_order_id)
        return order
