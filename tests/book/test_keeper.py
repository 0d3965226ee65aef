from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given, settings

from connector.book.keeper import BookKeeper, KeeperAction, KeeperResult
from connector.book.orderbook import OrderBook
from connector.book.sequencing import APPLY, BUFFER, Apply, Decision, Drop, Resync
from connector.book.view import BookView
from connector.model import (
    BookDelta,
    BookLevel,
    BookSnapshot,
    BookState,
    BookStatus,
    Market,
    Symbol,
)
from connector.model.levels import JsonLevels
from connector.venues.binance.sync import BinanceFuturesSync, BinanceSpotSync
from tests.strategies import BinanceScenario, binance_scenarios

SYM = Symbol.parse("BTC-USDT-SPOT")


def lv(price: str, qty: str) -> BookLevel:
    return BookLevel(Decimal(price), Decimal(qty))


def delta(
    first: int,
    last: int,
    bids: Sequence[BookLevel] = (),
    asks: Sequence[BookLevel] = (),
    checksum: int | None = None,
) -> BookDelta:
    return BookDelta(
        venue="binance",
        market=Market.SPOT,
        symbol=SYM,
        first_seq=first,
        seq=last,
        bids=tuple(bids),
        asks=tuple(asks),
        checksum=checksum,
    )


def snapshot(
    seq: int,
    bids: tuple[BookLevel, ...] = (BookLevel(Decimal(100), Decimal(1)),),
    asks: tuple[BookLevel, ...] = (BookLevel(Decimal(101), Decimal(1)),),
) -> BookSnapshot:
    return BookSnapshot(
        venue="binance", market=Market.SPOT, symbol=SYM, seq=seq, bids=bids, asks=asks
    )


def spot_keeper() -> BookKeeper:
    return BookKeeper("binance", Market.SPOT, SYM, BinanceSpotSync(), depth=None)


def synced_keeper() -> BookKeeper:
    keeper = spot_keeper()
    keeper.on_delta(delta(10, 11))
    result = keeper.on_snapshot(snapshot(10))
    assert result.update is not None and result.update.state.valid
    return keeper


def test_keeper_starts_syncing_and_asks_for_a_snapshot_once() -> None:
    keeper = spot_keeper()
    assert BookStatus.SYNCING == keeper.state.status
    first = keeper.on_delta(delta(5, 6))
    second = keeper.on_delta(delta(7, 8))
    assert KeeperResult(KeeperAction.FETCH, None) == first
    assert KeeperResult(KeeperAction.NOTHING, None) == second


def test_keeper_snapshot_applies_buffered_deltas_and_publishes_the_whole_book() -> None:
    keeper = spot_keeper()
    keeper.on_delta(delta(5, 9, bids=[lv("99", "5")]))  # older than the snapshot: dropped
    keeper.on_delta(delta(10, 12, bids=[lv("100", "2")]))
    keeper.on_delta(delta(13, 13, asks=[lv("102", "3")]))
    result = keeper.on_snapshot(snapshot(10))
    assert KeeperAction.STATE == result.action  # valid now: publish and log, fetch nothing
    update = result.update
    assert update is not None
    assert BookState.VALID == update.state
    assert update.snapshot
    assert 13 == update.seq
    assert (lv("100", "2"),) == update.bids
    assert (lv("101", "1"), lv("102", "3")) == update.asks
    assert lv("100", "2") == update.best_bid
    stats = keeper.statistics()
    assert (2, 1) == (stats.deltas_applied, stats.snapshots_applied)


