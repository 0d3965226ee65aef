from __future__ import annotations

from connector.book.orderbook import OrderBook
from connector.book.sequencing import APPLY, BUFFER, Drop, Hold, Resync
from connector.model import BookDelta, BookSnapshot, Market, Symbol
from connector.venues.binance.sync import BinanceFuturesSync, BinanceSpotSync

SYM = Symbol.parse("BTC-USDT-SPOT")


def diff(first: int, last: int, pu: int | None = None) -> BookDelta:
    return BookDelta(
        venue="binance",
        market=Market.SPOT if pu is None else Market.LINEAR,
        symbol=SYM,
        first_seq=first,
        seq=last,
        prev_seq=pu,
        bids=(),
        asks=(),
    )


def snap(last_update_id: int) -> BookSnapshot:
    return BookSnapshot(
        venue="binance", market=Market.SPOT, symbol=SYM, seq=last_update_id, bids=(), asks=()
    )


def test_binance_sync_buffers_diffs_until_a_snapshot() -> None:
    sync = BinanceSpotSync()
    assert BUFFER == sync.on_delta(diff(1, 3))
    assert 1 == sync.buffered
    assert sync.needs_rest_snapshot


def test_binance_spot_sync_drops_diff_older_than_snapshot_and_drains_the_rest() -> None:
    sync = BinanceSpotSync()
    old, first, second = diff(90, 100), diff(101, 105), diff(106, 110)
    for d in (old, first, second):
        sync.on_delta(d)
    assert APPLY == sync.on_snapshot(snap(100))
    assert [first, second] == sync.drain()
    assert [] == sync.drain()
    assert APPLY == sync.on_delta(diff(111, 111))
    assert 111 == sync.last_update_id


def test_binance_spot_sync_first_diff_may_straddle_the_snapshot() -> None:
    sync = BinanceSpotSync()
    sync.on_delta(diff(95, 104))
    assert APPLY == sync.on_snapshot(snap(100))
    assert 1 == len(sync.drain())


def test_binance_spot_sync_resyncs_when_the_snapshot_is_older_than_the_buffer() -> None:
    sync = BinanceSpotSync()
    sync.on_delta(diff(105, 110))
    decision = sync.on_snapshot(snap(100))
    assert Resync("first diff must have U <= 101 <= u, got U=105 u=110") == decision
    assert 0 == sync.buffered


def test_binance_spot_sync_holds_a_diff_ahead_then_resyncs_naming_the_gap_when_it_expires() -> None:
    sync = BinanceSpotSync()
    sync.on_snapshot(snap(100))
    assert APPLY == sync.on_delta(diff(101, 102))
    assert Hold("gap: expected U=103, got U=104 (u=105)") == sync.on_delta(diff(104, 105))
    assert 1 == sync.held
    assert 102 == sync.last_update_id
    # The caller's window is over: the gap is given up, the held diff forgotten.
    assert Resync("gap: expected U=103, got U=104 (u=105)") == sync.expire()
    assert 0 == sync.held
    assert None is sync.expire()


def test_binance_spot_sync_applies_held_diffs_in_order_once_the_missing_one_comes() -> None:
    sync = BinanceSpotSync()
    sync.on_snapshot(snap(100))
    assert APPLY == sync.on_delta(diff(101, 102))
    later, latest = diff(105, 106), diff(107, 108)
    assert isinstance(sync.on_delta(latest), Hold)
    assert isinstance(sync.on_delta(later), Hold)
    assert [] == sync.drain()  # still missing 103-104: nothing follows the book yet
    assert APPLY == sync.on_delta(diff(103, 104))
    assert [later, latest] == sync.drain()
    assert (0, 108) == (sync.held, sync.last_update_id)
    assert None is sync.expire()
    assert APPLY == sync.on_delta(diff(109, 109))


def test_binance_spot_sync_keeps_holding_diffs_beyond_a_second_gap() -> None:
    sync = BinanceSpotSync()
    sync.on_snapshot(snap(100))
    after_first, after_second = diff(102, 102), diff(104, 104)
    sync.on_delta(after_second)
    sync.on_delta(after_first)
    assert APPLY == sync.on_delta(diff(101, 101))
    assert [after_first] == sync.drain()
    assert 1 == sync.held
    assert Resync("gap: expected U=103, got U=104 (u=104)") == sync.expire()


def test_binance_sync_resyncs_when_more_diffs_are_ahead_than_it_may_hold() -> None:
    sync = BinanceSpotSync(hold_limit=2)
    sync.on_snapshot(snap(100))
    assert APPLY == sync.on_delta(diff(101, 101))
    assert isinstance(sync.on_delta(diff(103, 103)), Hold)
    assert isinstance(sync.on_delta(diff(104, 104)), Hold)
    decision = sync.on_delta(diff(105, 105))
    assert isinstance(decision, Resync)
    assert "gap: expected U=102, got U=105 (u=105); 2 updates held" in decision.reason


def test_binance_spot_sync_chains_swapped_buffered_diffs_in_update_id_order() -> None:
    sync = BinanceSpotSync()
    first, second = diff(101, 102), diff(103, 104)
    sync.on_delta(second)
    sync.on_delta(first)
    assert APPLY == sync.on_snapshot(snap(100))
    assert [first, second] == sync.drain()


