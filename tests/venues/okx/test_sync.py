from __future__ import annotations

import collections
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.book.keeper import BookKeeper, KeeperAction
from connector.book.orderbook import OrderBook
from connector.book.sequencing import APPLY, BUFFER, Apply, Drop, Hold, Resync
from connector.model import BookDelta, BookSnapshot, BookStatus, Market, Symbol
from connector.model.levels import levels_from_raw
from connector.venues.okx import OkxSync, okx_checksum
from tests.venues.okx.captures import ws_events

SYM = Symbol.parse("BTC-USDT-SPOT")
Raw = list[tuple[str, str]]


def snap(seq: int | None, bids: Raw, asks: Raw, checksum: int | None = None) -> BookSnapshot:
    return BookSnapshot(
        venue="okx",
        market=Market.SPOT,
        symbol=SYM,
        seq=0 if seq is None else seq,
        prev_seq=None if seq is None else -1,
        checksum=checksum,
        bids=levels_from_raw(bids),
        asks=levels_from_raw(asks),
    )


def update(
    prev: int | None, seq: int | None, bids: Raw, asks: Raw, checksum: int | None = None
) -> BookDelta:
    return BookDelta(
        venue="okx",
        market=Market.SPOT,
        symbol=SYM,
        first_seq=0 if seq is None else seq,
        seq=0 if seq is None else seq,
        prev_seq=prev,
        checksum=checksum,
        bids=levels_from_raw(bids),
        asks=levels_from_raw(asks),
    )


BIDS: Raw = [("100.0", "1"), ("99.5", "2")]
ASKS: Raw = [("100.5", "3"), ("101", "0.10")]


def _book(bids: Raw, asks: Raw) -> OrderBook:
    book = OrderBook()
    book.load_snapshot(levels_from_raw(bids), levels_from_raw(asks))
    return book


def test_okx_sync_chains_updates_by_prev_seq_id() -> None:
    sync = OkxSync()
    assert APPLY == sync.on_snapshot(snap(10, BIDS, ASKS))
    assert APPLY == sync.on_delta(update(10, 15, [], []))
    assert APPLY == sync.on_delta(update(15, 16, [], []))
    assert 16 == sync.last_seq
    assert [] == sync.drain()
    assert sync.needs_rest_snapshot is True


def test_okx_sync_no_change_update_is_checked_then_dropped() -> None:
    sync = OkxSync()
    sync.on_snapshot(snap(10, BIDS, ASKS))
    assert isinstance(sync.on_delta(update(10, 10, [], [])), Drop)
    assert 10 == sync.last_seq
    assert isinstance(sync.on_delta(update(9, 9, [], [])), Resync)


def test_okx_sync_holds_an_update_after_a_gap_then_resyncs_when_it_expires() -> None:
    sync = OkxSync()
    sync.on_snapshot(snap(10, BIDS, ASKS))
    decision = sync.on_delta(update(11, 12, [], []))
    assert Hold("gap: expected prevSeqId=10, got prevSeqId=11 (seqId=12)") == decision
    assert (10, 1, 0) == (sync.last_seq, sync.held, sync.statistics().gaps)
    assert Resync("gap: expected prevSeqId=10, got prevSeqId=11 (seqId=12)") == sync.expire()
    assert (0, 1) == (sync.held, sync.statistics().gaps)
    assert None is sync.expire()


def test_okx_sync_applies_held_updates_in_order_once_the_missing_one_comes() -> None:
    sync = OkxSync()
    sync.on_snapshot(snap(10, BIDS, ASKS))
    third, second = update(12, 13, [], []), update(11, 12, [("99", "1")], [])
    assert isinstance(sync.on_delta(third), Hold)
    assert isinstance(sync.on_delta(second), Hold)
    assert APPLY == sync.on_delta(update(10, 11, [], []))
    assert [second, third] == sync.drain()
    stats = sync.statistics()
    assert (13, 0, 3, 0) == (stats.last_seq, stats.held, stats.applied, stats.gaps)
    assert APPLY == sync.on_delta(update(13, 14, [], []))


def test_okx_sync_resyncs_when_more_updates_are_ahead_than_it_may_hold() -> None:
    sync = OkxSync(hold_limit=1)
    sync.on_snapshot(snap(10, BIDS, ASKS))
    assert isinstance(sync.on_delta(update(11, 12, [], [])), Hold)
    decision = sync.on_delta(update(12, 13, [], []))
    assert isinstance(decision, Resync)
    assert "expected prevSeqId=10, got prevSeqId=12 (seqId=13); 1 updates held" in (decision.reason)
    assert 1 == sync.statistics().gaps


