"""A price-time priority matching engine for the simulated venues (pure, no I/O).

One :class:`MatchingEngine` holds the book of one instrument. Every operation
(:meth:`MatchingEngine.submit`, :meth:`MatchingEngine.cancel`,
:meth:`MatchingEngine.amend`) returns an :class:`EngineResult` with the trades it
made and the *net* level changes it caused. Each operation whose ``changes`` is
non-empty advances :attr:`MatchingEngine.update_id` by exactly one, so a
front-end can map results 1:1 to the book update ids it publishes.

Rules:

* Limit orders match against the opposite side while they cross, best price
  first and, at a price, oldest first (the maker's price is the trade price);
  a GTC remainder rests, an IOC remainder is cancelled, a FOK order fills
  completely or is rejected untouched, a POST_ONLY order that would cross is
  rejected.
* Market orders sweep the opposite side; whatever the book cannot fill is
  cancelled (``time_in_force`` FOK makes them all-or-nothing).
* Amending the price, or raising the quantity, sends the order to the back of
  the queue (a price change may cross and trade); lowering the quantity keeps
  the order's place. ``qty`` in an amend is the new total order quantity;
  amending to a quantity at or below what has already filled cancels the order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from decimal import Decimal

from sortedcontainers import SortedDict

from connector.model import BookLevel, OrderStatus, OrderType, Side, TimeInForce
from connector.sim.engine_types import (
    EngineOrder,
    EngineResult,
    EngineStatistics,
    EngineTrade,
    LevelChange,
    RestingOrder,
)

__all__ = [
    "EngineOrder",
    "EngineResult",
    "EngineStatistics",
    "EngineTrade",
    "LevelChange",
    "MatchingEngine",
    "RestingOrder",
]

_ZERO = Decimal(0)


class _Live:
    """A resting order's mutable state (owned by the engine only)."""

    __slots__ = ("filled", "order_id", "owner", "price", "qty", "remaining", "side", "tif")

    def __init__(
        self,
        order_id: str,
        side: Side,
        price: Decimal,
        qty: Decimal,
        remaining: Decimal,
        filled: Decimal,
        owner: str,
        tif: TimeInForce,
    ) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price
        self.qty = qty
        self.remaining = remaining
        self.filled = filled
        self.owner = owner
        self.tif = tif

    def snapshot(self) -> RestingOrder:
        return RestingOrder(
            order_id=self.order_id,
            side=self.side,
            price=self.price,
            qty=self.qty,
            remaining=self.remaining,
            owner=self.owner,
            time_in_force=self.tif,
            filled=self.filled,
        )


class _Level:
    """The orders resting at one price, oldest first, and their total quantity."""

    __slots__ = ("orders", "total")

    def __init__(self) -> None:
        self.orders: deque[_Live] = deque()
        self.total = _ZERO


