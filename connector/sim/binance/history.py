"""What one Binance market traded: aggregate trades and candles, kept for REST and streams.

Every hub batch goes through :meth:`MarketHistory.record`, whether or not a
client listens, so that ids and candles do not depend on subscriptions:

* aggregate trades: the trades of one engine operation (one taker order) at
  one price, ids counting from 1 per symbol; the ``@aggTrade`` stream and
  ``GET aggTrades`` show the same ``a`` for the same trades. The last
  ``agg_history`` of each symbol are kept (oldest forgotten first).
* candles (:mod:`connector.sim.candles`): every interval the market serves
  (:data:`SPOT_INTERVALS`, :data:`FUTURES_INTERVALS`), ``kline_history`` per
  series; ``GET klines`` and ``@kline_<interval>`` read them.

Pure: time comes with the batches and as arguments.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from decimal import Decimal

import attrs

from connector.model import Side
from connector.sim.binance.wire import Listing
from connector.sim.candles import CandleBook, CandleTrade, Interval
from connector.sim.hub import BookBatch

__all__ = ["FUTURES_INTERVALS", "SPOT_INTERVALS", "AggTrade", "MarketHistory"]

_MIN = 60
_HOUR = 3600
_DAY = 86_400

#: Binance spot kline intervals (``GET /api/v3/klines``, ``@kline_<i>``).
SPOT_INTERVALS: dict[str, Interval] = {
    "1s": Interval(seconds=1),
    "1m": Interval(seconds=_MIN),
    "3m": Interval(seconds=3 * _MIN),
    "5m": Interval(seconds=5 * _MIN),
    "15m": Interval(seconds=15 * _MIN),
    "30m": Interval(seconds=30 * _MIN),
    "1h": Interval(seconds=_HOUR),
    "2h": Interval(seconds=2 * _HOUR),
    "4h": Interval(seconds=4 * _HOUR),
    "6h": Interval(seconds=6 * _HOUR),
    "8h": Interval(seconds=8 * _HOUR),
    "12h": Interval(seconds=12 * _HOUR),
    "1d": Interval(seconds=_DAY),
    "3d": Interval(seconds=3 * _DAY),
    # Weeks open on Monday 00:00 UTC; 1970-01-01 was a Thursday.
    "1w": Interval(seconds=7 * _DAY, offset=4 * _DAY),
    "1M": Interval(months=1),
}
#: USDⓈ-M kline intervals: the spot ones without ``1s``.
FUTURES_INTERVALS: dict[str, Interval] = {k: v for k, v in SPOT_INTERVALS.items() if k != "1s"}


@attrs.frozen(kw_only=True)
class AggTrade:
    """One aggregate trade.

    Attributes:
        agg_id: Aggregate trade id (per symbol, from 1).
        price: Price of every trade in it.
        qty: Their total quantity.
        first_id: First trade id.
        last_id: Last trade id.
        ts_ms: Trade time (ms).
        maker_is_buyer: The buyer was the maker (the taker sold).
    """

    agg_id: int
    price: Decimal
    qty: Decimal
    first_id: int
    last_id: int
    ts_ms: int
    maker_is_buyer: bool


class _SymbolHistory:
    __slots__ = ("aggs", "next_agg")

    def __init__(self, keep: int) -> None:
        self.aggs: deque[AggTrade] = deque(maxlen=keep)
        self.next_agg = 1


class MarketHistory:
    """Aggregate trades and candles of one market's symbols.

    Args:
        market: ``spot`` or ``linear``.
        listings: The market's listings by symbol.
        now_ms: Venue time the candles start at.
        agg_history: Aggregate trades kept per symbol.
        kline_history: Candles kept per (symbol, interval).
    """

    def __init__(
        self,
        market: str,
        listings: Mapping[str, Listing],
        now_ms: int,
        *,
        agg_history: int = 10_000,
        kline_history: int = 1500,
    ) -> None:
        self.market = market
        self.intervals = SPOT_INTERVALS if market == "spot" else FUTURES_INTERVALS
        self.candles = CandleBook(self.intervals, history=kline_history)
        self._symbols = {sym: _SymbolHistory(agg_history) for sym in listings}
        for sym, listing in listings.items():
            self.candles.track(market, sym, listing.book.ticker().last, now_ms)

    def record(self, batch: BookBatch, last_trade_id: int) -> list[tuple[int, list[AggTrade]]]:
        """Record one batch's trades.

        Args:
            batch: The hub batch (its book already applied).
            last_trade_id: The book's last trade id after the batch.

        Returns:
            Per engine result with trades: ``(first trade id, its aggregate trades)``.
        """
        hist = self._symbols.get(batch.native_id)
        count = sum(len(r.trades) for r in batch.results)
        if hist is None or not count:
            return []
        ts_ms = batch.ts_ns // 1_000_000
        trade_id = last_trade_id - count + 1
        out: list[tuple[int, list[AggTrade]]] = []
        ticks: list[CandleTrade] = []
        for result in batch.results:
            if not result.trades:
                continue
            first = trade_id
            groups: list[AggTrade] = []
            for t in result.trades:
                maker_is_buyer = t.aggressor is Side.SELL
                ticks.append(
                    CandleTrade(
                        ts_ms=ts_ms,
                        price=t.price,
                        qty=t.qty,
                        taker_buy=not maker_is_buyer,
                        trade_id=trade_id,
                    )
                )
                if groups and groups[-1].price == t.price:
                    groups[-1] = attrs.evolve(
                        groups[-1], qty=groups[-1].qty + t.qty, last_id=trade_id
                    )
                else:
                    groups.append(
                        AggTrade(
                            agg_id=0,
                            price=t.price,
                            qty=t.qty,
                            first_id=trade_id,
                            last_id=trade_id,
                            ts_ms=ts_ms,
                            maker_is_buyer=maker_is_buyer,
                        )
                    )
                trade_id += 1
            for i, group in enumerate(groups):
                groups[i] = attrs.evolve(group, agg_id=hist.next_agg)
                hist.next_agg += 1
            hist.aggs.extend(groups)
            out.append((first, groups))
        self.candles.add_many(self.market, batch.native_id, ts_ms, ticks)
        return out

    def agg_trades(
        self,
        symbol: str,
        limit: int,
        *,
        from_id: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[AggTrade]:
        """Aggregate trades oldest first, as ``GET aggTrades`` selects them.

        ``from_id`` (inclusive) or ``start_ms`` give the first ``limit`` from
        there; otherwise the most recent ``limit``; ``start_ms`` and
        ``end_ms`` are inclusive bounds on the trade time.
        """
        hist = self._symbols[symbol]
        chosen = [
            a
            for a in hist.aggs
            if (from_id is None or a.agg_id >= from_id)
            and (start_ms is None or a.ts_ms >= start_ms)
            and (end_ms is None or a.ts_ms <= end_ms)
        ]
        if from_id is not None or start_ms is not None:
            return chosen[:limit]
        return chosen[-limit:]