@pytest.mark.parametrize("updates", [True, False])
def test_a_side_out_of_a_cut_snapshots_levels_resyncs_the_book(updates: bool) -> None:
    # A 2-level snapshot (limit 2) of a deeper book: below 99 nothing is known, so the
    # book is right only while a bid at or above 99 is left; a deeper bid a delta named
    # (98) is no proof that none lies between.
    keeper = BookKeeper(
        "binance", Market.SPOT, SYM, BinanceSpotSync(), depth=None, snapshot_limit=2,
        updates=updates,
    )  # fmt: skip
    keeper.on_delta(delta(10, 11))
    cut = snapshot(10, bids=(lv("100", "1"), lv("99", "1")), asks=(lv("101", "1"),))
    assert keeper.on_snapshot(cut).update is not None
    assert keeper.state.valid
    keeper.on_delta(delta(12, 12, bids=[lv("100", "0"), lv("98", "5")]))  # 99 is left
    assert keeper.state.valid
    result = keeper.on_delta(delta(13, 13, bids=[lv("99", "0")]))  # none at or above 99

    assert KeeperAction.RESYNC == result.action
    assert keeper.state.reason is not None and keeper.state.reason.startswith(
        "depth exhausted: no bid left at or above the snapshot's last level 99"
    )
    assert 1 == keeper.statistics().depth_exhausted


@pytest.mark.parametrize("limit", [2, 1000])
def test_levels_below_a_cut_snapshots_last_level_are_not_read(limit: int) -> None:
    # Binance: "you won't learn the quantities for the levels outside of the initial
    # snapshot unless they change". A bid a delta named below the snapshot's last one
    # is no proof that nothing lies between them: reads stop at the last one (a deep
    # snapshot's too, where the book stays valid past it), through the public view too.
    keeper = BookKeeper(
        "binance", Market.SPOT, SYM, BinanceSpotSync(), depth=None, snapshot_limit=limit
    )
    keeper.on_delta(delta(10, 11))
    top = [lv(str(5000 - i), "1") for i in range(limit)]
    asks = [lv(str(5001 + i), "1") for i in range(limit)]
    keeper.on_snapshot(snapshot(10, bids=top, asks=asks))
    last_bid, last_ask = top[-1].price, asks[-1].price
    named = [lv(str(last_bid - 1), "5")]
    keeper.on_delta(delta(12, 12, bids=named, asks=[lv(str(last_ask + 1), "5")]))

    assert keeper.state.valid
    assert top == keeper.bids() == BookView(keeper).bids()
    assert asks == keeper.asks(limit + 1) == BookView(keeper).asks()
    assert [*top, *named] == keeper.book.bids()  # held, not shown


def test_a_side_the_snapshot_did_not_fill_to_its_limit_is_the_whole_side() -> None:
    # One ask of a limit of 2: that is every ask; the venue's next ask is known to it.
    keeper = BookKeeper(
        "binance", Market.SPOT, SYM, BinanceSpotSync(), depth=None, snapshot_limit=2
    )
    keeper.on_delta(delta(10, 11))
    keeper.on_snapshot(snapshot(10, bids=(lv("100", "1"), lv("99", "1"))))
    keeper.on_delta(delta(12, 12, asks=[lv("101", "0"), lv("105", "2")]))

    assert keeper.state.valid
    assert lv("105", "2") == keeper.book.top()[1]


def test_keeper_delta_update_carries_the_changed_levels_and_top_of_book() -> None:
    keeper = synced_keeper()
    result = keeper.on_delta(delta(12, 12, bids=[lv("100.5", "4")], asks=[lv("101", "0")]))
    update = result.update
    assert update is not None
    assert (lv("100.5", "4"),) == update.bids
    assert (lv("101", "0"),) == update.asks
    assert lv("100.5", "4") == update.best_bid
    assert update.best_ask is None
    assert BookState.VALID == update.state
    assert not update.snapshot
    assert KeeperAction.PUBLISH == result.action


def test_keeper_gap_invalidates_clears_and_asks_for_a_snapshot() -> None:
    keeper = synced_keeper()
    result = keeper.on_delta(delta(14, 15))  # expected U=12
    assert KeeperAction.RESYNC == result.action
    assert result.update is not None
    assert BookStatus.INVALID == result.update.state.status
    assert "expected U=12" in (result.update.state.reason or "")
    assert (0, 0) == (keeper.book.bid_count, keeper.book.ask_count)
    assert 1 == keeper.statistics().gaps
    # The next delta moves the book to syncing and is published as such.
    following = keeper.on_delta(delta(16, 16))
    assert KeeperAction.STATE == following.action  # published and logged; no second fetch
    assert following.update is not None
    assert BookStatus.SYNCING == following.update.state.status
    # The delta that broke the chain was kept for the next snapshot.
    recovered = keeper.on_snapshot(snapshot(13))
    assert recovered.update is not None and recovered.update.state.valid
    assert 16 == keeper.seq


