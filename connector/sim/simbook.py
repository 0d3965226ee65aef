"""One instrument's exchange state inside a simulated venue: engine, flow, stats, trades.

:class:`SimBook` (one per instrument of a :class:`~connector.sim.hub.SimVenue`)
wraps the instrument's :class:`~connector.sim.engine.MatchingEngine` and
:class:`~connector.sim.flow.SyntheticFlow`, and keeps the 24 h ticker
statistics (:class:`TickerStats`), a ring of recent trades (:class:`SimTrade`)
and an undo log for stale snapshots. :class:`BookBatch` is what the venue
hands its listeners. Import them from ``connector.sim.hub`` (or ``connector.sim``).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from decimal import Decimal

import attrs

from connector.model import Side
from connector.sim.engine import EngineResult, MatchingEngine
from connector.sim.flow import SyntheticFlow
from connector.sim.instruments import SimInstrument

__all__ = ["BookBatch", "SimBook", "SimTrade", "TickerStats"]

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class SimTrade:
    """One trade as the venue reports it.

    Attributes:
        trade_id: Per-instrument trade id.
        price: Trade price.
        qty: Trade quantity.
        aggressor: The taker's side (SELL means the buyer was the maker).
        ts_ms: Venue time in ms.
    """

    trade_id: int
    price: Decimal
    qty: Decimal
    aggressor: Side
    ts_ms: int

    @property
    def quote_qty(self) -> Decimal:
        """``price * qty``."""
        return self.price * self.qty


@attrs.frozen(kw_only=True)
class TickerStats:
    """Rolling statistics of one instrument since the run started.

    ``open`` is the first price of the run (the flow's start price until the
    first trade), so ``last - open`` is the run's price change.
    """

    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    last_qty: Decimal
    volume: Decimal
    quote_volume: Decimal
    count: int
    first_trade_id: int
    last_trade_id: int
    open_time_ms: int
    close_time_ms: int


@attrs.frozen(kw_only=True)
class BookBatch:
    """One instrument's engine results from one driver tick or hook call.

    Attributes:
        market: Market of the instrument.
        native_id: Venue-native instrument id.
        results: Engine results in order (those without changes or trades are
            left out).
        ts_ns: Venue time (ns) when the results were produced.
    """

    market: str
    native_id: str
    results: tuple[EngineResult, ...]
    ts_ns: int


class SimBook:
    """One instrument's exchange state inside a :class:`SimVenue`.

    The undo log (for :meth:`depth_at`) keeps the last ``undo_depth`` book
    updates; older ones are forgotten (FIFO). The trade ring keeps the last
    ``trade_ring`` trades. ``anchor`` is where the flow's mid starts (see
    :class:`~connector.sim.flow.SyntheticFlow`).
    """

    def __init__(
        self,
        instrument: SimInstrument,
        *,
        seed: int,
        levels: int = 25,
        trade_ring: int = 1000,
        undo_depth: int = 20_000,
        anchor: float | None = None,
    ) -> None:
        self.instrument = instrument
        self.market = instrument.market
        self.native_id = instrument.native_id
        self.engine = MatchingEngine(tick_size=instrument.tick_size, lot_step=instrument.lot_step)
        self.flow = SyntheticFlow(self.engine, instrument, seed=seed, levels=levels, anchor=anchor)
        self.trades: deque[SimTrade] = deque(maxlen=trade_ring)
        self._undo: deque[tuple[int, tuple[tuple[Side, Decimal, Decimal], ...]]] = deque(
            maxlen=undo_depth
        )
        self._mirror: dict[Side, dict[Decimal, Decimal]] = {Side.BUY: {}, Side.SELL: {}}
        self._trade_ids = itertools.count(1)
        price = self.flow.mid
        self._open = price
        self._high = price
        self._low = price
        self._last = price
        self._last_qty = _ZERO
        self._volume = _ZERO
        self._quote_volume = _ZERO
        self._count = 0
        self._first_trade_id = 0
        self._open_ms = 0
        self._close_ms = 0

    @property
    def update_id(self) -> int:
        """The engine's current book update id."""
        return self.engine.update_id

    @property
    def last_trade_id(self) -> int:
        """Id of the latest trade (0 before the first)."""
        return self._first_trade_id + self._count - 1 if self._count else 0

    def apply(self, results: Iterable[EngineResult], ts_ms: int) -> list[EngineResult]:
        """Record results (stats, trades, undo log); return those worth publishing."""
        kept: list[EngineResult] = []
        mirror = self._mirror
        for result in results:
            if not result.changes and not result.trades:
                continue
            kept.append(result)
            if result.changes:
                undo = []
                for side, price, qty in result.changes:
                    book = mirror[side]
                    undo.append((side, price, book.get(price, _ZERO)))
                    if qty:
                        book[price] = qty
                    else:
                        book.pop(price, None)
                self._undo.append((result.update_id, tuple(undo)))
            for trade in result.trades:
                self._on_trade(trade.price, trade.qty, trade.aggressor, ts_ms)
        if not self._open_ms:
            self._open_ms = ts_ms
        self._close_ms = ts_ms
        return kept

    def _on_trade(self, price: Decimal, qty: Decimal, aggressor: Side, ts_ms: int) -> None:
        trade_id = next(self._trade_ids)
        self.trades.append(
            SimTrade(trade_id=trade_id, price=price, qty=qty, aggressor=aggressor, ts_ms=ts_ms)
        )
        if self._count == 0:
            self._first_trade_id = trade_id
        self._count += 1
        self._last = price
        self._last_qty = qty
        self._high = max(self._high, price)
        self._low = min(self._low, price)
        self._volume += qty
        self._quote_volume += price * qty

    def ticker(self) -> TickerStats:
        """A frozen snapshot of the run's statistics."""
        return TickerStats(
            open=self._open,
            high=self._high,
            low=self._low,
            last=self._last,
            last_qty=self._last_qty,
            volume=self._volume,
            quote_volume=self._quote_volume,
            count=self._count,
            first_trade_id=self._first_trade_id,
            last_trade_id=self._first_trade_id + self._count - 1 if self._count else 0,
            open_time_ms=self._open_ms,
            close_time_ms=self._close_ms,
        )

    def recent_trades(self, limit: int) -> list[SimTrade]:
        """Up to ``limit`` most recent trades, oldest first."""
        if limit >= len(self.trades):
            return list(self.trades)
        return list(itertools.islice(self.trades, len(self.trades) - limit, None))

    def depth(
        self, limit: int | None = None
    ) -> tuple[int, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """``(update_id, bids best first, asks best first)`` of the live book."""
        bids, asks = self.engine.depth(limit)
        return (
            self.engine.update_id,
            [(lv.price, lv.qty) for lv in bids],
            [(lv.price, lv.qty) for lv in asks],
        )

    def depth_at(
        self, updates_back: int, limit: int | None = None
    ) -> tuple[int, list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """The book as it was ``updates_back`` updates ago (bounded by the undo log)."""
        if updates_back <= 0 or not self._undo:
            return self.depth(limit)
        bids = dict(self._mirror[Side.BUY])
        asks = dict(self._mirror[Side.SELL])
        update_id = self.engine.update_id
        for uid, entries in itertools.islice(reversed(self._undo), updates_back):
            for side, price, prev in reversed(entries):
                book = bids if side is Side.BUY else asks
                if prev:
                    book[price] = prev
                else:
                    book.pop(price, None)
            update_id = uid - 1
        bid_levels = sorted(bids.items(), reverse=True)
        ask_levels = sorted(asks.items())
        if limit is not None:
            bid_levels = bid_levels[:limit]
            ask_levels = ask_levels[:limit]
        return update_id, bid_levels, ask_levels
