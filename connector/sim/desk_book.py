"""The desk's order records: every user order (open and closed) and fill of one venue (pure).

:class:`OrderRecord` is the desk's mutable state of one order (it hands out
frozen :class:`~connector.sim.desk_types.UserOrder` snapshots);
:class:`OrderBookKeeper` indexes records by venue order id, by client order id
per account and by account, gives out order ids, and keeps the fills.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from connector.model import OrderType, Side, TimeInForce
from connector.sim.accounts.money import ZERO, money
from connector.sim.desk_types import CancelCause, OrderState, UserFill, UserOrder

__all__ = ["OrderBookKeeper", "OrderRecord"]


@attrs.define(kw_only=True)
class OrderRecord:
    """One user order as the desk keeps it (mutable; owned by the desk).

    ``engine_qty`` is what the order may fill on the engine (``qty``, or less
    for a reduce-only order cut down to the position).
    """

    order_id: str
    client_order_id: str
    account: str
    market: str
    native_id: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    qty: Decimal
    price: Decimal | None
    reduce_only: bool
    contract_size: Decimal
    engine_qty: Decimal
    created_ms: int
    updated_ms: int
    state: OrderState = OrderState.NEW
    filled_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    fee: Decimal = ZERO
    fee_asset: str = ""
    cancel_cause: CancelCause | None = None
    revision: int = 1

    def snapshot(self) -> UserOrder:
        """The order now, frozen."""
        base = self.filled_qty * self.contract_size
        return UserOrder(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            account=self.account,
            market=self.market,
            native_id=self.native_id,
            side=self.side,
            type=self.type,
            time_in_force=self.time_in_force,
            qty=self.qty,
            price=self.price,
            reduce_only=self.reduce_only,
            state=self.state,
            filled_qty=self.filled_qty,
            cum_quote=self.cum_quote,
            avg_price=money(self.cum_quote / base) if base else ZERO,
            fee=self.fee,
            fee_asset=self.fee_asset,
            cancel_cause=self.cancel_cause,
            created_ms=self.created_ms,
            updated_ms=self.updated_ms,
            revision=self.revision,
        )

    def apply_fill(self, fill: UserFill) -> None:
        """Count one fill in (the state becomes FILLED or PARTIALLY_FILLED)."""
        if fill.qty > self.engine_qty - self.filled_qty:
            raise ValueError(f"fill of {fill.qty} exceeds what is open of order {self.order_id}")
        self.filled_qty += fill.qty
        self.cum_quote += fill.quote_qty
        self.fee += fill.fee
        self.fee_asset = fill.fee_asset
        self.state = (
            OrderState.FILLED if self.filled_qty == self.qty else OrderState.PARTIALLY_FILLED
        )

    def touch(self, ts_ms: int) -> None:
        """One more change at ``ts_ms``."""
        self.revision += 1
        self.updated_ms = max(self.updated_ms, ts_ms)


class OrderBookKeeper:
    """Every user order and fill of one venue, indexed.

    Args:
        first_order_id: The first order id given out.
    """

    def __init__(self, first_order_id: int) -> None:
        self._next = first_order_id
        self._records: dict[str, OrderRecord] = {}
        self._by_account: dict[str, list[OrderRecord]] = {}
        self._cid: dict[tuple[str, str], OrderRecord] = {}
        self._open: dict[str, dict[str, OrderRecord]] = {}
        self._fills: dict[str, list[UserFill]] = {}
        self.fill_count = 0

    @property
    def count(self) -> int:
        """Orders accepted so far."""
        return len(self._records)

    def open_count(self) -> int:
        """Orders open now."""
        return sum(len(orders) for orders in self._open.values())

    def next_id(self) -> str:
        """A new order id (decimal digits, increasing)."""
        order_id = str(self._next)
        self._next += 1
        return order_id

    def give_back(self, order_id: str) -> None:
        """Return the id just taken by a refused order (ids of accepted orders stay dense)."""
        if order_id == str(self._next - 1):
            self._next -= 1

    def add(self, record: OrderRecord) -> None:
        """Keep a newly accepted order."""
        self._records[record.order_id] = record
        self._by_account.setdefault(record.account, []).append(record)
        self._cid[(record.account, record.client_order_id)] = record
        if record.state.is_open:
            self._open.setdefault(record.account, {})[record.order_id] = record

    def rename(self, record: OrderRecord, client_order_id: str | None) -> None:
        """Give ``record`` a new client id (``None``: keep it); the old id no longer finds it."""
        if client_order_id is None or client_order_id == record.client_order_id:
            return
        old = (record.account, record.client_order_id)
        if self._cid.get(old) is record:
            del self._cid[old]
        record.client_order_id = client_order_id
        self._cid[(record.account, client_order_id)] = record

    def closed(self, record: OrderRecord) -> None:
        """The order is no longer open."""
        self._open.get(record.account, {}).pop(record.order_id, None)

    def by_id(self, order_id: str) -> OrderRecord | None:
        """The order with this venue id."""
        return self._records.get(order_id)

    def by_cid(self, account: str, client_order_id: str) -> OrderRecord | None:
        """The latest order of ``account`` with this client id."""
        return self._cid.get((account, client_order_id))

    def open_cid(self, account: str, client_order_id: str) -> bool:
        """Whether an OPEN order of ``account`` has this client id."""
        record = self._cid.get((account, client_order_id))
        return record is not None and record.state.is_open

    def of(
        self, account: str, market: str | None = None, native_id: str | None = None
    ) -> list[OrderRecord]:
        """The account's orders (of one market / instrument when given), oldest first."""
        return [
            r
            for r in self._by_account.get(account, [])
            if (market is None or r.market == market)
            and (native_id is None or r.native_id == native_id)
        ]

    def open_of(
        self, account: str, market: str | None = None, native_id: str | None = None
    ) -> list[OrderRecord]:
        """The account's open orders (of one market / instrument when given), oldest first."""
        return [
            r
            for r in self._open.get(account, {}).values()
            if (market is None or r.market == market)
            and (native_id is None or r.native_id == native_id)
        ]

    def add_fill(self, fill: UserFill) -> None:
        """Keep one fill (and close its order when it filled completely)."""
        self._fills.setdefault(fill.account, []).append(fill)
        self.fill_count += 1
        record = self._records.get(fill.order_id)
        if record is not None and not record.state.is_open:
            self.closed(record)

    def fills_of(
        self,
        account: str,
        market: str | None = None,
        native_id: str | None = None,
        *,
        since_ms: int | None = None,
        order_id: str | None = None,
    ) -> list[UserFill]:
        """The account's fills, oldest first, filtered."""
        return [
            f
            for f in self._fills.get(account, [])
            if (since_ms is None or f.ts_ms >= since_ms)
            and (market is None or f.market == market)
            and (native_id is None or f.native_id == native_id)
            and (order_id is None or f.order_id == order_id)
        ]