def reordering_keeper(*, updates: bool = True) -> BookKeeper:
    """A valid spot book at update id 11 (bid 100 x 1, ask 101 x 1) that holds gaps."""
    sync = BinanceSpotSync()
    keeper = BookKeeper(
        "binance", Market.SPOT, SYM, sync, depth=None, updates=updates, reorder=True
    )
    keeper.on_delta(delta(10, 11))
    keeper.on_snapshot(snapshot(10))
    return keeper


def test_keeper_holds_deltas_ahead_of_the_book_until_the_missing_one_comes() -> None:
    keeper = reordering_keeper()
    held = keeper.on_delta(delta(13, 13, bids=[lv("99", "2")]))
    assert KeeperResult(KeeperAction.HOLD, None) == held  # the session starts the window
    later = keeper.on_delta(delta(14, 14, asks=[lv("102", "5")]))
    assert KeeperResult(KeeperAction.NOTHING, None) == later  # the same gap: one window
    assert (True, 11, [lv("100", "1")]) == (keeper.state.valid, keeper.seq, keeper.bids())
    result = keeper.on_delta(delta(12, 12, bids=[lv("100", "3")]))
    update = result.update
    assert KeeperAction.PUBLISH == result.action
    assert update is not None and update.state.valid and update.snapshot
    assert (14, 14) == (update.seq, keeper.seq)
    assert (lv("100", "3"), lv("99", "2")) == update.bids
    assert (lv("101", "1"), lv("102", "5")) == update.asks
    stats = keeper.statistics()
    assert (2, 1, 0, 1) == (stats.held, stats.gaps_filled, stats.gaps, stats.resyncs)
    # The window's end finds the gap filled.
    assert KeeperResult(KeeperAction.NOTHING, None) == keeper.expire_held()
    assert keeper.state.valid


def test_keeper_resyncs_naming_the_gap_when_the_reorder_window_ends_unfilled() -> None:
    keeper = reordering_keeper()
    assert KeeperAction.HOLD == keeper.on_delta(delta(13, 13)).action
    result = keeper.expire_held()
    assert KeeperAction.RESYNC == result.action
    assert result.update is not None
    assert BookState.invalid("gap: expected U=12, got U=13 (u=13)") == result.update.state
    stats = keeper.statistics()
    assert (1, 0, 2) == (stats.gaps, stats.gaps_filled, stats.resyncs)
    assert KeeperResult(KeeperAction.NOTHING, None) == keeper.expire_held()


def test_keeper_checks_every_held_delta_it_applies() -> None:
    keeper = reordering_keeper()
    keeper.on_delta(delta(13, 13, bids=[lv("101.5", "1")]))  # crosses the book
    result = keeper.on_delta(delta(12, 12))
    assert KeeperAction.RESYNC == result.action
    assert result.update is not None
    assert "crossed" in (result.update.state.reason or "")
    assert 1 == keeper.statistics().crossed
    assert KeeperResult(KeeperAction.NOTHING, None) == keeper.expire_held()


def test_keeper_without_updates_applies_held_deltas_too() -> None:
    keeper = reordering_keeper(updates=False)
    keeper.on_delta(delta(13, 13, bids=[lv("99", "2")]))
    assert KeeperResult(KeeperAction.PUBLISH, None) == keeper.on_delta(delta(12, 12))
    assert (13, [lv("100", "1"), lv("99", "2")]) == (keeper.seq, keeper.bids())


def test_keeper_crossed_book_is_invalid_and_never_published_valid() -> None:
    keeper = synced_keeper()
    result = keeper.on_delta(delta(12, 12, bids=[lv("101.5", "1")]))
    assert result.update is not None
    assert BookStatus.INVALID == result.update.state.status
    assert "crossed" in (result.update.state.reason or "")
    assert KeeperAction.RESYNC == result.action
    assert 1 == keeper.statistics().crossed
    assert not keeper.state.valid