def test_okx_sync_duplicate_and_early_updates_are_dropped() -> None:
    sync = OkxSync()
    # Before a snapshot an update is buffered; older than the snapshot, it is dropped.
    assert BUFFER == sync.on_delta(update(1, 2, [], []))
    assert APPLY == sync.on_snapshot(snap(10, BIDS, ASKS))
    assert [] == sync.drain()
    assert 1 == sync.statistics().dropped
    sync.on_delta(update(10, 12, [], []))
    assert isinstance(sync.on_delta(update(10, 12, [], [])), Drop)
    assert APPLY == sync.on_delta(update(12, 13, [], []))


def test_okx_sync_an_update_that_only_shares_the_books_seq_id_is_a_gap() -> None:
    # Book at 4 after a reset (1000 -> 3 -> 4). An update to seqId 4 chained from 7 is
    # not the one applied (the reset's successor from 4 was lost): resync, never drop.
    sync = OkxSync()
    sync.on_snapshot(snap(1000, BIDS, ASKS))
    assert APPLY == sync.on_delta(update(1000, 3, [], []))
    assert APPLY == sync.on_delta(update(3, 4, [("99", "1")], []))
    assert isinstance(sync.on_delta(update(3, 4, [("99", "1")], [])), Drop)  # a true repeat
    assert isinstance(sync.on_delta(update(3, 4, [("98", "1")], [])), Resync)  # other levels
    sync.on_snapshot(snap(4, BIDS, ASKS))
    # A reset landing on 4, chained to 7: held for the updates 4 -> 7, then given up.
    assert isinstance(sync.on_delta(update(7, 4, [], [])), Hold)
    assert isinstance(sync.expire(), Resync)
    assert isinstance(sync.on_delta(update(3, 4, [], [])), Drop)  # the update that made 4


def test_okx_sync_accepts_sequence_reset_that_chains() -> None:
    sync = OkxSync()
    sync.on_snapshot(snap(1000, BIDS, ASKS))
    assert APPLY == sync.on_delta(update(1000, 3, [], []))
    assert APPLY == sync.on_delta(update(3, 4, [], []))


def test_okx_sync_checksum_zero_or_missing_passes() -> None:
    sync = OkxSync()
    book = _book(BIDS, ASKS)
    assert APPLY == sync.after_apply(book, snap(10, BIDS, ASKS, checksum=0))
    assert APPLY == sync.after_apply(book, update(10, 11, [], [], checksum=None))
    assert 0 == sync.statistics().checksums_checked


def test_okx_sync_right_checksum_passes_and_wrong_one_resyncs() -> None:
    sync = OkxSync()
    book = _book(BIDS, ASKS)
    right = okx_checksum(BIDS, ASKS)
    assert APPLY == sync.after_apply(book, snap(10, BIDS, ASKS, checksum=right))
    decision = sync.after_apply(book, update(10, 11, [], [], checksum=right + 1))
    assert isinstance(decision, Resync)
    assert "checksum mismatch" in decision.reason
    assert (2, 1) == (
        sync.statistics().checksums_checked,
        sync.statistics().checksum_failures,
    )


def test_okx_sync_without_seq_ids_applies_in_order() -> None:
    sync = OkxSync()
    sync.on_snapshot(snap(None, BIDS, ASKS))
    assert APPLY == sync.on_delta(update(None, None, [], []))
    assert sync.last_seq is None
    assert isinstance(sync.on_delta(update(5, 6, [], [])), Resync)


def test_okx_keeper_wrong_checksum_invalidates_book() -> None:
    keeper = BookKeeper("okx", Market.SPOT, SYM, OkxSync(), depth=400)
    keeper.on_snapshot(snap(10, BIDS, ASKS, checksum=okx_checksum(BIDS, ASKS)))
    assert keeper.state.valid
    changed_bids: Raw = [("100.0", "5")]
    want = okx_checksum([("100.0", "5"), ("99.5", "2")], ASKS)
    assert (
        keeper.on_delta(update(10, 11, changed_bids, [], checksum=want)).action
        is KeeperAction.PUBLISH
    )
    result = keeper.on_delta(update(11, 12, [("99.5", "1")], [], checksum=want))
    assert (BookStatus.INVALID, KeeperAction.RESYNC) == (keeper.state.status, result.action)


