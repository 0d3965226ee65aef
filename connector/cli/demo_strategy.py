"""The small quoting strategy ``connector demo`` runs (not part of the library's API).

On every (venue, symbol) it trades, :class:`QuotingStrategy` keeps one bid and
one ask of a small size around the **consolidated** mid (the mid of the best
bid and ask over every venue's valid book): ``spread_bps`` either side, never
through the venue's own best price (a quote stays passive on its venue). When
the consolidated mid moves more than ``reprice_bps`` from the mid a quote was
priced at, the quote is canceled and placed again at the new price (cancel
and place work the same on every venue; Binance spot cannot amend a price).

It respects the risk limits: a side whose fill would take the symbol's
inventory past ``max_inventory`` (or the ``[risk] max_position_qty`` when
smaller) is not quoted, and an order the risk service refuses
(``RiskRejected``) is counted and tried again later. Every refusal or lost
answer is counted, never fatal: an ``OrderOutcomeUnknown`` order is followed
by its client order id until the connector resolves it.

P&L is the strategy's own, from its fills: per market, the cash paid and
received (fees included) plus the inventory valued at the consolidated mid.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import structlog
import trio

from connector.errors import (
    ConnectorError,
    InvalidOrder,
    OrderOutcomeUnknown,
    OrderRejected,
    RiskRejected,
)
from connector.model import Fill, Order, OrderStatus, Side, Symbol
from connector.model.trading import FillKey

if TYPE_CHECKING:
    from connector.bus import Subscription
    from connector.connector import Connector

__all__ = ["MarketStats", "QuotingStrategy", "StrategyTotals", "default_size"]

log = structlog.get_logger(__name__)

_ZERO = Decimal(0)
_BPS = Decimal("0.0001")

_SIZES = {"BTC": Decimal("0.01"), "ETH": Decimal("0.1"), "SOL": Decimal("1")}
"""Quote sizes per base asset: whole OKX swap contracts (0.01 BTC, 0.1 ETH, 1 SOL),
above every venue's minimum notional, small beside the demo accounts."""


def default_size(symbol: Symbol) -> Decimal | None:
    """The demo's quote size for ``symbol`` (``None``: the demo does not quote it)."""
    return _SIZES.get(symbol.base)


@attrs.define
class MarketStats:
    """What the strategy did on one (venue, symbol), and its P&L from its own fills."""

    venue: str
    symbol: Symbol
    placed: int = 0
    filled: int = 0
    canceled: int = 0
    refused: int = 0
    fills: int = 0
    inventory: Decimal = _ZERO
    cash: Decimal = _ZERO
    bid: Decimal | None = None
    ask: Decimal | None = None

    def pnl(self, mid: Decimal | None) -> Decimal | None:
        """Cash plus inventory at ``mid`` (``None`` without a mid while holding some)."""
        if self.inventory == 0:
            return self.cash
        if mid is None:
            return None
        return self.cash + self.inventory * mid


@attrs.frozen(kw_only=True)
class StrategyTotals:
    """The strategy's counts over every market."""

    placed: int
    filled: int
    canceled: int
    refused: int
    fills: int


@attrs.define
class _Quote:
    client_order_id: str
    side: Side
    price: Decimal
    mid: Decimal