def test_keeper_crossed_snapshot_is_invalid() -> None:
    keeper = spot_keeper()
    result = keeper.on_snapshot(snapshot(10, bids=(lv("102", "1"),)))
    assert result.update is not None
    assert BookStatus.INVALID == result.update.state.status
    assert KeeperAction.RESYNC == result.action


def test_keeper_duplicate_delta_is_dropped_without_an_update() -> None:
    keeper = synced_keeper()
    keeper.on_delta(delta(12, 12, bids=[lv("100", "3")]))
    result = keeper.on_delta(delta(12, 12, bids=[lv("100", "3")]))
    assert KeeperResult(KeeperAction.NOTHING, None) == result
    assert keeper.state.valid
    assert 1 == keeper.statistics().dropped


def test_keeper_invalidate_publishes_the_reason_and_asks_for_a_snapshot() -> None:
    keeper = synced_keeper()
    result = keeper.invalidate("reconnect")
    assert result.update is not None
    assert BookState.invalid("reconnect") == result.update.state
    assert KeeperAction.RESYNC == result.action
    assert BookState.invalid("reconnect") == keeper.statistics().state


class ChecksumSequencer:
    """A stream-snapshot sequencer whose checksum fails on checksum 666."""

    needs_rest_snapshot = False

    def __init__(self) -> None:
        self.loaded = False

    def on_snapshot(self, snapshot: BookSnapshot) -> Decision:
        self.loaded = True
        return APPLY

    def on_delta(self, delta: BookDelta) -> Decision:
        return APPLY if self.loaded else BUFFER

    def drain(self) -> list[BookDelta]:
        return []

    def after_apply(self, book: OrderBook, update: BookSnapshot | BookDelta) -> Decision:
        return Resync("checksum mismatch") if update.checksum == 666 else APPLY

    def reset(self) -> None:
        self.loaded = False

    def statistics(self) -> dict[str, bool]:
        return {"loaded": self.loaded}


def test_keeper_checksum_failure_invalidates_and_asks_for_a_resubscribe() -> None:
    keeper = BookKeeper("okx", Market.SPOT, SYM, ChecksumSequencer(), depth=400)
    assert KeeperAction.NOTHING == keeper.on_delta(delta(1, 1)).action  # stream snapshots: no REST
    keeper.on_snapshot(snapshot(1))
    ok = keeper.on_delta(delta(2, 2, bids=[lv("100", "2")], checksum=123))
    assert ok.update is not None and ok.update.state.valid
    bad = keeper.on_delta(delta(3, 3, bids=[lv("100", "3")], checksum=666))
    assert bad.update is not None
    assert BookState.invalid("checksum mismatch") == bad.update.state
    assert KeeperAction.RESYNC == bad.action
    stats = keeper.statistics()
    assert (2, 1) == (stats.checksums_checked, stats.checksums_failed)


def test_keeper_sequencer_that_applies_before_a_snapshot_is_treated_as_a_gap() -> None:
    class Eager(ChecksumSequencer):
        def on_delta(self, delta: BookDelta) -> Decision:
            return Apply()

    keeper = BookKeeper("x", Market.SPOT, SYM, Eager(), depth=None)
    result = keeper.on_delta(delta(1, 1))
    assert result.update is not None
    assert BookStatus.INVALID == result.update.state.status


def test_keeper_moving_to_syncing_when_it_must_fetch_says_sync() -> None:
    class DropsSnapshots(ChecksumSequencer):
        needs_rest_snapshot = True

        def on_snapshot(self, snapshot: BookSnapshot) -> Decision:
            return Drop("not newer")

    keeper = BookKeeper("x", Market.SPOT, SYM, DropsSnapshots(), depth=None)
    assert KeeperAction.RESYNC == keeper.invalidate("reconnect").action
    assert KeeperResult(KeeperAction.NOTHING, None) == keeper.on_snapshot(snapshot(1))
    result = keeper.on_delta(delta(2, 2))
    assert KeeperAction.SYNC == result.action  # publish syncing, log it, and fetch again
    assert result.update is not None
    assert BookStatus.SYNCING == result.update.state.status


