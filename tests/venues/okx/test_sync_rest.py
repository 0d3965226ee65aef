"""OKX books without a pushed snapshot: updates buffered and aligned to a REST snapshot.

OKX's procedure (changelog "Delist initial snapshot and checksum field in order
book channels", 2026): buffer the stream, take ``GET /api/v5/market/books``
(``seqId``), drop buffered updates with ``seqId <=`` the snapshot's, the first
applied must satisfy ``prevSeqId <= snapshot seqId < seqId``, then each
``prevSeqId`` equals the previous ``seqId``.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.book.keeper import BookKeeper, KeeperAction
from connector.book.orderbook import OrderBook
from connector.book.sequencing import APPLY, BUFFER, Apply, Drop, Hold, Resync
from connector.model import BookDelta, BookSnapshot, BookStatus, Market, Symbol
from connector.model.levels import levels_from_raw
from connector.venues.okx import OkxSync

SYM = Symbol.parse("BTC-USDT-SPOT")
Raw = list[tuple[str, str]]
BIDS: Raw = [("100.0", "1"), ("99.5", "2")]
ASKS: Raw = [("100.5", "3"), ("101", "0.10")]


def rest(seq: int, bids: Raw = BIDS, asks: Raw = ASKS) -> BookSnapshot:
    """A REST ``/api/v5/market/books`` snapshot: ``seqId``, no ``prevSeqId``."""
    return BookSnapshot(
        venue="okx",
        market=Market.SPOT,
        symbol=SYM,
        seq=seq,
        bids=levels_from_raw(bids),
        asks=levels_from_raw(asks),
    )


def pushed(seq: int) -> BookSnapshot:
    """A snapshot pushed on the socket (``prevSeqId == -1``)."""
    return attrs.evolve(rest(seq), prev_seq=-1)


def update(prev: int, seq: int, bids: Raw | None = None, asks: Raw | None = None) -> BookDelta:
    return BookDelta(
        venue="okx",
        market=Market.SPOT,
        symbol=SYM,
        first_seq=seq,
        seq=seq,
        prev_seq=prev,
        bids=levels_from_raw(bids or []),
        asks=levels_from_raw(asks or []),
    )


def seqs(deltas: list[BookDelta]) -> list[tuple[int | None, int]]:
    return [(d.prev_seq, d.seq) for d in deltas]


# -- hand-written cases, one per rule --------------------------------------------


def test_okx_sync_buffers_updates_until_a_snapshot_and_asks_for_a_rest_one() -> None:
    sync = OkxSync()
    assert sync.needs_rest_snapshot is True
    assert BUFFER == sync.on_delta(update(10, 15))
    assert BUFFER == sync.on_delta(update(15, 16))
    assert 2 == sync.buffered
    assert sync.last_seq is None


def test_okx_sync_drops_buffered_updates_not_newer_than_the_rest_snapshot() -> None:
    sync = OkxSync()
    for prev, seq in [(5, 10), (10, 15), (15, 16), (16, 20)]:
        sync.on_delta(update(prev, seq))
    assert APPLY == sync.on_snapshot(rest(16))
    assert [(16, 20)] == seqs(sync.drain())
    assert (20, 3, 1, 0) == (
        sync.last_seq,
        sync.statistics().dropped,
        sync.statistics().applied,
        sync.buffered,
    )


def test_okx_sync_first_update_may_straddle_a_rest_snapshot_taken_inside_it() -> None:
    # The REST book sits at 13, between two pushes (10 -> 15): 15 applies on it.
    sync = OkxSync()
    for prev, seq in [(5, 10), (10, 15), (15, 16)]:
        sync.on_delta(update(prev, seq))
    assert APPLY == sync.on_snapshot(rest(13))
    assert [(10, 15), (15, 16)] == seqs(sync.drain())
    assert 16 == sync.last_seq


def test_okx_sync_drops_a_rest_snapshot_older_than_the_buffered_stream_and_keeps_it() -> None:
    sync = OkxSync()
    for prev, seq in [(20, 25), (25, 30)]:
        sync.on_delta(update(prev, seq))
    decision = sync.on_snapshot(rest(18))
    assert isinstance(decision, Drop)
    assert "older than the stream" in decision.reason
    assert (2, 1, None) == (sync.buffered, sync.statistics().stale_snapshots, sync.last_seq)
    # Buffering goes on; a fresh snapshot aligns the same buffer.
    assert BUFFER == sync.on_delta(update(30, 31))
    assert APPLY == sync.on_snapshot(rest(27))
    assert [(25, 30), (30, 31)] == seqs(sync.drain())


def test_okx_sync_after_a_rest_snapshot_drops_older_updates_and_applies_the_straddling_one() -> (
    None
):
    sync = OkxSync()
    assert APPLY == sync.on_snapshot(rest(50))
    assert [] == sync.drain()
    assert isinstance(sync.on_delta(update(40, 45)), Drop)
    assert isinstance(sync.on_delta(update(45, 50)), Drop)
    assert APPLY == sync.on_delta(update(48, 55))
    assert APPLY == sync.on_delta(update(55, 56))
    assert isinstance(sync.on_delta(update(57, 58)), Hold)
    gap = sync.expire()
    assert isinstance(gap, Resync)
    assert "expected prevSeqId=56" in gap.reason


def test_okx_sync_resyncs_when_the_live_stream_is_newer_than_the_rest_snapshot() -> None:
    sync = OkxSync()
    sync.on_snapshot(rest(50))
    # Ahead of the snapshot: held while the updates 50 -> 60 may still come, then given up.
    assert isinstance(sync.on_delta(update(60, 65)), Hold)
    decision = sync.expire()
    assert isinstance(decision, Resync)
    assert "older than the stream" in decision.reason


def test_okx_sync_no_change_update_at_the_snapshot_seq_id_aligns_the_book() -> None:
    sync = OkxSync()
    sync.on_snapshot(rest(50))
    assert isinstance(sync.on_delta(update(50, 50)), Drop)
    # Aligned: from now on updates must chain exactly.
    assert isinstance(sync.on_delta(update(49, 53)), Resync)


def test_okx_sync_maintenance_reset_chaining_to_the_snapshot_applies() -> None:
    sync = OkxSync()
    sync.on_delta(update(1000, 3))
    sync.on_delta(update(3, 4))
    assert APPLY == sync.on_snapshot(rest(1000))
    assert [(1000, 3), (3, 4)] == seqs(sync.drain())
    assert 4 == sync.last_seq


def test_okx_sync_maintenance_reset_that_does_not_chain_while_aligning_resyncs() -> None:
    sync = OkxSync()
    sync.on_delta(update(900, 3))
    decision = sync.on_snapshot(rest(500))
    assert isinstance(decision, Resync)
    assert "sequence reset" in decision.reason
    assert (0, None) == (sync.buffered, sync.last_seq)


def test_okx_sync_duplicates_in_the_buffer_are_dropped() -> None:
    sync = OkxSync()
    for prev, seq in [(10, 15), (10, 15), (15, 16), (15, 16)]:
        sync.on_delta(update(prev, seq))
    assert APPLY == sync.on_snapshot(rest(12))
    assert [(10, 15), (15, 16)] == seqs(sync.drain())


def test_okx_sync_gap_in_the_buffer_resyncs_and_forgets_everything() -> None:
    sync = OkxSync()
    for prev, seq in [(10, 15), (16, 20)]:
        sync.on_delta(update(prev, seq))
    decision = sync.on_snapshot(rest(12))
    assert isinstance(decision, Resync)
    assert "expected prevSeqId=15" in decision.reason
    assert (0, None, []) == (sync.buffered, sync.last_seq, sync.drain())


def test_okx_sync_bounded_buffer_resyncs_on_overflow_and_empties() -> None:
    sync = OkxSync(buffer_limit=3)
    for n in range(3):
        assert BUFFER == sync.on_delta(update(n, n + 1))
    decision = sync.on_delta(update(3, 4))
    assert isinstance(decision, Resync)
    assert "buffer overflow" in decision.reason
    assert (0, 1) == (sync.buffered, sync.statistics().overflows)
    with pytest.raises(ValueError, match="positive"):
        OkxSync(buffer_limit=0)


def test_okx_sync_still_accepts_a_pushed_snapshot_and_chains_exactly_after_it() -> None:
    sync = OkxSync()
    sync.on_delta(update(7, 9))  # left over from before the (re)subscribe
    assert APPLY == sync.on_snapshot(pushed(10))
    assert [] == sync.drain()
    assert APPLY == sync.on_delta(update(10, 12))
    # After a pushed snapshot no straddling: the stream continues from it.
    assert isinstance(sync.on_delta(update(11, 14)), Resync)


def test_okx_sync_pushed_snapshot_replaces_a_loaded_book_but_an_old_rest_one_is_dropped() -> None:
    sync = OkxSync()
    sync.on_snapshot(rest(20))
    sync.on_delta(update(18, 25))
    assert isinstance(sync.on_snapshot(rest(22)), Drop)
    assert 25 == sync.last_seq
    assert APPLY == sync.on_snapshot(rest(30))
    assert 30 == sync.last_seq
    assert APPLY == sync.on_snapshot(pushed(5))
    assert 5 == sync.last_seq


def test_okx_sync_rest_snapshot_at_seq_id_zero_is_unsequenced_and_resyncs() -> None:
    sync = OkxSync()
    assert APPLY == sync.on_snapshot(rest(0))
    assert sync.last_seq is None
    assert isinstance(sync.on_delta(update(0, 4)), Resync)


_FETCHES = (KeeperAction.FETCH, KeeperAction.SYNC, KeeperAction.RESYNC)


def test_okx_keeper_asks_once_for_a_rest_snapshot_and_is_valid_with_the_buffered_updates() -> None:
    keeper = BookKeeper("okx", Market.SPOT, SYM, OkxSync(), depth=400)
    first = keeper.on_delta(update(10, 15, [("99.5", "4")]))
    second = keeper.on_delta(update(15, 16, [], [("101", "0")]))
    assert (KeeperAction.FETCH, KeeperAction.NOTHING) == (first.action, second.action)
    assert BookStatus.SYNCING is keeper.state.status

    result = keeper.on_snapshot(rest(12))

    assert keeper.state.valid and result.update is not None
    assert 16 == keeper.seq
    assert [("100.0", "1"), ("99.5", "4")] == [
        (format(lv.price, "f"), format(lv.qty, "f")) for lv in keeper.book.bids()
    ]
    assert [("100.5", "3")] == [
        (format(lv.price, "f"), format(lv.qty, "f")) for lv in keeper.book.asks()
    ]


def test_okx_keeper_asks_again_after_a_stale_rest_snapshot() -> None:
    keeper = BookKeeper("okx", Market.SPOT, SYM, OkxSync(), depth=400)
    assert keeper.on_delta(update(20, 25)).action in _FETCHES
    stale = keeper.on_snapshot(rest(18))
    assert KeeperAction.NOTHING is stale.action
    assert 1 == keeper.statistics().dropped
    assert not keeper.state.valid
    assert keeper.on_delta(update(25, 26)).action in _FETCHES
    keeper.on_snapshot(rest(25))
    assert (True, 26) == (keeper.state.valid, keeper.seq)


# -- property: REST alignment against a reference model ------------------------------

Levels = dict[str, str]
_BID_PRICES = [f"{p}.5" for p in range(1, 40)]
_ASK_PRICES = [f"{p}.5" for p in range(101, 140)]
_QTYS = ["0", "1", "2.5", "0.10", "3"]


@attrs.frozen
class Stream:
    """The engine's true books by ``seqId`` and the ``books`` pushes over them.

    Attributes:
        books: ``seqId -> (bids, asks)`` after every engine change (and at the start).
        engine: Every engine ``seqId``, in order (REST snapshots may be at any).
        pushes: ``(prevSeqId, seqId, bids, asks)``: each push carries the final value
            of every level changed since the previous push; some are no-change
            heartbeats (``seqId == prevSeqId``).
    """

    books: dict[int, tuple[Levels, Levels]]
    engine: list[int]
    pushes: list[tuple[int, int, Raw, Raw]]


@st.composite
def streams(draw: st.DrawFn) -> Stream:
    # From 1: a snapshot at seqId 0 reads as one without a sequence (2022 frames);
    # see test_okx_sync_rest_snapshot_at_seq_id_zero_is_unsequenced_and_resyncs.
    seq = draw(st.integers(min_value=1, max_value=10**9))
    bids: Levels = {}
    asks: Levels = {}
    for price in draw(st.lists(st.sampled_from(_BID_PRICES), max_size=6, unique=True)):
        bids[price] = draw(st.sampled_from(_QTYS[1:]))
    for price in draw(st.lists(st.sampled_from(_ASK_PRICES), max_size=6, unique=True)):
        asks[price] = draw(st.sampled_from(_QTYS[1:]))
    books = {seq: (dict(bids), dict(asks))}
    engine = [seq]
    pushes: list[tuple[int, int, Raw, Raw]] = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        if draw(st.integers(0, 7)) == 0:
            pushes.append((seq, seq, [], []))
            continue
        prev = seq
        changed_bids: Levels = {}
        changed_asks: Levels = {}
        for _ in range(draw(st.integers(min_value=1, max_value=3))):  # engine changes per push
            side, changed, prices = draw(
                st.sampled_from(
                    [(bids, changed_bids, _BID_PRICES), (asks, changed_asks, _ASK_PRICES)]
                )
            )
            price = draw(st.sampled_from(prices))
            qty = draw(st.sampled_from(_QTYS))
            if qty == "0":
                side.pop(price, None)
            else:
                side[price] = qty
            changed[price] = qty
            seq += draw(st.integers(min_value=1, max_value=3))
            books[seq] = (dict(bids), dict(asks))
            engine.append(seq)
        pushes.append((prev, seq, sorted(changed_bids.items()), sorted(changed_asks.items())))
    return Stream(books=books, engine=engine, pushes=pushes)


_FAULTS = st.lists(
    st.tuples(st.sampled_from(["drop", "duplicate", "swap", "late_duplicate"]), st.integers(0, 40)),
    max_size=4,
)
_SNAPSHOTS = st.lists(
    st.tuples(st.integers(0, 40), st.floats(min_value=0.0, max_value=1.0)), min_size=1, max_size=4
)
"""REST snapshots: ``(arrives after this many delivered pushes, engine time 0..1)``."""


def _perturb(n: int, faults: list[tuple[str, int]]) -> list[int]:
    order = list(range(n))
    for fault, at in faults:
        if not order:
            break
        i = at % len(order)
        if fault == "drop":
            del order[i]
        elif fault == "duplicate":
            order.insert(i + 1, order[i])
        elif fault == "late_duplicate":
            order.insert(min(i + 3, len(order)), order[i])
        elif i + 1 < len(order):
            order[i], order[i + 1] = order[i + 1], order[i]
    return order


def _levels(book: OrderBook) -> tuple[Levels, Levels]:
    return (
        {format(lv.price, "f"): format(lv.qty, "f") for lv in book.bids()},
        {format(lv.price, "f"): format(lv.qty, "f") for lv in book.asks()},
    )


def _run(
    stream: Stream, order: list[int], snapshots: list[tuple[int, float]]
) -> tuple[OkxSync, OrderBook, bool]:
    """Feed the delivery as the keeper does; check the book at every in-sync step."""
    sync = OkxSync()
    book = OrderBook()
    in_sync = False
    arrivals = sorted(snapshots)
    steps: list[tuple[str, int | float]] = []
    for position in range(len(order) + 1):
        while arrivals and min(arrivals[0][0], len(order)) == position:
            steps.append(("rest", arrivals.pop(0)[1]))
        if position < len(order):
            steps.append(("push", order[position]))

    def fail() -> None:
        nonlocal in_sync
        in_sync = False
        sync.reset()
        book.clear()

    for kind, what in steps:
        if kind == "rest":
            at = stream.engine[min(int(what * len(stream.engine)), len(stream.engine) - 1)]
            bids, asks = stream.books[at]
            snapshot = rest(at, sorted(bids.items()), sorted(asks.items()))
            decision = sync.on_snapshot(snapshot)
            if isinstance(decision, Apply):
                book.load_snapshot(snapshot.bids, snapshot.asks)
                for delta in sync.drain():
                    assert delta.prev_seq is not None
                    book.apply(delta.bids, delta.asks)
                in_sync = True
            elif isinstance(decision, Resync):
                fail()
        else:
            prev, seq, bids_raw, asks_raw = stream.pushes[int(what)]
            delta = update(prev, seq, bids_raw, asks_raw)
            decision = sync.on_delta(delta)
            if isinstance(decision, Apply):
                assert in_sync
                book.apply(delta.bids, delta.asks)
                for held in sync.drain():  # held ones that follow now, as the keeper does
                    book.apply(held.bids, held.asks)
            elif isinstance(decision, Resync):
                fail()
                sync.on_delta(delta)  # offered again, as the keeper does
        if in_sync:
            last = sync.last_seq
            assert last is not None
            assert stream.books[last] == _levels(book)
    return sync, book, in_sync


@settings(max_examples=300, deadline=None)
@given(streams(), _FAULTS, _SNAPSHOTS)
def test_okx_rest_alignment_is_harmless_or_detected_for_any_fault_and_snapshot_time(
    stream: Stream, faults: list[tuple[str, int]], snapshots: list[tuple[int, float]]
) -> None:
    _run(stream, _perturb(len(stream.pushes), faults), snapshots)


@settings(max_examples=150, deadline=None)
@given(streams(), st.data())
def test_okx_rest_snapshot_not_older_than_the_buffer_syncs_a_clean_stream_to_its_end(
    stream: Stream, data: st.DataObject
) -> None:
    pushes = stream.pushes
    arrive = data.draw(st.integers(min_value=1, max_value=len(pushes)), label="arrive")
    # Taken at or after the first buffered push started (else it is stale and refetched).
    first = stream.engine.index(pushes[0][0])
    at = data.draw(st.integers(min_value=first, max_value=len(stream.engine) - 1), label="at")
    when = (at + 0.5) / len(stream.engine)

    sync, book, in_sync = _run(stream, list(range(len(pushes))), [(arrive, when)])

    assert in_sync
    assert max(pushes[-1][1], stream.engine[at]) == sync.last_seq
    assert stream.books[sync.last_seq] == _levels(book)