class QuotingStrategy:
    """Quotes a bid and an ask on each market around the consolidated mid.

    Args:
        connector: An open connector whose venues trade.
        markets: The (venue, symbol) pairs to quote.
        spread_bps: Distance of each quote from the consolidated mid.
        reprice_bps: How far the mid may move before the quotes are placed again.
        max_inventory: Most base units held (long or short) per market, in quote sizes.
        interval: Seconds between looks at each market.
    """

    def __init__(
        self,
        connector: Connector,
        markets: Sequence[tuple[str, Symbol]],
        *,
        spread_bps: Decimal = Decimal(3),
        reprice_bps: Decimal = Decimal(2),
        max_inventory: int = 5,
        interval: float = 0.25,
    ) -> None:
        self._c = connector
        self._spread = spread_bps * _BPS
        self._reprice = reprice_bps * _BPS
        self._max_inventory = max_inventory
        self._interval = interval
        self.markets: dict[tuple[str, Symbol], MarketStats] = {}
        self._sizes: dict[tuple[str, Symbol], Decimal] = {}
        for venue, symbol in markets:
            size = default_size(symbol)
            if size is not None:
                self.markets[venue, symbol] = MarketStats(venue=venue, symbol=symbol)
                self._sizes[venue, symbol] = size
        self._quotes: dict[tuple[str, Symbol], dict[Side, _Quote]] = {
            key: {} for key in self.markets
        }
        self._ours: set[str] = set()
        self._finished: set[str] = set()
        self._seen_fills: set[FillKey] = set()

    # -- reading -----------------------------------------------------------------

    def totals(self) -> StrategyTotals:
        stats = self.markets.values()
        return StrategyTotals(
            placed=sum(s.placed for s in stats),
            filled=sum(s.filled for s in stats),
            canceled=sum(s.canceled for s in stats),
            refused=sum(s.refused for s in stats),
            fills=sum(s.fills for s in stats),
        )

    def mid(self, symbol: Symbol) -> Decimal | None:
        """The consolidated mid of ``symbol``: best bid and ask over every valid book."""
        book = self._c.consolidated_book(symbol, 1)
        if not book.bids or not book.asks:
            return None
        return (book.bids[0].price + book.asks[0].price) / 2

    def orders(self) -> list[Order]:
        """Every order the strategy placed, as the connector knows it now."""
        found = (self._c.orders.get(cid) for cid in self._ours)
        return [o for o in found if o is not None]

    # -- running -----------------------------------------------------------------

    async def run(self) -> None:
        """Quote until cancelled (the caller's scope ends it)."""
        async with self._c.subscribe("fill.>") as fills, trio.open_nursery() as nursery:
            nursery.start_soon(self._follow_fills, fills)
            for key in self.markets:
                nursery.start_soon(self._quote_market, *key)

    async def _follow_fills(self, fills: Subscription) -> None:
        async for fill in fills:
            if isinstance(fill, Fill):
                self.on_fill(fill)

    def on_fill(self, fill: Fill) -> None:
        """Count one fill of ours (each ``Fill.key`` once)."""
        key = fill.key
        stats = self.markets.get((fill.venue, fill.symbol))
        if stats is None or fill.client_order_id not in self._ours or key in self._seen_fills:
            return
        self._seen_fills.add(key)
        sign = Decimal(1) if fill.side is Side.BUY else Decimal(-1)
        stats.fills += 1
        stats.inventory += sign * fill.qty
        stats.cash -= sign * fill.qty * fill.price
        if fill.fee_asset == fill.symbol.base:
            stats.inventory -= fill.fee
        elif fill.fee_asset in ("", fill.symbol.quote):
            stats.cash -= fill.fee

    async def _quote_market(self, venue: str, symbol: Symbol) -> None:
        # Spread the markets' looks over the interval.
        await trio.sleep(self._interval * (hash((venue, str(symbol))) % 100) / 100)
        while True:
            try:
                await self._step(venue, symbol)
            except ConnectorError as exc:
                self.markets[venue, symbol].refused += 1
                log.info("demo.strategy.error", venue=venue, symbol=str(symbol), error=str(exc))
            await trio.sleep(self._interval)

    def _inventory_cap(self, key: tuple[str, Symbol]) -> Decimal:
        cap = self._sizes[key] * self._max_inventory
        limit = self._c.config.risk.max_position_qty
        return cap if limit is None else min(cap, limit)

    async def _step(self, venue: str, symbol: Symbol) -> None:
        key = (venue, symbol)
        stats = self.markets[key]
        quotes = self._quotes[key]
        self._forget_finished(stats, quotes)
        mid = self.mid(symbol)
        view = self._c.order_book(venue, symbol)
        best_bid, best_ask = view.best_bid(), view.best_ask()
        if mid is None or not view.valid or best_bid is None or best_ask is None:
            return
        size = self._sizes[key]
        cap = self._inventory_cap(key)
        for side in (Side.BUY, Side.SELL):
            quote = quotes.get(side)
            if quote is not None:
                if abs(mid - quote.mid) <= quote.mid * self._reprice:
                    continue
                await self._cancel(venue, symbol, quote, stats)
                quotes.pop(side, None)
            after = stats.inventory + (size if side is Side.BUY else -size)
            if abs(after) > cap:
                continue
            if side is Side.BUY:
                price = min(mid * (1 - self._spread), best_ask.price * (1 - _BPS))
            else:
                price = max(mid * (1 + self._spread), best_bid.price * (1 + _BPS))
            placed = await self._place(venue, symbol, side, size, price, stats)
            if placed is not None:
                quotes[side] = _Quote(
                    client_order_id=placed.client_order_id,
                    side=side,
                    price=placed.price or price,
                    mid=mid,
                )
        stats.bid = quotes[Side.BUY].price if Side.BUY in quotes else None
        stats.ask = quotes[Side.SELL].price if Side.SELL in quotes else None

    def _forget_finished(self, stats: MarketStats, quotes: dict[Side, _Quote]) -> None:
        for side, quote in list(quotes.items()):
            order = self._c.orders.get(quote.client_order_id)
            if order is not None and order.status.is_terminal:
                self._count_end(stats, order)
                del quotes[side]

    def _count_end(self, stats: MarketStats, order: Order) -> None:
        if order.client_order_id in self._finished:
            return
        self._finished.add(order.client_order_id)
        if order.status is OrderStatus.FILLED:
            stats.filled += 1
        elif order.status is OrderStatus.CANCELED:
            stats.canceled += 1

    async def _place(
        self,
        venue: str,
        symbol: Symbol,
        side: Side,
        size: Decimal,
        price: Decimal,
        stats: MarketStats,
    ) -> Order | None:
        try:
            order = await self._c.place_order(venue, symbol, side, "limit", size, price)
        except OrderOutcomeUnknown as lost:
            self._ours.add(lost.client_order_id)
            stats.placed += 1
            return None
        except (InvalidOrder, RiskRejected, OrderRejected) as refused:
            stats.refused += 1
            log.info("demo.strategy.refused", venue=venue, symbol=str(symbol), error=str(refused))
            return None
        self._ours.add(order.client_order_id)
        stats.placed += 1
        if order.status.is_terminal:
            self._count_end(stats, order)
            return None
        return order

    async def _cancel(self, venue: str, symbol: Symbol, quote: _Quote, stats: MarketStats) -> None:
        order = await self._c.cancel_order(venue, symbol, quote.client_order_id)
        if order.status.is_terminal:
            self._count_end(stats, order)

    async def close(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Cancel every order of the strategy still open, and count how each ended."""
        with trio.move_on_after(timeout):
            venues = sorted({venue for venue, _ in self.markets})
            async with trio.open_nursery() as nursery:
                for venue in venues:
                    nursery.start_soon(self._cancel_venue, venue)
        self.settle_counts()

    async def _cancel_venue(self, venue: str) -> None:
        try:
            await self._c.cancel_all(venue)
        except ConnectorError as exc:
            log.warning("demo.strategy.cancel_failed", venue=venue, error=str(exc))

    def settle_counts(self) -> None:
        """Count every finished order of ours not counted yet."""
        for order in self.orders():
            stats = self.markets.get((order.venue, order.symbol))
            if stats is not None and order.status.is_terminal:
                self._count_end(stats, order)
