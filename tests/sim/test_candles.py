"""The shared candle builder: buckets, OHLCV, quiet intervals, bounded history, updates."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connector.sim.candles import CandleBook, CandleSeries, CandleTrade, Interval

MIN = 60_000
T0 = 1_700_000_040_000  # 2023-11-14 22:14:00 UTC, a minute boundary


def trade(ts: int, price: str, qty: str, *, buy: bool = True, tid: int = 1) -> CandleTrade:
    return CandleTrade(ts_ms=ts, price=D(price), qty=D(qty), taker_buy=buy, trade_id=tid)


def test_interval_buckets_fixed_offset_and_calendar_months() -> None:
    minute = Interval(seconds=60)
    monday_week = Interval(seconds=7 * 86_400, offset=4 * 86_400)
    month = Interval(months=1)
    assert T0 == minute.open_ms(T0 + 59_999)
    assert T0 + MIN == minute.next_open_ms(T0)
    # 2023-11-13 was a Monday.
    assert 1_699_833_600_000 == monday_week.open_ms(T0)
    # 2023-11-01 and 2023-12-01 00:00 UTC.
    assert 1_698_796_800_000 == month.open_ms(T0)
    assert 1_701_388_800_000 == month.next_open_ms(month.open_ms(T0))
    # December rolls into January of the next year.
    assert 1_704_067_200_000 == month.next_open_ms(1_701_388_800_000)
    with pytest.raises(ValueError, match="interval"):
        Interval()


def test_candle_has_ohlcv_taker_volumes_and_trade_ids_of_its_trades() -> None:
    series = CandleSeries(Interval(seconds=60))
    series.add_many(T0 + 1000, [trade(T0 + 1000, "100", "1", tid=7)])
    series.add_many(
        T0 + 2000,
        [trade(T0 + 2000, "105", "2", buy=False, tid=8), trade(T0 + 2000, "99", "1", tid=9)],
    )
    series.add(trade(T0 + 3000, "101", "0.5", tid=10))
    (candle,) = series.last(10, T0 + 4000)
    assert (T0, T0 + MIN - 1) == (candle.open_ms, candle.close_ms)
    assert (D(100), D(105), D(99), D(101)) == (candle.open, candle.high, candle.low, candle.close)
    assert D("4.5") == candle.volume
    assert D("100") + D("210") + D("99") + D("50.5") == candle.quote_volume
    assert D("2.5") == candle.taker_buy_volume
    assert D("100") + D("99") + D("50.5") == candle.taker_buy_quote_volume
    assert (4, 7, 10) == (candle.trades, candle.first_trade_id, candle.last_trade_id)
    assert not candle.closed


def test_quiet_intervals_are_flat_candles_at_the_previous_close() -> None:
    series = CandleSeries(Interval(seconds=60), price=D(50), start_ms=T0)
    series.add(trade(T0 + MIN + 5, "52", "1", tid=1))
    candles = series.last(10, T0 + 3 * MIN + 1)
    assert [T0 + i * MIN for i in range(4)] == [c.open_ms for c in candles]
    first, traded, quiet, current = candles
    assert (D(50), D(50), D(0), -1) == (first.open, first.close, first.volume, first.first_trade_id)
    assert (D(52), 1) == (traded.open, traded.trades)
    assert (D(52), D(52), D(52), D(0)) == (quiet.open, quiet.high, quiet.low, quiet.volume)
    assert [True, True, True, False] == [c.closed for c in candles]
    assert current.open == D(52)


def test_history_is_bounded_and_oldest_candles_go_first() -> None:
    series = CandleSeries(Interval(seconds=1), history=5)
    for i in range(12):
        series.add(trade(T0 + i * 1000, str(100 + i), "1", tid=i + 1))
    candles = series.last(100, T0 + 11_500)
    assert 5 == len(series)
    assert [D(107 + i) for i in range(5)] == [c.close for c in candles]
    # A long quiet gap keeps only the last ``history`` flat candles.
    later = series.last(100, T0 + 1_000_000)
    assert 5 == len(later)
    assert T0 + 1_000_000 == later[-1].open_ms


def test_last_selects_by_start_and_end_time() -> None:
    series = CandleSeries(Interval(seconds=60))
    for i in range(6):
        series.add(trade(T0 + i * MIN, str(10 + i), "1", tid=i + 1))
    now = T0 + 5 * MIN + 1
    assert [T0 + 4 * MIN, T0 + 5 * MIN] == [c.open_ms for c in series.last(2, now)]
    assert [T0 + MIN, T0 + 2 * MIN] == [
        c.open_ms for c in series.last(2, now, start_ms=T0 + 1, end_ms=T0 + 4 * MIN)
    ]
    assert [T0, T0 + MIN] == [c.open_ms for c in series.last(5, now, end_ms=T0 + MIN)]


def test_updates_return_what_closed_or_changed_since_the_cursor() -> None:
    series = CandleSeries(Interval(seconds=60), price=D(10), start_ms=T0)
    first, cursor = series.updates(0, T0 + 1)
    assert [T0] == [c.open_ms for c in first]
    assert ([], cursor) == series.updates(cursor, T0 + 2)
    series.add(trade(T0 + 10, "11", "1", tid=1))
    changed, cursor = series.updates(cursor, T0 + 20)
    assert [(T0, D(11), False)] == [(c.open_ms, c.close, c.closed) for c in changed]
    rolled, cursor = series.updates(cursor, T0 + MIN + 5)
    assert [(T0, True), (T0 + MIN, False)] == [(c.open_ms, c.closed) for c in rolled]
    assert ([], cursor) == series.updates(cursor, T0 + MIN + 6)


def test_candle_book_feeds_every_interval_of_an_instrument() -> None:
    book = CandleBook({"1m": Interval(seconds=60), "5m": Interval(seconds=300)}, history=10)
    book.track("spot", "BTCUSDT", D(100), T0)
    book.add_many("spot", "BTCUSDT", T0 + MIN, [trade(T0 + MIN, "101", "2", tid=1)])
    book.add_many("spot", "NOPE", T0 + MIN, [trade(T0 + MIN, "1", "1")])  # untracked: ignored
    one = book.series("spot", "BTCUSDT", "1m").last(10, T0 + MIN)
    five = book.series("spot", "BTCUSDT", "5m").last(10, T0 + MIN)
    assert [D(0), D(2)] == [c.volume for c in one]
    # T0 is four minutes into a five-minute candle: the trade opens the next one.
    assert [(D(100), D(100), D(0)), (D(101), D(101), D(2))] == [
        (c.open, c.close, c.volume) for c in five
    ]
