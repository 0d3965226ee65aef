from __future__ import annotations

import collections
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.book.keeper import BookKeeper, KeeperAction
from connector.book.orderbook import OrderBook
from connector.book.sequencing import APPLY, Apply, Drop, Hold, Resync
from connector.model import BookDelta, BookLevel, BookSnapshot, BookStatus, Market, Symbol
from connector.venues.bybit import BybitSync
from tests.venues.bybit.captures import load_v3

SYM = Symbol.parse("BTC-USDT-PERP")
Levels = dict[Decimal, Decimal]


def _lv(levels: Levels) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(p, q) for p, q in levels.items())


def snap(u: int, bids: Levels | None = None, asks: Levels | None = None) -> BookSnapshot:
    return BookSnapshot(
        venue="bybit",
        market=Market.LINEAR,
        symbol=SYM,
        seq=u,
        bids=_lv(bids or {Decimal(10): Decimal(1)}),
        asks=_lv(asks or {Decimal(11): Decimal(1)}),
    )


def delta(u: int, bids: Levels | None = None, asks: Levels | None = None) -> BookDelta:
    return BookDelta(
        venue="bybit",
        market=Market.LINEAR,
        symbol=SYM,
        first_seq=u,
        seq=u,
        bids=_lv(bids or {}),
        asks=_lv(asks or {}),
    )


def test_bybit_sync_applies_snapshot_then_chained_deltas() -> None:
    sync = BybitSync()
    assert APPLY == sync.on_snapshot(snap(100))
    assert APPLY == sync.on_delta(delta(101))
    assert APPLY == sync.on_delta(delta(102))
    assert 102 == sync.last_u
    assert [] == sync.drain()
    assert sync.needs_rest_snapshot is False


def test_bybit_sync_drops_delta_before_first_snapshot() -> None:
    sync = BybitSync()
    assert isinstance(sync.on_delta(delta(5)), Drop)
    assert sync.last_u is None


def test_bybit_sync_drops_duplicate_delta() -> None:
    sync = BybitSync()
    sync.on_snapshot(snap(100))
    sync.on_delta(delta(101))
    assert isinstance(sync.on_delta(delta(101)), Drop)
    assert APPLY == sync.on_delta(delta(102))


def test_bybit_sync_holds_a_delta_ahead_then_resyncs_naming_the_gap_when_it_expires() -> None:
    sync = BybitSync()
    sync.on_snapshot(snap(100))
    assert Hold("gap: expected u=101, got u=102") == sync.on_delta(delta(102))
    assert (100, 1, 0) == (sync.last_u, sync.held, sync.statistics().gaps)
    assert Resync("gap: expected u=101, got u=102") == sync.expire()
    assert (0, 1) == (sync.held, sync.statistics().gaps)
    assert None is sync.expire()


def test_bybit_sync_resyncs_at_once_when_u_goes_backwards() -> None:
    sync = BybitSync()
    sync.on_snapshot(snap(200))
    decision = sync.on_delta(delta(150))
    assert Resync("gap: expected u=201, got u=150") == decision
    assert (0, 1) == (sync.held, sync.statistics().gaps)


def test_bybit_sync_applies_held_deltas_in_order_once_the_missing_one_comes() -> None:
    sync = BybitSync()
    sync.on_snapshot(snap(100))
    third, second = delta(103), delta(102)
    assert isinstance(sync.on_delta(third), Hold)
    assert isinstance(sync.on_delta(second), Hold)
    assert APPLY == sync.on_delta(delta(101))
    assert [second, third] == sync.drain()
    stats = sync.statistics()
    assert (103, 0, 3, 0) == (stats.last_u, stats.held, stats.applied, stats.gaps)
    assert APPLY == sync.on_delta(delta(104))


def test_bybit_sync_resyncs_when_more_deltas_are_ahead_than_it_may_hold() -> None:
    sync = BybitSync(hold_limit=1)
    sync.on_snapshot(snap(100))
    assert isinstance(sync.on_delta(delta(102)), Hold)
    decision = sync.on_delta(delta(103))
    assert isinstance(decision, Resync)
    assert "gap: expected u=101, got u=103; 1 updates held" in decision.reason