def test_keeper_update_carries_the_top_the_book_shows() -> None:
    keeper = synced_keeper()
    for d in (delta(12, 12, bids=[lv("100.7", "2")]), delta(13, 13, asks=[lv("100.9", "1")])):
        result = keeper.on_delta(d)
        assert result.update is not None
        assert (keeper.book.best_bid(), keeper.book.best_ask()) == (
            result.update.best_bid,
            result.update.best_ask,
        )


def run_scenario(keeper: BookKeeper, scenario: BinanceScenario) -> None:
    """Feed a scenario, checking that a valid book always equals the true book."""

    def check(result: KeeperResult) -> None:
        update = result.update
        if update is not None and update.state.valid:
            assert keeper.state.valid
        if keeper.state.valid:
            truth = scenario.books[keeper.seq]
            assert truth.bid_levels() == keeper.book.bids()
            assert truth.ask_levels() == keeper.book.asks()

    for i, d in enumerate(scenario.delivered):
        if i == scenario.snapshot_at:
            check(keeper.on_snapshot(scenario.snapshot))
        check(keeper.on_delta(d))
    if scenario.snapshot_at == len(scenario.delivered):
        check(keeper.on_snapshot(scenario.snapshot))


@settings(max_examples=200, deadline=None)
@given(binance_scenarios(market=Market.SPOT))
def test_keeper_with_spot_rule_is_never_valid_and_wrong(scenario: BinanceScenario) -> None:
    keeper = BookKeeper("binance", Market.SPOT, SYM, BinanceSpotSync(), depth=None)
    run_scenario(keeper, scenario)
    assert 0 == keeper.statistics().crossed


@settings(max_examples=200, deadline=None)
@given(binance_scenarios(market=Market.LINEAR))
def test_keeper_with_futures_rule_is_never_valid_and_wrong(scenario: BinanceScenario) -> None:
    keeper = BookKeeper("binance", Market.LINEAR, SYM, BinanceFuturesSync(), depth=None)
    run_scenario(keeper, scenario)
    assert 0 == keeper.statistics().crossed


@settings(max_examples=100, deadline=None)
@given(binance_scenarios(market=Market.SPOT, perturb=False))
def test_keeper_with_spot_rule_syncs_every_clean_stream(scenario: BinanceScenario) -> None:
    keeper = BookKeeper("binance", Market.SPOT, SYM, BinanceSpotSync(), depth=None)
    run_scenario(keeper, scenario)
    assert keeper.state.valid
    assert max(scenario.books) == keeper.seq


@settings(max_examples=100, deadline=None)
@given(binance_scenarios(market=Market.LINEAR, perturb=False))
def test_keeper_with_futures_rule_syncs_every_clean_stream(scenario: BinanceScenario) -> None:
    keeper = BookKeeper("binance", Market.LINEAR, SYM, BinanceFuturesSync(), depth=None)
    run_scenario(keeper, scenario)
    assert keeper.state.valid
    assert max(scenario.books) == keeper.seq


# -- a keeper whose delta updates nobody reads (``updates=False``) ----------------


def quiet_keeper() -> BookKeeper:
    keeper = BookKeeper("binance", Market.SPOT, SYM, BinanceSpotSync(), depth=None, updates=False)
    keeper.on_delta(delta(10, 11))
    result = keeper.on_snapshot(snapshot(10))
    assert result.update is not None and result.update.state.valid
    return keeper


def test_a_quiet_keeper_applies_deltas_and_publishes_no_update() -> None:
    keeper = quiet_keeper()
    result = keeper.on_delta(delta(12, 12, bids=[lv("100.5", "2")]))
    assert KeeperResult(KeeperAction.PUBLISH, None) == result
    assert lv("100.5", "2") == keeper.book.best_bid()
    assert (12, 2) == (keeper.seq, keeper.statistics().deltas_applied)


def test_a_quiet_keeper_still_finds_a_crossed_book() -> None:
    keeper = quiet_keeper()
    result = keeper.on_delta(delta(12, 12, bids=[lv("101.5", "1")]))
    assert KeeperAction.RESYNC == result.action
    assert result.update is not None
    assert "crossed book: best bid 101.5 >= best ask 101" == result.update.state.reason
    assert 1 == keeper.statistics().crossed
    assert not keeper.state.valid


