"""``VenueFeed`` on real captured frames: topics, bad input, resync requests.

Frames come from the Bybit v3 capture (linear and spot sockets, with its two
instrument lists) and the first minute of the hftbacktest Binance spot capture
(depth diffs, bookTicker, trades and the REST snapshot among them).
"""

from __future__ import annotations

import functools
import gzip
import itertools
from collections.abc import Iterator

from connector.capture import CaptureRecord, read_capture
from connector.model import (
    BookStatus,
    BookUpdate,
    Instrument,
    Market,
    Quote,
    Symbol,
    Ticker,
    Trade,
)
from connector.venues.common import SymbolMap
from connector.venues.feed import VenueFeed
from connector.venues.registry import driver_for
from tests.conftest import fixture_path

BYBIT = "cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst"
BINANCE_SPOT = "hftbacktest/examples/spot/btcusdt_20240808.gz"
BTC_PERP = Symbol.parse("BTC-USDT-PERP")
BTC_SPOT = Symbol.parse("BTC-USDT-SPOT")
KIND = {BookUpdate: "orderbook", Trade: "trade", Ticker: "ticker", Quote: "quote"}


class Recorder:
    """What a feed publishes and asks for, in order."""

    def __init__(self) -> None:
        self.published: list[tuple[str, object]] = []
        self.resyncs: list[tuple[Market, Symbol]] = []

    def publish(self, topic: str, event: object) -> None:
        self.published.append((topic, event))

    def on_resync(self, market: Market, instrument: Instrument) -> None:
        self.resyncs.append((market, instrument.symbol))

    def books(self, symbol: Symbol) -> list[BookUpdate]:
        return [e for _, e in self.published if isinstance(e, BookUpdate) and e.symbol == symbol]


@functools.cache
def _bybit_records() -> tuple[CaptureRecord, ...]:
    return tuple(read_capture(fixture_path(BYBIT)))


def _bybit_feed(recorder: Recorder) -> VenueFeed:
    adapter = driver_for("bybit").market_data
    symbols = SymbolMap("bybit")
    for record in _bybit_records():
        if record.t == "http":
            found = adapter.read_captured_rest(record.url, record.data.encode(), symbols, 0)
            symbols.extend(i for i in found if isinstance(i, Instrument))
    return VenueFeed(adapter, symbols, recorder.publish, on_resync=recorder.on_resync)


def _bybit_frames() -> Iterator[CaptureRecord]:
    return (r for r in _bybit_records() if r.t == "recv")


def _feed_bybit(feed: VenueFeed, limit: int | None = None) -> None:
    for record in itertools.islice(_bybit_frames(), limit):
        feed.on_frame(record.data, Market(record.market), record.ts_ns)


BOOKS = (
    (Market.LINEAR, BTC_PERP),
    (Market.LINEAR, Symbol.parse("SOL-USDT-PERP")),
    (Market.SPOT, BTC_SPOT),
)


def _feed_until_all_valid(feed: VenueFeed) -> list[CaptureRecord]:
    """Feed frames until the three books are valid; the frames left over."""
    frames = list(_bybit_frames())
    for index, record in enumerate(frames):
        feed.on_frame(record.data, Market(record.market), record.ts_ns)
        if all(key in feed.keepers() and feed.keeper(*key).state.valid for key in BOOKS):
            return frames[index + 1 :]
    raise AssertionError("the capture never made all three books valid")


def _binance_spot_feed(recorder: Recorder) -> VenueFeed:
    adapter = driver_for("binance").market_data
    symbols = SymbolMap("binance", resolver=adapter.guess_instrument)
    return VenueFeed(adapter, symbols, recorder.publish, on_resync=recorder.on_resync)


def _feed_binance_spot(feed: VenueFeed, lines: int) -> None:
    with gzip.open(fixture_path(BINANCE_SPOT), "rt") as fh:
        for line in itertools.islice(fh, lines):
            stamp, _, raw = line.rstrip("\n").partition(" ")
            if raw.startswith('{"lastUpdateId"'):
                instrument = feed.symbols.by_symbol(Market.SPOT, BTC_SPOT)
                snapshot = feed.adapter.parse_snapshot(
                    Market.SPOT, instrument, raw.encode(), int(stamp)
                )
                feed.on_snapshot(snapshot)
            else:
                feed.on_frame(raw, Market.SPOT, int(stamp))


# -- topics ---------------------------------------------------------------------