class MatchingEngine:
    """A price-time priority limit order book for one instrument.

    The book is unbounded by design (the synthetic flow keeps it near a fixed
    number of levels; front-ends bound what clients may place). Price levels
    live in a ``SortedDict`` (O(log n) insert and remove), each holding a deque
    in time priority.

    Args:
        tick_size: Price increment; limit prices must be multiples of it.
        lot_step: Quantity increment; quantities must be multiples of it.
        first_update_id: The book update id before any operation.
    """

    def __init__(self, *, tick_size: Decimal, lot_step: Decimal, first_update_id: int = 1) -> None:
        if tick_size <= 0 or lot_step <= 0:
            raise ValueError("tick_size and lot_step must be positive")
        self.tick_size = tick_size
        self.lot_step = lot_step
        self.update_id = first_update_id
        # Both sides are keyed by price; the best bid is the last key, the best ask the first.
        self._bids: SortedDict[Decimal, _Level] = SortedDict()
        self._asks: SortedDict[Decimal, _Level] = SortedDict()
        self._orders: dict[str, _Live] = {}
        self._next_trade_id = 1
        self._operations = 0
        self._rejects = 0

    # ------------------------------------------------------------------ queries

    def depth(
        self, limit: int | None = None
    ) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        """The aggregated book.

        Args:
            limit: Most levels per side; ``None`` for all.

        Returns:
            ``(bids best first, asks best first)``.
        """
        bids = self._bids
        asks = self._asks
        nb = len(bids) if limit is None else min(limit, len(bids))
        na = len(asks) if limit is None else min(limit, len(asks))
        bid_items = bids.items()
        ask_items = asks.items()
        out_bids = tuple(
            BookLevel(price, level.total) for price, level in (bid_items[-1 - i] for i in range(nb))
        )
        out_asks = tuple(
            BookLevel(price, level.total) for price, level in (ask_items[i] for i in range(na))
        )
        return out_bids, out_asks

    def best_bid(self) -> BookLevel | None:
        """The highest bid level, or ``None`` when there are no bids."""
        if not self._bids:
            return None
        price, level = self._bids.peekitem(-1)
        return BookLevel(price, level.total)

    def best_ask(self) -> BookLevel | None:
        """The lowest ask level, or ``None`` when there are no asks."""
        if not self._asks:
            return None
        price, level = self._asks.peekitem(0)
        return BookLevel(price, level.total)

    def order(self, order_id: str) -> RestingOrder | None:
        """The resting order with this id, or ``None`` when it is not on the book."""
        live = self._orders.get(order_id)
        return None if live is None else live.snapshot()

    def open_orders(self, owner: str | None = None) -> list[RestingOrder]:
        """Resting orders (only ``owner``'s when given), oldest queue place first."""
        return [o.snapshot() for o in self._orders.values() if owner is None or o.owner == owner]

    def is_resting(self, order_id: str) -> bool:
        """Whether an order with this id rests on the book (cheaper than :meth:`order`)."""
        return order_id in self._orders

    def level_count(self, side: Side) -> int:
        """How many price levels rest on ``side`` (``BUY`` = bids)."""
        return len(self._side_book(side))

    def worst_level(self, side: Side) -> BookLevel | None:
        """The level farthest from the top on ``side`` (``BUY`` = bids), or ``None``."""
        book = self._side_book(side)
        if not book:
            return None
        price, level = book.peekitem(0 if side is Side.BUY else -1)
        return BookLevel(price, level.total)

    def order_ids_at(self, side: Side, price: Decimal) -> list[str]:
        """Ids of the orders resting on ``side`` at ``price``, in time priority."""
        level = self._side_book(side).get(price)
        return [] if level is None else [o.order_id for o in level.orders]

    def fillable_qty(self, side: Side, limit: Decimal | None = None) -> Decimal:
        """Quantity an incoming ``side`` order could take at prices up to ``limit``.

        Args:
            side: The incoming (taker) order's side.
            limit: The taker's limit price; ``None`` for the whole opposite side.
        """
        return self._available(side, limit, Decimal("Infinity"))

    def statistics(self) -> EngineStatistics:
        """A frozen snapshot of the engine's counters."""
        return EngineStatistics(
            orders_resting=len(self._orders),
            bid_levels=len(self._bids),
            ask_levels=len(self._asks),
            trades=self._next_trade_id - 1,
            update_id=self.update_id,
            operations=self._operations,
            rejects=self._rejects,
        )

    # --------------------------------------------------------------- operations

    def submit(self, order: EngineOrder) -> EngineResult:
        """Match a new order and rest what the rules let rest.

        Args:
            order: The new order.

        Returns:
            The result; ``REJECTED`` results change nothing.
        """
        self._operations += 1
        oid = order.order_id
        if oid in self._orders:
            return self._reject(oid, "duplicate order id", order.side)
        qty = order.qty
        if not self._valid_qty(qty):
            return self._reject(oid, "invalid quantity", order.side)
        tif = order.time_in_force
        is_market = order.type is OrderType.MARKET
        limit: Decimal | None
        if is_market:
            if tif is TimeInForce.POST_ONLY:
                return self._reject(oid, "market order cannot be post-only", order.side)
            limit = None
        else:
            limit = order.price
            if limit is None or not self._valid_price(limit):
                return self._reject(oid, "invalid price", order.side)
            if tif is TimeInForce.POST_ONLY and self._crosses(order.side, limit):
                return self._reject(oid, "post-only order would cross", order.side)
        if tif is TimeInForce.FOK and self._available(order.side, limit, qty) < qty:
            return self._reject(oid, "fill-or-kill order cannot be filled", order.side)

        taker = _Live(
            oid,
            order.side,
            limit if limit is not None else _ZERO,
            qty,
            qty,
            _ZERO,
            order.owner,
            tif,
        )
        touched: dict[tuple[Side, Decimal], Decimal] = {}
        trades = self._match(taker, limit, touched)
        rests = (
            not is_market
            and tif in (TimeInForce.GTC, TimeInForce.POST_ONLY)
            and taker.remaining > 0
        )
        if rests:
            assert limit is not None
            self._rest(taker, touched)
        return self._finish(taker, rests, trades, touched, limit)

    def cancel(self, order_id: str) -> EngineResult:
        """Remove a resting order.

        Args:
            order_id: The order to cancel.

        Returns:
            ``CANCELED`` with the order's filled quantity, or ``REJECTED`` when
            the order is not resting (unknown, filled or already cancelled).
        """
        self._operations += 1
        live = self._orders.get(order_id)
        if live is None:
            return self._reject(order_id, "unknown order", None)
        touched: dict[tuple[Side, Decimal], Decimal] = {}
        self._unrest(live, touched)
        changes = self._changes(touched)
        return EngineResult(
            order_id=order_id,
            status=OrderStatus.CANCELED,
            filled_qty=live.filled,
            trades=(),
            changes=changes,
            update_id=self.update_id,
            remaining_qty=_ZERO,
            side=live.side,
            price=live.price,
            qty=live.qty,
        )

    def amend(
        self, order_id: str, *, qty: Decimal | None = None, price: Decimal | None = None
    ) -> EngineResult:
        """Change a resting order's total quantity and/or price.

        A price change or a quantity increase loses time priority (and a new
        price may cross and trade, except for POST_ONLY orders, whose amend is
        then rejected); a quantity decrease keeps it. ``qty <= filled`` cancels
        the order.

        Args:
            order_id: The resting order.
            qty: New total order quantity (filled part included), or ``None``.
            price: New limit price, or ``None``.

        Returns:
            The order's state after the amend, or ``REJECTED`` (unknown order,
            bad quantity or price, post-only would cross) with nothing changed.
        """
        self._operations += 1
        live = self._orders.get(order_id)
        if live is None:
            return self._reject(order_id, "unknown order", None)
        if qty is not None and not self._valid_qty(qty):
            return self._reject(order_id, "invalid quantity", live.side)
        if price is not None and not self._valid_price(price):
            return self._reject(order_id, "invalid price", live.side)
        new_qty = live.qty if qty is None else qty
        new_price = live.price if price is None else price
        touched: dict[tuple[Side, Decimal], Decimal] = {}
        if new_qty <= live.filled:
            self._unrest(live, touched)
            live.remaining = _ZERO
            return self._finish(live, False, [], touched, live.price, canceled=True)
        price_changed = new_price != live.price
        if (
            price_changed
            and live.tif is TimeInForce.POST_ONLY
            and self._crosses(live.side, new_price)
        ):
            return self._reject(order_id, "post-only order would cross", live.side)
        new_remaining = new_qty - live.filled
        trades: list[EngineTrade] = []
        if price_changed or new_qty > live.qty:
            self._unrest(live, touched)
            live.qty = new_qty
            live.remaining = new_remaining
            live.price = new_price
            if price_changed:
                trades = self._match(live, new_price, touched)
            rests = live.remaining > 0
            if rests:
                self._rest(live, touched)
            return self._finish(live, rests, trades, touched, new_price)
        if new_qty < live.qty:
            level = self._side_book(live.side)[live.price]
            key = (live.side, live.price)
            touched[key] = level.total
            level.total -= live.remaining - new_remaining
            live.qty = new_qty
            live.remaining = new_remaining
        return self._finish(live, True, trades, touched, live.price)

    def rest_many(self, orders: Sequence[EngineOrder]) -> EngineResult:
        """Rest many GTC limit orders that cross nothing, as ONE book update.

        Builds a deep book quickly (a venue's quiet far levels); one result
        with every level's net change instead of one result per order.

        Args:
            orders: Limit orders on the tick and lot grids, no bid at or above
                the best ask (and no ask at or below the best bid), new ids.

        Returns:
            A ``NEW`` result (``order_id`` empty) with the level changes.

        Raises:
            ValueError: An order that is not such a limit order.
        """
        self._operations += len(orders)
        touched: dict[tuple[Side, Decimal], Decimal] = {}
        fresh: dict[Side, dict[Decimal, _Level]] = {Side.BUY: {}, Side.SELL: {}}
        ids = self._orders
        for order in orders:
            price = order.price
            if (
                order.type is not OrderType.LIMIT
                or order.time_in_force is not TimeInForce.GTC
                or price is None
                or not self._valid_price(price)
                or not self._valid_qty(order.qty)
                or order.order_id in ids
                or self._crosses(order.side, price)
            ):
                raise ValueError(f"rest_many: cannot rest {order!r}")
            side = order.side
            live = _Live(
                order.order_id,
                side,
                price,
                order.qty,
                order.qty,
                _ZERO,
                order.owner,
                TimeInForce.GTC,
            )
            level = self._side_book(side).get(price)
            if level is None:
                level = fresh[side].get(price)
                if level is None:
                    level = fresh[side][price] = _Level()
            touched.setdefault((side, price), level.total)
            level.orders.append(live)
            level.total += live.remaining
            ids[live.order_id] = live
        # One bulk insert per side instead of one sorted insert per level.
        for side, levels in fresh.items():
            if levels:
                self._side_book(side).update(levels)
        return EngineResult(
            order_id="",
            status=OrderStatus.NEW,
            filled_qty=_ZERO,
            trades=(),
            changes=self._changes(touched),
            update_id=self.update_id,
        )

    # ---------------------------------------------------------------- internals

    def _valid_qty(self, qty: Decimal) -> bool:
        return qty.is_finite() and qty > 0 and qty % self.lot_step == 0

    def _valid_price(self, price: Decimal) -> bool:
        return price.is_finite() and price > 0 and price % self.tick_size == 0

    def _side_book(self, side: Side) -> SortedDict[Decimal, _Level]:
        return self._bids if side is Side.BUY else self._asks

    def _crosses(self, side: Side, price: Decimal) -> bool:
        if side is Side.BUY:
            return bool(self._asks) and price >= self._asks.peekitem(0)[0]
        return bool(self._bids) and price <= self._bids.peekitem(-1)[0]

    def _available(self, side: Side, limit: Decimal | None, wanted: Decimal) -> Decimal:
        """Opposite-side quantity at prices ``side`` may take (stops once ``wanted`` is reached)."""
        total = _ZERO
        if side is Side.BUY:
            for price in self._asks:
                if (limit is not None and price > limit) or total >= wanted:
                    break
                total += self._asks[price].total
        else:
            for price in reversed(self._bids):
                if (limit is not None and price < limit) or total >= wanted:
                    break
                total += self._bids[price].total
        return total

    def _match(
        self, taker: _Live, limit: Decimal | None, touched: dict[tuple[Side, Decimal], Decimal]
    ) -> list[EngineTrade]:
        trades: list[EngineTrade] = []
        buy = taker.side is Side.BUY
        book = self._asks if buy else self._bids
        maker_side = Side.SELL if buy else Side.BUY
        orders = self._orders
        while taker.remaining > 0 and book:
            price, level = book.peekitem(0 if buy else -1)
            if limit is not None and (price > limit if buy else price < limit):
                break
            key = (maker_side, price)
            if key not in touched:
                touched[key] = level.total
            queue = level.orders
            while taker.remaining > 0 and queue:
                maker = queue[0]
                fill = maker.remaining if maker.remaining < taker.remaining else taker.remaining
                maker.remaining -= fill
                maker.filled += fill
                taker.remaining -= fill
                taker.filled += fill
                level.total -= fill
                trades.append(
                    EngineTrade(
                        trade_id=self._next_trade_id,
                        price=price,
                        qty=fill,
                        aggressor=taker.side,
                        maker_order_id=maker.order_id,
                        taker_order_id=taker.order_id,
                        maker_owner=maker.owner,
                        taker_owner=taker.owner,
                    )
                )
                self._next_trade_id += 1
                if maker.remaining == 0:
                    queue.popleft()
                    del orders[maker.order_id]
            if not queue:
                del book[price]
        return trades

    def _rest(self, live: _Live, touched: dict[tuple[Side, Decimal], Decimal]) -> None:
        book = self._side_book(live.side)
        level = book.get(live.price)
        key = (live.side, live.price)
        if level is None:
            level = _Level()
            book[live.price] = level
        if key not in touched:
            touched[key] = level.total
        level.orders.append(live)
        level.total += live.remaining
        self._orders[live.order_id] = live

    def _unrest(self, live: _Live, touched: dict[tuple[Side, Decimal], Decimal]) -> None:
        book = self._side_book(live.side)
        level = book[live.price]
        key = (live.side, live.price)
        if key not in touched:
            touched[key] = level.total
        level.orders.remove(live)
        level.total -= live.remaining
        if not level.orders:
            del book[live.price]
        del self._orders[live.order_id]

    def _changes(self, touched: dict[tuple[Side, Decimal], Decimal]) -> tuple[LevelChange, ...]:
        """Net changes of the touched levels; advances ``update_id`` when there are any."""
        out: list[LevelChange] = []
        for (side, price), before in touched.items():
            level = self._side_book(side).get(price)
            after = _ZERO if level is None else level.total
            if after != before:
                out.append(LevelChange(side, price, after))
        if out:
            self.update_id += 1
        return tuple(out)

    def _finish(
        self,
        live: _Live,
        rests: bool,
        trades: list[EngineTrade],
        touched: dict[tuple[Side, Decimal], Decimal],
        price: Decimal | None,
        *,
        canceled: bool = False,
    ) -> EngineResult:
        if canceled:
            status = OrderStatus.CANCELED
        elif live.filled == live.qty:
            status = OrderStatus.FILLED
        elif rests:
            status = OrderStatus.PARTIALLY_FILLED if live.filled > 0 else OrderStatus.NEW
        else:
            status = OrderStatus.CANCELED
        return EngineResult(
            order_id=live.order_id,
            status=status,
            filled_qty=live.filled,
            trades=tuple(trades),
            changes=self._changes(touched),
            update_id=self.update_id,
            remaining_qty=live.remaining if rests else _ZERO,
            side=live.side,
            price=price,
            qty=live.qty,
        )

    def _reject(self, order_id: str, reason: str, side: Side | None) -> EngineResult:
        self._rejects += 1
        return EngineResult(
            order_id=order_id,
            status=OrderStatus.REJECTED,
            filled_qty=_ZERO,
            trades=(),
            changes=(),
            update_id=self.update_id,
            reject_reason=reason,
            side=side,
        )
