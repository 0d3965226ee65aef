"""Bybit klines: ``GET /v5/market/kline`` and the ``kline.{interval}.{symbol}`` topics.

Built from the simulated trades with the shared builder
(:mod:`connector.sim.candles`), recorded for every instrument from the start
whether or not anyone listens, so REST and the stream agree.

Rules (Bybit v5 "Get Kline" and websocket "Kline", checked 2026-12-03, and the
``kline.1`` frames of ``cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst``):

* Intervals ``1 3 5 15 30 60 120 240 360 720`` (minutes), ``D``, ``W`` (weeks
  start on Monday 00:00 UTC), ``M`` (calendar months).
* REST: ``category``, ``symbol``, ``interval`` required; ``start``/``end`` (ms)
  bound the candles' start times; ``limit`` 1-1000, default 200; the list holds
  ``[startTime, open, high, low, close, volume, turnover]`` as strings, newest
  first, the ``limit`` candles closest to ``end`` (default now).
* Stream: ``{"topic","data":[{start,end,interval,open,close,high,low,volume,
  turnover,confirm,timestamp}],"ts","type":"snapshot"}`` pushed once a second
  when a candle changed; a candle that closes is pushed once more with
  ``confirm: true``. Linear sends the closed and the new candle in one message,
  spot one message per candle with ``type`` first (as in the capture). A new subscriber gets the
  current candle at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from connector.model import Side
from connector.sim.bybit.wire import JsonDict, encode, format_trim, price_format
from connector.sim.candles import Candle, CandleBook, CandleSeries, CandleTrade, Interval
from connector.sim.hub import BookBatch, SimBook
from connector.sim.topics import Topic

__all__ = [
    "KLINE_INTERVALS",
    "KLINE_PUSH_SECONDS",
    "BybitCandles",
    "KlineTopic",
    "kline_row",
]

_MINUTES = (1, 3, 5, 15, 30, 60, 120, 240, 360, 720)
#: Bybit's interval names and their candle lengths.
KLINE_INTERVALS: dict[str, Interval] = {
    **{str(m): Interval(seconds=60 * m) for m in _MINUTES},
    "D": Interval(seconds=86_400),
    # 1970-01-01 was a Thursday: Monday-aligned weeks are offset by 4 days.
    "W": Interval(seconds=604_800, offset=345_600),
    "M": Interval(months=1),
}
#: The stream's push period (the capture pushes about once a second).
KLINE_PUSH_SECONDS = 1.0


class BybitCandles:
    """The candles of every instrument of the venue, fed from the hub's batches.

    Args:
        books: The venue's books by ``(category, symbol)``.
        now_ms: Venue time the series start at (flat candles at the last price).
        history: Candles kept per series.
    """

    def __init__(
        self, books: Mapping[tuple[str, str], SimBook], now_ms: int, *, history: int = 1000
    ) -> None:
        self.book = CandleBook(KLINE_INTERVALS, history=history)
        for (category, symbol), book in books.items():
            self.book.track(category, symbol, book.ticker().last, now_ms)

    def record(self, batch: BookBatch, last_trade_id: int) -> None:
        """Add one batch's trades (``last_trade_id``: the book's last trade id after it)."""
        count = sum(len(r.trades) for r in batch.results)
        if not count:
            return
        trade_id = last_trade_id - count + 1
        ticks: list[CandleTrade] = []
        ts_ms = batch.ts_ns // 1_000_000
        for result in batch.results:
            for t in result.trades:
                ticks.append(
                    CandleTrade(
                        ts_ms=ts_ms,
                        price=t.price,
                        qty=t.qty,
                        taker_buy=t.aggressor is Side.BUY,
                        trade_id=trade_id,
                    )
                )
                trade_id += 1
        self.book.add_many(batch.market, batch.native_id, ts_ms, ticks)

    def series(self, category: str, symbol: str, interval: str) -> CandleSeries:
        """One series (KeyError for an unknown instrument or interval name)."""
        return self.book.series(category, symbol, interval)

    def select(
        self,
        series: CandleSeries,
        now_ms: int,
        *,
        limit: int,
        start_ms: int | None,
        end_ms: int | None,
    ) -> list[Candle]:
        """The ``limit`` candles closest to ``end_ms`` within the bounds, newest first."""
        chosen = series.last(series.history, now_ms, start_ms=start_ms, end_ms=end_ms)
        return list(reversed(chosen[-limit:])) if limit > 0 else []


def kline_row(book: SimBook, candle: Candle) -> list[str]:
    """One REST list entry: ``[startTime, open, high, low, close, volume, turnover]``."""
    pf = price_format(book.instrument)
    return [
        str(candle.open_ms),
        pf(candle.open),
        pf(candle.high),
        pf(candle.low),
        pf(candle.close),
        format_trim(candle.volume),
        format_trim(candle.quote_volume),
    ]


def _item(pf: Callable[[Decimal], str], interval: str, candle: Candle, now_ms: int) -> JsonDict:
    return {
        "start": candle.open_ms,
        "end": candle.close_ms,
        "interval": interval,
        "open": pf(candle.open),
        "close": pf(candle.close),
        "high": pf(candle.high),
        "low": pf(candle.low),
        "volume": format_trim(candle.volume),
        "turnover": format_trim(candle.quote_volume),
        "confirm": candle.closed,
        "timestamp": now_ms,
    }


class KlineTopic(Topic):
    """``kline.{interval}.{symbol}`` of one category, shared by its connections.

    Args:
        category: ``spot`` or ``linear``.
        book: The instrument's book (number formats).
        interval: The Bybit interval name.
        series: The candle series it publishes.
        now_ms: The venue clock.
    """

    def __init__(
        self,
        category: str,
        book: SimBook,
        interval: str,
        series: CandleSeries,
        now_ms: Callable[[], int],
    ) -> None:
        super().__init__(f"kline.{interval}.{book.native_id}")
        self.category = category
        self.book = book
        self.interval = interval
        self.series = series
        self.now_ms = now_ms
        self.cursor = series.seq

    def _frames(self, candles: Iterable[Candle], now_ms: int) -> list[str]:
        pf = price_format(self.book.instrument)
        items = [_item(pf, self.interval, c, now_ms) for c in candles]
        if not items:
            return []
        if self.category == "linear":
            return [encode({"topic": self.name, "data": items, "ts": now_ms, "type": "snapshot"})]
        # Spot: one candle per message, keys in the spot socket's order.
        return [
            encode({"type": "snapshot", "topic": self.name, "data": [item], "ts": now_ms})
            for item in items
        ]

    def snapshot_frame(self) -> str:
        """The current candle, for a new subscriber."""
        now = self.now_ms()
        current = self.series.current(now)
        assert current is not None  # series start with a flat candle
        return self._frames([current], now)[0]

    def tick(self) -> None:
        """Push the candles closed or changed since the last push (nothing without listeners)."""
        now = self.now_ms()
        candles, self.cursor = self.series.updates(self.cursor, now)
        if not self.subs:
            return
        for frame in self._frames(candles, now):
            self.publish(frame)