def test_bybit_sync_snapshot_forgets_the_held_deltas() -> None:
    sync = BybitSync()
    sync.on_snapshot(snap(100))
    sync.on_delta(delta(105))
    assert APPLY == sync.on_snapshot(snap(110))
    assert (0, []) == (sync.held, sync.drain())
    assert None is sync.expire()


def test_bybit_sync_mid_stream_restart_snapshot_with_u_1_replaces_book() -> None:
    sync = BybitSync()
    sync.on_snapshot(snap(5000))
    sync.on_delta(delta(5001))
    assert APPLY == sync.on_snapshot(snap(1))
    assert APPLY == sync.on_delta(delta(2))
    assert 2 == sync.last_u
    assert 1 == sync.statistics().restarts


def test_bybit_sync_drops_stale_snapshot() -> None:
    sync = BybitSync()
    sync.on_snapshot(snap(5000))
    assert isinstance(sync.on_snapshot(snap(4000)), Drop)
    assert 5000 == sync.last_u


def test_bybit_keeper_restart_snapshot_keeps_book_valid_with_new_levels() -> None:
    keeper = BookKeeper("bybit", Market.LINEAR, SYM, BybitSync(), depth=200)
    keeper.on_snapshot(snap(5000, {Decimal(10): Decimal(1)}, {Decimal(11): Decimal(1)}))
    keeper.on_delta(delta(5001, {Decimal(9): Decimal(2)}))
    result = keeper.on_snapshot(snap(1, {Decimal(20): Decimal(3)}, {Decimal(21): Decimal(4)}))
    assert KeeperAction.PUBLISH == result.action  # still valid: publish the new book
    assert keeper.state.valid
    assert [BookLevel(Decimal(20), Decimal(3))] == keeper.book.bids()
    assert KeeperAction.PUBLISH == keeper.on_delta(delta(2, asks={Decimal(21): Decimal(0)})).action
    assert [] == keeper.book.asks()


def test_bybit_capture_books_chain_without_gaps_through_the_keeper() -> None:
    keepers: dict[tuple[Market, Symbol], BookKeeper] = {}
    actions: collections.Counter[str] = collections.Counter()
    for _, event in load_v3().events():
        if not isinstance(event, BookSnapshot | BookDelta):
            continue
        key = (event.market, event.symbol)
        keeper = keepers.get(key)
        if keeper is None:
            keeper = keepers[key] = BookKeeper(
                "bybit", event.market, event.symbol, BybitSync(), depth=200
            )
        if isinstance(event, BookSnapshot):
            result = keeper.on_snapshot(event)
        else:
            result = keeper.on_delta(event)
        actions[result.action.name] += 1
        assert not keeper.book.is_crossed()
    applied = {
        (market.value, str(sym)): k.statistics().deltas_applied
        for (market, sym), k in keepers.items()
    }
    assert {
        ("linear", "BTC-USDT-PERP"): 413,
        ("linear", "SOL-USDT-PERP"): 382,
        ("spot", "BTC-USDT-SPOT"): 299,
    } == applied
    assert {"STATE": 3, "PUBLISH": 413 + 382 + 299} == dict(actions)
    for keeper in keepers.values():
        stats = keeper.statistics()
        assert (BookStatus.VALID, 0, 0) == (stats.state.status, stats.gaps, stats.crossed)
        assert (200, 200) == (keeper.book.bid_count, keeper.book.ask_count)


# -- property: any injected fault is harmless or detected ------------------------

_PRICES = st.integers(min_value=1, max_value=30)
_QTYS = st.integers(min_value=0, max_value=3)
_CHANGES = st.dictionaries(_PRICES, _QTYS, max_size=5)