def test_a_quiet_keeper_still_refuses_malformed_levels() -> None:
    keeper = quiet_keeper()
    bad = JsonLevels(b'[["100.5","-1"]]')
    result = keeper.on_delta(
        BookDelta(
            venue="binance",
            market=Market.SPOT,
            symbol=SYM,
            first_seq=12,
            seq=12,
            bids=bad,
            asks=JsonLevels(b"[]"),
        )
    )
    assert KeeperAction.RESYNC == result.action
    assert 1 == keeper.statistics().malformed
    assert not keeper.state.valid


def test_a_quiet_keeper_still_checks_checksums() -> None:
    keeper = BookKeeper("okx", Market.SPOT, SYM, ChecksumSequencer(), depth=400, updates=False)
    keeper.on_delta(delta(1, 1))
    keeper.on_snapshot(snapshot(1))
    assert KeeperResult(KeeperAction.PUBLISH, None) == keeper.on_delta(delta(2, 2, checksum=123))
    bad = keeper.on_delta(delta(3, 3, bids=[lv("100", "3")], checksum=666))
    assert KeeperAction.RESYNC == bad.action
    assert bad.update is not None
    assert BookState.invalid("checksum mismatch") == bad.update.state
    stats = keeper.statistics()
    assert (2, 1) == (stats.checksums_checked, stats.checksums_failed)


@settings(max_examples=200, deadline=None)
@given(binance_scenarios(market=Market.LINEAR))
def test_a_quiet_keeper_decides_as_a_publishing_one(scenario: BinanceScenario) -> None:
    """Same input, same actions, states, counters and books; only the delta updates differ."""
    keepers = [
        BookKeeper("binance", Market.LINEAR, SYM, BinanceFuturesSync(), depth=None, updates=u)
        for u in (True, False)
    ]

    def feed(inputs: Sequence[BookDelta | BookSnapshot]) -> None:
        for item in inputs:
            loud, quiet = (
                k.on_snapshot(item) if isinstance(item, BookSnapshot) else k.on_delta(item)
                for k in keepers
            )
            assert loud.action == quiet.action
            if quiet.update is not None or loud.action is not KeeperAction.PUBLISH:
                assert loud.update == quiet.update
            assert keepers[0].statistics() == keepers[1].statistics()
            assert keepers[0].seq == keepers[1].seq
            assert keepers[0].book.bids() == keepers[1].book.bids()
            assert keepers[0].book.asks() == keepers[1].book.asks()

    delivered = list(scenario.delivered)
    feed(
        [*delivered[: scenario.snapshot_at], scenario.snapshot, *delivered[scenario.snapshot_at :]]
    )


def test_a_keeper_with_a_contract_unit_publishes_base_units_and_keeps_the_venue_text() -> None:
    # OKX linear swaps count contracts (BTC-USDT-SWAP: 0.01 BTC each).
    unit = Decimal("0.01")
    keeper = BookKeeper("binance", Market.SPOT, SYM, BinanceSpotSync(), depth=None, unit=unit)
    keeper.on_delta(delta(10, 11))
    loaded = keeper.on_snapshot(snapshot(10, bids=(lv("100", "250"),), asks=(lv("101", "7"),)))
    assert loaded.update is not None
    assert (lv("100", "2.50"),) == loaded.update.bids
    assert lv("101", "0.07") == loaded.update.best_ask

    result = keeper.on_delta(
        delta(12, 12, bids=JsonLevels('[["100.5","40"]]'), asks=JsonLevels('[["101","0"]]'))
    )
    update = result.update
    assert update is not None
    assert (lv("100.5", "0.40"),) == tuple(update.bids)
    assert (lv("101", "0"),) == tuple(update.asks)
    assert lv("100.5", "0.40") == update.best_bid
    assert [("100.5", "40"), ("100", "250")] == [tuple(t) for t in keeper.book.bid_texts()]
    assert Decimal("2.50") == keeper.book.bid_qty(Decimal(100))