def test_bybit_capture_publishes_each_event_on_its_kind_venue_symbol_topic() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)

    _feed_bybit(feed)

    topics = {topic for topic, _ in recorder.published}
    assert {
        f"{kind}.bybit.{symbol}"
        for kind in ("orderbook", "trade", "ticker")
        for symbol in ("BTC-USDT-PERP", "SOL-USDT-PERP", "BTC-USDT-SPOT")
    } == topics
    for topic, event in recorder.published:
        assert f"{KIND[type(event)]}.bybit.{event.symbol}" == topic  # type: ignore[attr-defined]


def test_bybit_capture_keeps_linear_and_spot_books_of_one_topic_apart() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)

    _feed_bybit(feed)

    perp = feed.keeper(Market.LINEAR, BTC_PERP)
    spot = feed.keeper(Market.SPOT, BTC_SPOT)
    assert (True, True) == (perp.state.valid, spot.state.valid)
    assert (413, 299) == (perp.statistics().deltas_applied, spot.statistics().deltas_applied)
    assert [] == recorder.resyncs
    stats = feed.statistics()
    assert (0, 0, 0) == (stats.malformed, stats.unknown_symbols, stats.control_errors)
    assert stats.frames == sum(1 for _ in _bybit_frames())


def test_book_updates_published_valid_always_carry_an_uncrossed_top() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)

    _feed_bybit(feed)

    valid = [e for _, e in recorder.published if isinstance(e, BookUpdate) and e.state.valid]
    assert valid
    for update in valid:
        assert update.best_bid is not None and update.best_ask is not None
        assert update.best_bid.price < update.best_ask.price


def test_binance_spot_frames_publish_quotes_trades_and_books_on_their_topics() -> None:
    recorder = Recorder()
    feed = _binance_spot_feed(recorder)

    _feed_binance_spot(feed, 3000)

    kinds = {topic: type(event) for topic, event in recorder.published}
    assert {
        "orderbook.binance.BTC-USDT-SPOT": BookUpdate,
        "quote.binance.BTC-USDT-SPOT": Quote,
        "trade.binance.BTC-USDT-SPOT": Trade,
    } == kinds
    assert feed.keeper(Market.SPOT, BTC_SPOT).state.valid
    # the first diff asked for the REST snapshot, once
    assert [(Market.SPOT, BTC_SPOT)] == recorder.resyncs


def test_book_lookup_by_symbol_returns_the_live_book_and_state() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    _feed_bybit(feed)

    found = feed.book(BTC_PERP)

    assert found is not None
    book, state = found.book, found.state
    assert state.valid
    assert recorder.books(BTC_PERP)[-1].best_bid == book.best_bid()
    assert feed.book(Symbol.parse("DOGE-USDT-PERP")) is None


# -- bad input ------------------------------------------------------------------


def test_malformed_frames_are_counted_and_skipped_and_the_book_stays_valid() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    _feed_bybit(feed, 200)
    before = feed.keeper(Market.LINEAR, BTC_PERP).state

    feed.on_frame("{not json", Market.LINEAR, 1)
    feed.on_frame(b"\xff\xfe", Market.LINEAR, 2)
    stats = feed.statistics()
    assert (2, 0) == (stats.malformed, stats.unknown_symbols)
    assert before == feed.keeper(Market.LINEAR, BTC_PERP).state
    assert before.valid


def test_a_delta_with_impossible_levels_invalidates_only_its_book_and_resyncs_it() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    _feed_until_all_valid(feed)
    keeper = feed.keeper(Market.LINEAR, BTC_PERP)
    recorder.resyncs.clear()

    feed.on_frame(
        '{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1,'
        f'"data":{{"s":"BTCUSDT","b":[["abc","1"]],"a":[],"u":{keeper.seq + 1},"seq":9}}}}',
        Market.LINEAR,
        3,
    )

    assert not keeper.state.valid
    assert "not a decimal number: 'abc'" in (keeper.state.reason or "")
    assert [(Market.LINEAR, BTC_PERP)] == recorder.resyncs
    assert all(feed.keeper(*key).state.valid for key in BOOKS if key[1] != BTC_PERP)


def test_frames_for_symbols_not_loaded_are_counted_as_unknown_not_malformed() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    frame = (
        '{"topic":"publicTrade.NOTACOINUSDT","type":"snapshot","ts":1786310819313,'
        '"data":[{"T":1786310819312,"s":"NOTACOINUSDT","S":"Buy","v":"0.001",'
        '"p":"60000.00","L":"PlusTick","i":"abc","BT":false,"seq":1}]}'
    )

    feed.on_frame(frame, Market.LINEAR, 1)

    stats = feed.statistics()
    assert (1, 0) == (stats.unknown_symbols, stats.malformed)
    assert [] == recorder.published