@st.composite
def venue_streams(draw: st.DrawFn) -> list[tuple[str, int, Levels, Levels]]:
    """A true Bybit stream: snapshot, deltas with u + 1, maybe one u=1 restart.

    One restart at most: two restarts close together reuse the same ``u`` values,
    which no rule based on ``u`` can tell apart (and a live socket loses nothing).
    """
    u = draw(st.integers(min_value=1000, max_value=10**9))
    restarted = False
    messages: list[tuple[str, int, Levels, Levels]] = []

    def side(base: int) -> Levels:
        raw = draw(st.dictionaries(_PRICES, st.integers(1, 3), max_size=6))
        return {Decimal(base + p): Decimal(q) for p, q in raw.items()}

    messages.append(("snapshot", u, side(0), side(100)))
    for _ in range(draw(st.integers(min_value=0, max_value=25))):
        if not restarted and draw(st.integers(0, 10)) == 0:
            restarted = True
            u = 1
            messages.append(("snapshot", u, side(0), side(100)))
            continue
        u += 1
        bids = {Decimal(p): Decimal(q) for p, q in draw(_CHANGES).items()}
        asks = {Decimal(100 + p): Decimal(q) for p, q in draw(_CHANGES).items()}
        messages.append(("delta", u, bids, asks))
    return messages


def _truths(messages: list[tuple[str, int, Levels, Levels]]) -> list[tuple[Levels, Levels]]:
    out: list[tuple[Levels, Levels]] = []
    bids: Levels = {}
    asks: Levels = {}
    for kind, _, b, a in messages:
        if kind == "snapshot":
            bids, asks = dict(b), dict(a)
        else:
            for book, changes in ((bids, b), (asks, a)):
                for price, qty in changes.items():
                    if qty:
                        book[price] = qty
                    else:
                        book.pop(price, None)
        out.append(({p: q for p, q in bids.items()}, {p: q for p, q in asks.items()}))
    return out


_FAULTS = st.lists(
    st.tuples(st.sampled_from(["drop", "duplicate", "swap", "late_duplicate"]), st.integers(0, 40)),
    max_size=4,
)


def _inject(n: int, faults: list[tuple[str, int]]) -> list[int]:
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


@settings(max_examples=200, deadline=None)
@given(venue_streams(), _FAULTS)
def test_bybit_sync_book_matches_model_whenever_in_sync(
    messages: list[tuple[str, int, Levels, Levels]], faults: list[tuple[str, int]]
) -> None:
    truths = _truths(messages)
    sync = BybitSync()
    book = OrderBook()
    in_sync = False
    applied: int | None = None
    sent: list[tuple[BookDelta, int]] = []
    for index in _inject(len(messages), faults):
        kind, u, bids, asks = messages[index]
        if kind == "snapshot":
            decision = sync.on_snapshot(snap(u, bids, asks))
            if isinstance(decision, Apply):
                book.load_snapshot(_lv(bids), _lv(asks))
        else:
            d = delta(u, bids, asks)
            sent.append((d, index))
            decision = sync.on_delta(d)
            if isinstance(decision, Apply):
                assert in_sync
                book.apply(_lv(bids), _lv(asks))
        if isinstance(decision, Apply):
            in_sync = True
            applied = index
            for held in sync.drain():  # held deltas that follow now, as the keeper does
                book.apply(held.bids, held.asks)
                applied = next(i for d, i in sent if d is held)
        elif isinstance(decision, Resync):
            in_sync = False
            applied = None
            sync.reset()
            book.clear()
        if in_sync:
            assert applied is not None
            want_bids, want_asks = truths[applied]
            assert want_bids == {lv.price: lv.qty for lv in book.bids()}
            assert want_asks == {lv.price: lv.qty for lv in book.asks()}


@settings(max_examples=60, deadline=None)
@given(venue_streams())
def test_bybit_sync_applies_every_message_of_a_clean_stream(
    messages: list[tuple[str, int, Levels, Levels]],
) -> None:
    sync = BybitSync()
    for kind, u, bids, asks in messages:
        if kind == "snapshot":
            assert APPLY == sync.on_snapshot(snap(u, bids, asks))
        else:
            assert APPLY == sync.on_delta(delta(u, bids, asks))