def test_okx_capture_books_chain_and_every_checksum_verifies_through_keeper() -> None:
    keepers: dict[Symbol, BookKeeper] = {}
    actions: collections.Counter[str] = collections.Counter()
    for event in ws_events():
        if not isinstance(event, BookSnapshot | BookDelta):
            continue
        keeper = keepers.get(event.symbol)
        if keeper is None:
            keeper = keepers[event.symbol] = BookKeeper(
                "okx", event.market, event.symbol, OkxSync(), depth=400
            )
        if isinstance(event, BookSnapshot):
            result = keeper.on_snapshot(event)
        else:
            result = keeper.on_delta(event)
        actions[result.action.name] += 1
    assert {"STATE": 2, "PUBLISH": 98 + 97} == dict(actions)
    stats = {str(sym): k.statistics() for sym, k in keepers.items()}
    assert {"BTC-USD-FUT-20220527": 98, "BTC-USDT-SPOT": 97} == {
        s: v.deltas_applied for s, v in stats.items()
    }
    assert {"BTC-USD-FUT-20220527": (99, 0), "BTC-USDT-SPOT": (98, 0)} == {
        s: (v.checksums_checked, v.checksums_failed) for s, v in stats.items()
    }
    assert all(v.state.status is BookStatus.VALID and v.crossed == 0 for v in stats.values())


# -- property: any injected fault is harmless or detected ------------------------

_PRICE_TEXT = {p: f"{p}.5" if p % 3 else f"{p}.50" for p in range(1, 200)}
_QTY_TEXT = ["0", "1", "2.5", "0.10", "0.00000062", "3"]
Levels = dict[str, str]


@st.composite
def venue_streams(draw: st.DrawFn) -> list[tuple[str, int, int, Raw, Raw, int]]:
    """A true OKX books stream: snapshot, then updates chained by seqId/prevSeqId.

    Each message is ``(kind, prev, seq, bids, asks, checksum)``; some updates are
    no-change heartbeats, some carry checksum 0.
    """
    seq = draw(st.integers(min_value=200, max_value=10**6))
    lowest = seq
    book_bids: Levels = {}
    book_asks: Levels = {}

    def changes(base: int, snapshot: bool) -> Raw:
        picked = draw(st.dictionaries(st.integers(1, 60), st.sampled_from(_QTY_TEXT), max_size=6))
        return [
            (_PRICE_TEXT[base + p], q)
            for p, q in sorted(picked.items())
            if q != "0" or not snapshot
        ]

    def apply(book: Levels, levels: Raw) -> None:
        for price, qty in levels:
            if qty == "0":
                book.pop(price, None)
            else:
                book[price] = qty

    def checksum() -> int:
        if draw(st.booleans()):
            return 0
        bids = sorted(book_bids.items(), key=lambda kv: -Decimal(kv[0]))
        asks = sorted(book_asks.items(), key=lambda kv: Decimal(kv[0]))
        return okx_checksum(bids, asks)

    bids, asks = changes(0, True), changes(100, True)
    apply(book_bids, bids)
    apply(book_asks, asks)
    messages = [("snapshot", -1, seq, bids, asks, checksum())]
    for _ in range(draw(st.integers(min_value=0, max_value=25))):
        prev = seq
        if draw(st.integers(0, 6)) == 0:
            messages.append(("update", prev, seq, [], [], checksum()))
            continue
        # A maintenance reset goes below every seqId the stream used, far enough that the
        # updates after it (at most 25 steps of at most 4) never reach them again: an exact
        # repeat of an earlier (prevSeqId, seqId) pair would make a lost update undetectable.
        if lowest > 150 and draw(st.integers(0, 20)) == 0:
            seq = lowest - draw(st.integers(101, 150))
            lowest = seq
        else:
            seq += draw(st.integers(1, 4))
        if seq == prev:
            seq += 1
        bids, asks = changes(0, False), changes(100, False)
        apply(book_bids, bids)
        apply(book_asks, asks)
        messages.append(("update", prev, seq, bids, asks, checksum()))
    return messages


def _truths(messages: list[tuple[str, int, int, Raw, Raw, int]]) -> list[tuple[Levels, Levels]]:
    out: list[tuple[Levels, Levels]] = []
    bids: Levels = {}
    asks: Levels = {}
    for kind, _, _, b, a, _ in messages:
        if kind == "snapshot":
            bids, asks = {}, {}
        for book, levels in ((bids, b), (asks, a)):
            for price, qty in levels:
                if qty == "0":
                    book.pop(price, None)
                else:
                    book[price] = qty
        out.append((dict(bids), dict(asks)))
    return out


_FAULTS = st.lists(
    st.tuples(
        st.sampled_from(["drop", "duplicate", "swap", "late_duplicate", "corrupt"]),
        st.integers(0, 40),
    ),
    max_size=4,
)