def test_binance_spot_sync_drops_a_duplicate_diff() -> None:
    sync = BinanceSpotSync()
    sync.on_snapshot(snap(100))
    sync.on_delta(diff(101, 102))
    decision = sync.on_delta(diff(101, 102))
    assert isinstance(decision, Drop)
    assert "u=102" in decision.reason


def test_binance_spot_sync_drops_diffs_older_than_the_snapshot_after_it_arrives() -> None:
    sync = BinanceSpotSync()
    assert APPLY == sync.on_snapshot(snap(100))
    assert isinstance(sync.on_delta(diff(95, 99)), Drop)
    assert isinstance(sync.on_delta(diff(99, 100)), Drop)
    assert APPLY == sync.on_delta(diff(100, 103))


def test_binance_spot_sync_resyncs_when_the_buffer_overflows() -> None:
    sync = BinanceSpotSync(buffer_limit=3)
    for i in range(3):
        assert BUFFER == sync.on_delta(diff(i * 10, i * 10 + 9))
    assert Resync("buffer overflow: 3 diffs and no snapshot") == sync.on_delta(diff(30, 39))
    assert 0 == sync.buffered


def test_binance_sync_drops_a_snapshot_older_than_the_applied_book() -> None:
    sync = BinanceSpotSync()
    sync.on_snapshot(snap(100))
    sync.on_delta(diff(101, 120))
    assert isinstance(sync.on_snapshot(snap(110)), Drop)


def test_binance_sync_reset_forgets_everything() -> None:
    sync = BinanceSpotSync()
    sync.on_delta(diff(1, 2))
    sync.on_snapshot(snap(1))
    sync.reset()
    assert (0, None) == (sync.buffered, sync.last_update_id)
    assert BUFFER == sync.on_delta(diff(3, 4))


def test_binance_futures_sync_first_diff_covers_last_update_id() -> None:
    sync = BinanceFuturesSync()
    older = diff(80, 90, pu=70)
    covering = diff(95, 100, pu=90)  # u == lastUpdateId: kept (drop only u < id)
    following = diff(130, 140, pu=100)
    for d in (older, covering, following):
        sync.on_delta(d)
    assert APPLY == sync.on_snapshot(snap(100))
    assert [covering, following] == sync.drain()


def test_binance_futures_sync_resyncs_when_first_diff_does_not_cover_the_snapshot() -> None:
    sync = BinanceFuturesSync()
    sync.on_snapshot(snap(100))
    assert Resync(
        "first diff must have U <= 100 <= u or pu = 100, got U=101 u=110 pu=95"
    ) == sync.on_delta(diff(101, 110, pu=95))


def test_binance_futures_sync_takes_the_diff_that_follows_the_snapshot_exactly() -> None:
    # A quiet book's snapshot taken between two diffs: no diff spans its id, and the
    # next one says by its pu that it follows the snapshot's state.
    sync = BinanceFuturesSync()
    sync.on_snapshot(snap(53))
    assert APPLY == sync.on_delta(diff(54, 55, pu=53))
    assert APPLY == sync.on_delta(diff(56, 57, pu=55))


def test_binance_futures_sync_chains_on_pu_and_holds_a_diff_after_a_gap() -> None:
    sync = BinanceFuturesSync()
    sync.on_snapshot(snap(100))
    assert APPLY == sync.on_delta(diff(90, 105, pu=80))
    assert APPLY == sync.on_delta(diff(120, 130, pu=105))  # ids may jump, pu chains
    assert Hold("gap: expected pu=130, got pu=135 (u=150)") == sync.on_delta(diff(140, 150, pu=135))
    assert Resync("gap: expected pu=130, got pu=135 (u=150)") == sync.expire()


def test_binance_futures_sync_resyncs_at_once_on_a_diff_whose_pu_is_behind_the_book() -> None:
    sync = BinanceFuturesSync()
    sync.on_snapshot(snap(100))
    assert APPLY == sync.on_delta(diff(90, 105, pu=80))
    # Newer than the book but chained to an older diff: no missing diff can make it fit.
    decision = sync.on_delta(diff(104, 110, pu=103))
    assert Resync("gap: expected pu=105, got pu=103 (u=110)") == decision
    assert 0 == sync.held


def test_binance_futures_sync_holds_a_first_diff_ahead_of_the_snapshot() -> None:
    sync = BinanceFuturesSync()
    sync.on_snapshot(snap(100))
    ahead = diff(110, 120, pu=105)
    assert isinstance(sync.on_delta(ahead), Hold)
    assert APPLY == sync.on_delta(diff(90, 105, pu=80))
    assert [ahead] == sync.drain()
    assert 120 == sync.last_update_id


def test_binance_sync_reset_forgets_the_held_diffs() -> None:
    sync = BinanceFuturesSync()
    sync.on_snapshot(snap(100))
    sync.on_delta(diff(110, 120, pu=105))
    sync.reset()
    assert (0, 0) == (sync.held, sync.statistics().held)
    assert None is sync.expire()


def test_binance_sync_after_apply_always_applies() -> None:
    assert APPLY == BinanceFuturesSync().after_apply(OrderBook(), snap(1))
