"""OKX candles: ``GET /api/v5/market/candles``, ``history-candles`` and the ``candle*`` channels.

Built from the simulated trades with :mod:`connector.sim.candles` (every batch
is recorded whether or not anyone listens). Facts (OKX docs
``order-book-trading-market-data-get-candlesticks``, ``-get-candlesticks-history``
and ``-ws-candlesticks-channel``, checked 2026-12-03):

* A row is ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``, every
  field a string, newest first. ``vol`` is contracts on SWAP and base on SPOT;
  ``volCcy`` is base on SWAP (contracts × ``ctVal``) and quote on SPOT;
  ``volCcyQuote`` is quote on both; ``confirm`` ``1`` when the candle is closed.
  A quiet interval repeats the previous close with zero volume.
* Bars ``1m 3m 5m 15m 30m 1H 2H 4H``; UTC+8 opening ``6H 12H 1D 2D 3D 1W 1M
  3M``; UTC opening ``6Hutc 12Hutc 1Dutc 2Dutc 3Dutc 1Wutc 1Mutc 3Mutc``; the
  channels add ``1s`` and ``5D``/``5Dutc``. Default ``1m``.
* ``after``: rows older than that ``ts``; ``before``: rows newer than it (alone,
  the latest). ``limit`` up to 300 (``candles``, default 100) or 100
  (``history-candles``). ``candles`` serves the latest 1,440 rows.
* Channels live on ``/ws/v5/business`` only (64001 on ``/public``); a push at
  most once a second per channel, one row per changed candle (a closed candle
  a last time with ``confirm`` ``1``). A new subscriber gets the current
  candle at once.

Pure apart from the channel's frames: time is an argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from connector.model import Side
from connector.sim.candles import Candle, CandleBook, CandleSeries, CandleTrade, Interval
from connector.sim.hub import BookBatch, SimBook
from connector.sim.okx.wire import encode, format_number
from connector.sim.topics import Topic

__all__ = [
    "CANDLE_HISTORY",
    "CHANNEL_BARS",
    "REST_BARS",
    "CandleChannel",
    "OkxCandles",
    "candle_row",
]

_MIN = 60
_HOUR = 3600
_DAY = 86_400
_HKT = -8 * _HOUR  # UTC+8 bars open 8 hours before the UTC ones

#: Rows ``/api/v5/market/candles`` can reach back (the docs: the latest 1,440).
CANDLE_HISTORY = 1440
#: Trades queued per instrument before its series are brought up to date unasked.
_MAX_PENDING = 5000


def _bars() -> dict[str, Interval]:
    bars: dict[str, Interval] = {
        "1s": Interval(seconds=1),
        "1m": Interval(seconds=_MIN),
        "3m": Interval(seconds=3 * _MIN),
        "5m": Interval(seconds=5 * _MIN),
        "15m": Interval(seconds=15 * _MIN),
        "30m": Interval(seconds=30 * _MIN),
        "1H": Interval(seconds=_HOUR),
        "2H": Interval(seconds=2 * _HOUR),
        "4H": Interval(seconds=4 * _HOUR),
    }
    for name, seconds in (("6H", 6 * _HOUR), ("12H", 12 * _HOUR), ("1D", _DAY)):
        bars[name] = Interval(seconds=seconds, offset=_HKT)
        bars[name + "utc"] = Interval(seconds=seconds)
    for days in (2, 3, 5):
        bars[f"{days}D"] = Interval(seconds=days * _DAY, offset=_HKT)
        bars[f"{days}Dutc"] = Interval(seconds=days * _DAY)
    # Weeks open on Monday; 1970-01-01 was a Thursday.
    bars["1W"] = Interval(seconds=7 * _DAY, offset=4 * _DAY + _HKT)
    bars["1Wutc"] = Interval(seconds=7 * _DAY, offset=4 * _DAY)
    for months in (1, 3):
        bars[f"{months}M"] = Interval(months=months, offset=_HKT)
        bars[f"{months}Mutc"] = Interval(months=months)
    return bars


#: Every bar of the ``candle<bar>`` channels.
CHANNEL_BARS: dict[str, Interval] = _bars()
#: The bars of the REST endpoints (the channels' without ``1s`` and ``5D``).
REST_BARS: frozenset[str] = frozenset(CHANNEL_BARS) - {"1s", "5D", "5Dutc"}


def candle_row(candle: Candle, contract_size: Decimal, *, swap: bool) -> list[str]:
    """One OKX candle row ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``."""
    f = format_number
    if swap:
        vol_ccy = candle.volume * contract_size
        quote = candle.quote_volume * contract_size
    else:
        vol_ccy = quote = candle.quote_volume
    return [
        str(candle.open_ms),
        f(candle.open),
        f(candle.high),
        f(candle.low),
        f(candle.close),
        f(candle.volume),
        f(vol_ccy),
        f(quote),
        "1" if candle.closed else "0",
    ]


class OkxCandles:
    """The candles of every OKX instrument, fed by the hub's batches.

    Args:
        books: The venue's books by ``instId``.
        now_ms: Venue time the series start at.
        history: Candles kept per (instrument, bar).
    """

    def __init__(
        self, books: Mapping[str, SimBook], now_ms: int, *, history: int = CANDLE_HISTORY
    ) -> None:
        self.books = books
        self.book = CandleBook(CHANNEL_BARS, history=history)
        self._pending: dict[str, list[CandleTrade]] = {}
        for inst_id, book in books.items():
            self.book.track(book.market, inst_id, book.ticker().last, now_ms)

    def record(self, batch: BookBatch, last_trade_id: int) -> None:
        """Add one batch's trades (its book already applied; ``last_trade_id`` after it).

        Trades wait in a queue per instrument until a series of it is read (or
        the queue is long): each series then takes them one candle at a time,
        which costs far less than one update per batch and series.
        """
        count = sum(len(r.trades) for r in batch.results)
        if not count:
            return
        ts_ms = batch.ts_ns // 1_000_000
        trade_id = last_trade_id - count + 1
        queue = self._pending.setdefault(batch.native_id, [])
        for result in batch.results:
            for t in result.trades:
                queue.append(
                    CandleTrade(
                        ts_ms=ts_ms,
                        price=t.price,
                        qty=t.qty,
                        taker_buy=t.aggressor is Side.BUY,
                        trade_id=trade_id,
                    )
                )
                trade_id += 1
        if len(queue) >= _MAX_PENDING:
            self._flush(batch.native_id)

    def _flush(self, inst_id: str) -> None:
        queue = self._pending.pop(inst_id, None)
        if not queue:
            return
        market = self.books[inst_id].market
        for bar, interval in CHANNEL_BARS.items():
            series = self.book.series(market, inst_id, bar)
            group: list[CandleTrade] = []
            opened = -1
            last_ts, bucket = -1, -1
            for trade in queue:
                if trade.ts_ms != last_ts:  # trades of one batch share their time
                    last_ts, bucket = trade.ts_ms, interval.open_ms(trade.ts_ms)
                if group and bucket != opened:
                    series.add_many(group[-1].ts_ms, group)
                    group = []
                opened = bucket
                group.append(trade)
            series.add_many(group[-1].ts_ms, group)

    def series(self, inst_id: str, bar: str) -> CandleSeries:
        """One series, up to date (KeyError for an unknown instrument or bar)."""
        self._flush(inst_id)
        return self.book.series(self.books[inst_id].market, inst_id, bar)

    def rows(
        self,
        inst_id: str,
        bar: str,
        *,
        now_ms: int,
        limit: int,
        after: int | None = None,
        before: int | None = None,
    ) -> list[list[str]]:
        """REST rows newest first: ``ts < after`` and ``ts > before``, at most ``limit``."""
        book = self.books[inst_id]
        swap = book.market == "swap"
        size = book.instrument.contract_size
        series = self.series(inst_id, bar)
        chosen = [
            c
            for c in series.last(self.book.history, now_ms)
            if (after is None or c.open_ms < after) and (before is None or c.open_ms > before)
        ]
        chosen.reverse()
        return [candle_row(c, size, swap=swap) for c in chosen[:limit]]


class CandleChannel(Topic):
    """``candle<bar>`` of one instrument: pushes of the candles changed since the last push.

    Args:
        bar: The bar (``1m``, ``1Dutc``...).
        book: The instrument's book.
        candles: The venue's candles.
    """

    def __init__(self, bar: str, book: SimBook, candles: OkxCandles) -> None:
        self.channel = "candle" + bar
        super().__init__(f"{self.channel}:{book.native_id}")
        self.bar = bar
        self.inst_id = book.native_id
        self.swap = book.market == "swap"
        self.contract_size = book.instrument.contract_size
        self.candles = candles
        self.cursor = candles.series(self.inst_id, bar).seq

    def _frame(self, candle: Candle) -> str:
        row = candle_row(candle, self.contract_size, swap=self.swap)
        return encode({"arg": {"channel": self.channel, "instId": self.inst_id}, "data": [row]})

    def current_frame(self, now_ms: int) -> str | None:
        """The current candle's push (what a new subscriber gets first).

        With nobody listening before, the pushes restart from now.
        """
        series = self.candles.series(self.inst_id, self.bar)
        current = series.current(now_ms)
        if not self.subs:
            self.cursor = series.seq
        return None if current is None else self._frame(current)

    def tick(self, now_ms: int) -> None:
        """Push every candle changed (or closed) since the last tick."""
        if not self.subs:
            return
        series = self.candles.series(self.inst_id, self.bar)
        candles, self.cursor = series.updates(self.cursor, now_ms)
        for candle in candles:
            self.publish(self._frame(candle))
