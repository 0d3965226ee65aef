"""OHLCV candles from simulated trades, for every venue's kline endpoints and streams (sans-I/O).

Intervals are generic (:class:`Interval`: a length in seconds with an
optional offset of the bucket grid from the epoch, or whole calendar months);
each front-end maps its own interval names onto them (Binance ``1m`` is
``Interval(seconds=60)``, ``1w`` starts on Monday:
``Interval(seconds=604800, offset=345600)``, ``1M`` is ``Interval(months=1)``).

A :class:`CandleSeries` is one (market, instrument, interval): trades go in
with :meth:`CandleSeries.add` (or :meth:`CandleSeries.add_many` for trades of
one timestamp), at most ``history`` candles are kept (FIFO: the oldest are
forgotten). An interval without trades is a flat candle at the previous close
with zero volume, as the venues publish them. Front-ends ask for:

* :meth:`CandleSeries.last` — the last N candles up to a time (REST klines);
* :meth:`CandleSeries.updates` — the candles closed or changed since a cursor,
  and the new cursor (streams push those since their last push).

:class:`CandleBook` holds the series of one venue, keyed
``(market, instrument, interval)``. Pure: time is an argument (ms).
"""

from __future__ import annotations

import calendar
from collections import deque
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

__all__ = ["Candle", "CandleBook", "CandleSeries", "CandleTrade", "Interval"]

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class Interval:
    """A candle length: fixed seconds (with a grid offset) or calendar months.

    Attributes:
        seconds: Fixed length in seconds (ignored when ``months`` is set).
        offset: Seconds the bucket grid is shifted from the epoch (a week
            starting on Monday: 4 days, since 1970-01-01 was a Thursday);
            may be negative. Months honour it too (OKX's UTC+8 ``1M``
            opens at 16:00 UTC the day before: ``offset=-28800``).
        months: Whole calendar months (UTC), when non-zero.
    """

    seconds: int = 0
    offset: int = 0
    months: int = 0

    def __attrs_post_init__(self) -> None:
        if self.months <= 0 and self.seconds <= 0:
            raise ValueError("an interval needs seconds > 0 or months > 0")

    def open_ms(self, ts_ms: int) -> int:
        """Open time (ms) of the candle that holds ``ts_ms``."""
        shift = self.offset * 1000
        if self.months:
            year, month = _year_month(ts_ms - shift)
            index = year * 12 + (month - 1)
            index -= index % self.months
            return _month_start_ms(index // 12, index % 12 + 1) + shift
        length = self.seconds * 1000
        return (ts_ms - shift) // length * length + shift

    def next_open_ms(self, open_ms: int) -> int:
        """Open time (ms) of the candle after the one opening at ``open_ms``."""
        if self.months:
            shift = self.offset * 1000
            year, month = _year_month(open_ms - shift)
            index = year * 12 + (month - 1) + self.months
            return _month_start_ms(index // 12, index % 12 + 1) + shift
        return open_ms + self.seconds * 1000


def _year_month(ts_ms: int) -> tuple[int, int]:
    days = ts_ms // 86_400_000
    # 1970-01-01 + days, without a clock: civil-from-days (Howard Hinnant's algorithm).
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month


def _month_start_ms(year: int, month: int) -> int:
    return calendar.timegm((year, month, 1, 0, 0, 0, 0, 0, 0)) * 1000


@attrs.frozen(kw_only=True)
class CandleTrade:
    """One trade as a candle sees it.

    Attributes:
        ts_ms: Trade time (ms).
        price: Trade price.
        qty: Trade quantity (base, or contracts).
        taker_buy: The taker bought (counts in the taker-buy volumes).
        trade_id: The venue's trade id.
    """

    ts_ms: int
    price: Decimal
    qty: Decimal
    taker_buy: bool
    trade_id: int


@attrs.frozen(kw_only=True)
class Candle:
    """One OHLCV candle.

    Attributes:
        open_ms: Open time (ms).
        close_ms: Close time (ms): the next open time minus one.
        open: First trade price (the previous close when there was no trade).
        high: Highest trade price.
        low: Lowest trade price.
        close: Last trade price.
        volume: Sum of quantities.
        quote_volume: Sum of ``price * qty``.
        trades: Number of trades.
        taker_buy_volume: Quantity of trades whose taker bought.
        taker_buy_quote_volume: Quote volume of those trades.
        first_trade_id: Id of the first trade (-1 without trades).
        last_trade_id: Id of the last trade (-1 without trades).
        closed: The interval is over (no trade can change it any more).
        seq: The series' change counter when this candle last changed.
    """

    open_ms: int
    close_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal = _ZERO
    quote_volume: Decimal = _ZERO
    trades: int = 0
    taker_buy_volume: Decimal = _ZERO
    taker_buy_quote_volume: Decimal = _ZERO
    first_trade_id: int = -1
    last_trade_id: int = -1
    closed: bool = False
    seq: int = 0


def _flat(interval: Interval, open_ms: int, price: Decimal, seq: int) -> Candle:
    return Candle(
        open_ms=open_ms,
        close_ms=interval.next_open_ms(open_ms) - 1,
        open=price,
        high=price,
        low=price,
        close=price,
        seq=seq,
    )


class CandleSeries:
    """The candles of one (market, instrument, interval), newest last.

    Args:
        interval: The candle length.
        history: Most candles kept (the oldest are forgotten first).
        price: The price before the first trade (flat candles until then);
            None: no candle exists before the first trade.
        start_ms: Time the series starts (its first candle holds it).
    """

    def __init__(
        self,
        interval: Interval,
        *,
        history: int = 1500,
        price: Decimal | None = None,
        start_ms: int | None = None,
    ) -> None:
        if history < 1:
            raise ValueError("history must be at least 1")
        self.interval = interval
        self.history = history
        self._candles: deque[Candle] = deque(maxlen=history)
        self._seq = 0
        if price is not None and start_ms is not None:
            self._seq += 1
            self._candles.append(_flat(interval, interval.open_ms(start_ms), price, self._seq))

    @property
    def seq(self) -> int:
        """The change counter (a cursor for :meth:`updates`)."""
        return self._seq

    def __len__(self) -> int:
        return len(self._candles)

    def add(self, trade: CandleTrade) -> None:
        """Add one trade (trades must come in time order)."""
        self.add_many(trade.ts_ms, (trade,))

    def add_many(self, ts_ms: int, trades: Sequence[CandleTrade]) -> None:
        """Add trades that all happened at ``ts_ms`` (in execution order).

        Trades older than the current candle are counted in it (the
        simulator's clock never goes back; this only guards against it).
        """
        if not trades:
            return
        self._roll(ts_ms)
        candles = self._candles
        current = candles[-1] if candles else None
        opened = self.interval.open_ms(ts_ms)
        if current is None or current.open_ms < opened:
            self._seq += 1
            current = _flat(self.interval, opened, trades[0].price, self._seq)
            candles.append(current)
        if current.trades == 0:
            # The first trade opens the candle (a quiet candle sat at the previous close).
            opening = high = low = trades[0].price
            first_id = trades[0].trade_id
        else:
            opening, high, low = current.open, current.high, current.low
            first_id = current.first_trade_id
        close = current.close
        volume, quote = current.volume, current.quote_volume
        buy, buy_quote = current.taker_buy_volume, current.taker_buy_quote_volume
        for t in trades:
            price = t.price
            if price > high:
                high = price
            if price < low:
                low = price
            close = price
            notional = price * t.qty
            volume += t.qty
            quote += notional
            if t.taker_buy:
                buy += t.qty
                buy_quote += notional
        self._seq += 1
        candles[-1] = attrs.evolve(
            current,
            open=opening,
            high=high,
            low=low,
            close=close,
            volume=volume,
            quote_volume=quote,
            trades=current.trades + len(trades),
            taker_buy_volume=buy,
            taker_buy_quote_volume=buy_quote,
            first_trade_id=first_id,
            last_trade_id=trades[-1].trade_id,
            seq=self._seq,
        )

    def _roll(self, now_ms: int) -> None:
        """Close candles that ended before ``now_ms``; add flat ones for quiet intervals."""
        candles = self._candles
        if not candles:
            return
        interval = self.interval
        current = candles[-1]
        now_open = interval.open_ms(now_ms)
        if current.open_ms >= now_open:
            return
        self._seq += 1
        candles[-1] = attrs.evolve(current, closed=True, seq=self._seq)
        price = current.close
        opened = interval.next_open_ms(current.open_ms)
        if not interval.months:
            # Only the last ``history`` quiet candles can be kept anyway.
            length = interval.seconds * 1000
            skip = (now_open - opened) // length - self.history
            if skip > 0:
                opened += skip * length
        while opened < now_open:
            self._seq += 1
            candles.append(attrs.evolve(_flat(interval, opened, price, self._seq), closed=True))
            opened = interval.next_open_ms(opened)
        self._seq += 1
        candles.append(_flat(interval, now_open, price, self._seq))

    def last(
        self,
        limit: int,
        now_ms: int,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
    ) -> list[Candle]:
        """Up to ``limit`` candles, oldest first, as of ``now_ms``.

        Args:
            limit: Most candles returned.
            now_ms: The current time (candles up to it exist, flat if quiet).
            start_ms: Only candles opening at or after it; with it the
                OLDEST ``limit`` such candles are returned.
            end_ms: Only candles opening at or before it.

        Returns:
            The candles; without ``start_ms`` the most recent ones.
        """
        self._roll(now_ms)
        chosen = [
            c
            for c in self._candles
            if (start_ms is None or c.open_ms >= start_ms)
            and (end_ms is None or c.open_ms <= end_ms)
        ]
        if start_ms is not None:
            return chosen[:limit]
        return chosen[-limit:] if limit > 0 else []

    def updates(self, cursor: int, now_ms: int) -> tuple[list[Candle], int]:
        """Candles closed or changed after ``cursor`` (oldest first), and the new cursor.

        Start with cursor 0 (every candle kept); pass the returned cursor next
        time. A stream pushes these (a closed candle one last time with its
        ``closed`` flag).
        """
        self._roll(now_ms)
        out: list[Candle] = []
        for candle in reversed(self._candles):
            if candle.seq <= cursor:
                break
            out.append(candle)
        out.reverse()
        return out, self._seq

    def current(self, now_ms: int) -> Candle | None:
        """The candle holding ``now_ms`` (None before the first trade without a price)."""
        self._roll(now_ms)
        return self._candles[-1] if self._candles else None


class CandleBook:
    """Every candle series of one venue, keyed ``(market, instrument, interval)``.

    Args:
        intervals: The interval of each name the venue uses (``{"1m": Interval(60)}``).
        history: Most candles kept per series.
    """

    def __init__(self, intervals: dict[str, Interval], *, history: int = 1500) -> None:
        self.intervals = dict(intervals)
        self.history = history
        self._series: dict[tuple[str, str], dict[str, CandleSeries]] = {}

    def track(self, market: str, instrument: str, price: Decimal, start_ms: int) -> None:
        """Start every interval's series of one instrument at ``price`` (no-op if tracked)."""
        key = (market, instrument)
        if key in self._series:
            return
        self._series[key] = {
            name: CandleSeries(interval, history=self.history, price=price, start_ms=start_ms)
            for name, interval in self.intervals.items()
        }

    def series(self, market: str, instrument: str, interval: str) -> CandleSeries:
        """One series; KeyError for an untracked instrument or unknown interval name."""
        return self._series[(market, instrument)][interval]

    def add_many(
        self, market: str, instrument: str, ts_ms: int, trades: Iterable[CandleTrade]
    ) -> None:
        """Add trades of one instrument that happened at ``ts_ms`` to every interval."""
        series = self._series.get((market, instrument))
        batch = list(trades)
        if series is None or not batch:
            return
        for one in series.values():
            one.add_many(ts_ms, batch)