@settings(max_examples=120, deadline=None)
@given(venue_streams(), _FAULTS)
def test_okx_sync_book_matches_model_whenever_in_sync(
    messages: list[tuple[str, int, int, Raw, Raw, int]], faults: list[tuple[str, int]]
) -> None:
    truths = _truths(messages)
    order: list[tuple[int, bool]] = [(i, False) for i in range(len(messages))]
    for fault, at in faults:
        i = at % len(order)
        if fault == "drop":
            del order[i]
        elif fault == "duplicate":
            order.insert(i + 1, order[i])
        elif fault == "late_duplicate":
            order.insert(min(i + 3, len(order)), order[i])
        elif fault == "corrupt":
            order[i] = (order[i][0], True)
        elif i + 1 < len(order):
            order[i], order[i + 1] = order[i + 1], order[i]
        if not order:
            break
    sync = OkxSync()
    book = OrderBook()
    in_sync = False
    applied: int | None = None
    # Updates delivered before the snapshot are buffered, then drained after it.
    sent: dict[int, tuple[int, bool]] = {}
    kept: list[BookDelta] = []

    def settle(index: int, corrupt: bool, decision: object) -> bool:
        """Carry out one decision as the keeper would; True while applied and in sync."""
        nonlocal in_sync, applied
        if isinstance(decision, Apply):
            in_sync = True
            applied = index
            if corrupt:
                # Only a checksum can catch corruption; without one it stands.
                assert messages[index][5] == 0
                in_sync = False
                sync.reset()
                book.clear()
                return False
            check()
            return True
        if isinstance(decision, Resync):
            in_sync = False
            applied = None
            sync.reset()
            book.clear()
        return False

    def check() -> None:
        if in_sync:
            assert applied is not None
            want_bids, want_asks = truths[applied]
            assert want_bids == {format(lv.price, "f"): format(lv.qty, "f") for lv in book.bids()}
            assert want_asks == {format(lv.price, "f"): format(lv.qty, "f") for lv in book.asks()}

    for index, corrupt in order:
        kind, prev, seq, bids, asks, checksum = messages[index]
        if corrupt:
            # A best bid the venue never sent (a garbled frame); inside the top 25,
            # where the checksum can see it.
            bids = [*bids, ("99.5", "7")]
        if kind == "snapshot":
            s = snap(seq, bids, asks, checksum)
            decision = sync.on_snapshot(s)
            if isinstance(decision, Apply):
                book.load_snapshot(s.bids, s.asks)
                if settle(index, corrupt, sync.after_apply(book, s)):
                    for d in sync.drain():
                        book.apply(d.bids, d.asks)
                        at, bad = sent[id(d)]
                        if not settle(at, bad, sync.after_apply(book, d)):
                            break
            else:
                settle(index, corrupt, decision)
        else:
            d = update(prev, seq, bids, asks, checksum)
            kept.append(d)
            sent[id(d)] = (index, corrupt)
            decision = sync.on_delta(d)
            if isinstance(decision, Apply):
                assert in_sync
                book.apply(d.bids, d.asks)
                decision = sync.after_apply(book, d)
            settle(index, corrupt, decision)
        check()


@settings(max_examples=40, deadline=None)
@given(venue_streams())
def test_okx_sync_applies_every_changing_message_of_a_clean_stream(
    messages: list[tuple[str, int, int, Raw, Raw, int]],
) -> None:
    sync = OkxSync()
    book = OrderBook()
    for kind, prev, seq, bids, asks, checksum in messages:
        if kind == "snapshot":
            s = snap(seq, bids, asks, checksum)
            assert APPLY == sync.on_snapshot(s)
            book.load_snapshot(s.bids, s.asks)
            assert APPLY == sync.after_apply(book, s)
        elif prev == seq:
            assert isinstance(sync.on_delta(update(prev, seq, bids, asks, checksum)), Drop)
        else:
            d = update(prev, seq, bids, asks, checksum)
            assert APPLY == sync.on_delta(d)
            book.apply(d.bids, d.asks)
            assert APPLY == sync.after_apply(book, d)


def test_okx_sync_releases_held_updates_in_chain_order_across_a_sequence_reset() -> None:
    # Book at 5; 5 -> 6 is late, and after it came 6 -> 7 and a maintenance reset 7 -> 2:
    # the reset holds the smaller seqId, yet chains after 6 -> 7.
    sync = OkxSync()
    sync.on_snapshot(snap(5, BIDS, ASKS))
    reset, after = update(7, 2, [], []), update(6, 7, [], [])
    assert isinstance(sync.on_delta(after), Hold)
    assert isinstance(sync.on_delta(reset), Hold)
    assert APPLY == sync.on_delta(update(5, 6, [], []))
    assert [after, reset] == sync.drain()
    assert (2, 0) == (sync.last_seq, sync.held)