def test_venue_error_replies_are_counted_as_control_errors() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)

    feed.on_frame(
        '{"success":false,"ret_msg":"error:handler not found","conn_id":"x",'
        '"req_id":"7","op":"subscribe"}',
        Market.SPOT,
        1,
    )

    assert 1 == feed.statistics().control_errors
    assert [] == recorder.published


# -- invalidation and resyncs ----------------------------------------------------


def test_invalidate_publishes_an_invalid_empty_book_and_asks_for_one_resync() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    _feed_bybit(feed, 300)
    assert feed.keeper(Market.LINEAR, BTC_PERP).state.valid
    published = len(recorder.published)

    feed.invalidate("disconnected: test", [(Market.LINEAR, BTC_PERP)])

    ((topic, update),) = recorder.published[published:]
    assert "orderbook.bybit.BTC-USDT-PERP" == topic
    assert isinstance(update, BookUpdate)
    assert (BookStatus.INVALID, "disconnected: test") == (
        update.state.status,
        update.state.reason,
    )
    assert (None, None, (), ()) == (update.best_bid, update.best_ask, update.bids, update.asks)
    assert [(Market.LINEAR, BTC_PERP)] == recorder.resyncs
    keeper = feed.keeper(Market.LINEAR, BTC_PERP)
    assert (None, None) == (keeper.book.best_bid(), keeper.book.best_ask())


def test_deltas_after_an_invalidation_do_not_ask_for_more_resyncs() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    rest = _feed_until_all_valid(feed)

    feed.invalidate("stale stream: test", [(Market.LINEAR, BTC_PERP)])
    for record in rest[:300]:
        feed.on_frame(record.data, Market(record.market), record.ts_ns)

    assert [(Market.LINEAR, BTC_PERP)] == recorder.resyncs
    assert not feed.keeper(Market.LINEAR, BTC_PERP).state.valid
    assert feed.keeper(Market.SPOT, BTC_SPOT).state.valid  # only that book


def test_each_invalidation_asks_for_exactly_one_resync() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    _feed_until_all_valid(feed)

    feed.invalidate("first")
    feed.invalidate("second", [(Market.SPOT, BTC_SPOT)])

    assert sorted(BOOKS) == sorted(recorder.resyncs[:3])
    assert [(Market.SPOT, BTC_SPOT)] == recorder.resyncs[3:]


def test_a_sequence_gap_invalidates_the_book_and_asks_for_one_resync() -> None:
    recorder = Recorder()
    feed = _binance_spot_feed(recorder)
    _feed_binance_spot(feed, 3000)
    assert [(Market.SPOT, BTC_SPOT)] == recorder.resyncs  # the initial snapshot
    keeper = feed.keeper(Market.SPOT, BTC_SPOT)
    u = keeper.seq
    gap = (
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT",'
        f'"U":{u + 5},"u":{u + 6},"b":[],"a":[]}}}}'
    )
    later = (
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":2,"s":"BTCUSDT",'
        f'"U":{u + 7},"u":{u + 8},"b":[],"a":[]}}}}'
    )

    feed.on_frame(gap, Market.SPOT, 1)
    feed.on_frame(later, Market.SPOT, 2)

    assert [(Market.SPOT, BTC_SPOT)] * 2 == recorder.resyncs
    assert not keeper.state.valid
    assert 1 == keeper.statistics().gaps
    states = [e.state.status for e in recorder.books(BTC_SPOT)[-2:]]
    assert [BookStatus.INVALID, BookStatus.SYNCING] == states


def test_a_fresh_snapshot_after_invalidation_makes_the_book_valid_again() -> None:
    recorder = Recorder()
    feed = _bybit_feed(recorder)
    frames = list(_bybit_frames())
    _feed_until_all_valid(feed)
    feed.invalidate("test")
    # Bybit answers a resubscription with a snapshot: replay the capture's first one.
    snapshot = next(
        r
        for r in frames
        if r.market == "linear" and '"orderbook.200.BTCUSDT"' in r.data and '"snapshot"' in r.data
    )

    feed.on_frame(snapshot.data, Market.LINEAR, snapshot.ts_ns)

    assert feed.keeper(Market.LINEAR, BTC_PERP).state.valid
    assert BookStatus.VALID is recorder.books(BTC_PERP)[-1].state.status
