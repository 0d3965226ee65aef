"""Tests of the simulator's matching engine: unit cases per order type and properties."""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import BookLevel, OrderStatus, OrderType, Side, TimeInForce
from connector.sim.engine import (
    EngineOrder,
    EngineResult,
    EngineTrade,
    LevelChange,
    MatchingEngine,
)

D = Decimal
TICK = D("0.5")
LOT = D("0.01")


def make_engine() -> MatchingEngine:
    return MatchingEngine(tick_size=TICK, lot_step=LOT, first_update_id=100)


def limit(
    order_id: str,
    side: Side,
    price: str,
    qty: str,
    tif: TimeInForce = TimeInForce.GTC,
    owner: str = "flow",
) -> EngineOrder:
    return EngineOrder(
        order_id=order_id,
        side=side,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        time_in_force=tif,
        owner=owner,
    )


def market(order_id: str, side: Side, qty: str, tif: TimeInForce = TimeInForce.IOC) -> EngineOrder:
    return EngineOrder(
        order_id=order_id, side=side, type=OrderType.MARKET, qty=D(qty), time_in_force=tif
    )


def fills(result: EngineResult) -> list[tuple[str, Decimal, Decimal]]:
    return [(t.maker_order_id, t.price, t.qty) for t in result.trades]


def book_with_asks() -> MatchingEngine:
    """Asks: 100.0 a1 1 + a2 2; 100.5 a3 1; 101.0 a4 5."""
    engine = make_engine()
    engine.submit(limit("a1", Side.SELL, "100.0", "1"))
    engine.submit(limit("a2", Side.SELL, "100.0", "2"))
    engine.submit(limit("a3", Side.SELL, "100.5", "1"))
    engine.submit(limit("a4", Side.SELL, "101.0", "5"))
    return engine


# ---------------------------------------------------------------- unit cases


def test_limit_order_that_does_not_cross_rests_as_new_and_reports_its_level() -> None:
    engine = make_engine()
    result = engine.submit(limit("b1", Side.BUY, "99.5", "1.25"))
    assert OrderStatus.NEW == result.status
    assert (LevelChange(Side.BUY, D("99.5"), D("1.25")),) == result.changes
    assert 101 == result.update_id == engine.update_id
    assert D("1.25") == result.remaining_qty
    assert BookLevel(D("99.5"), D("1.25")) == engine.best_bid()
    assert engine.best_ask() is None


def test_market_order_sweeps_levels_best_price_first_and_oldest_first() -> None:
    engine = book_with_asks()
    result = engine.submit(market("m1", Side.BUY, "4.5"))
    assert OrderStatus.FILLED == result.status
    expected = [
        ("a1", D("100.0"), D("1")),
        ("a2", D("100.0"), D("2")),
        ("a3", D("100.5"), D("1")),
        ("a4", D("101.0"), D("0.5")),
    ]
    assert expected == fills(result)
    assert [1, 2, 3, 4] == [t.trade_id for t in result.trades]
    assert all(t.aggressor is Side.BUY for t in result.trades)
    expected_changes = (
        LevelChange(Side.SELL, D("100.0"), D(0)),
        LevelChange(Side.SELL, D("100.5"), D(0)),
        LevelChange(Side.SELL, D("101.0"), D("4.5")),
    )
    assert expected_changes == result.changes
    assert ((), (BookLevel(D("101.0"), D("4.5")),)) == engine.depth()


def test_market_order_larger_than_the_book_fills_what_there_is_and_cancels_the_rest() -> None:
    engine = book_with_asks()
    result = engine.submit(market("m1", Side.BUY, "10"))
    assert OrderStatus.CANCELED == result.status
    assert D("9") == result.filled_qty
    assert engine.best_ask() is None
    assert engine.best_bid() is None


def test_ioc_remainder_is_cancelled_not_rested() -> None:
    engine = book_with_asks()
    result = engine.submit(limit("i1", Side.BUY, "100.0", "5", TimeInForce.IOC))
    assert OrderStatus.CANCELED == result.status
    assert D("3") == result.filled_qty
    assert D(0) == result.remaining_qty
    assert engine.best_bid() is None
    assert engine.order("i1") is None
    assert BookLevel(D("100.5"), D("1")) == engine.best_ask()


def test_ioc_that_fills_completely_is_filled() -> None:
    engine = book_with_asks()
    result = engine.submit(limit("i1", Side.BUY, "100.5", "4", TimeInForce.IOC))
    assert OrderStatus.FILLED == result.status
    assert D("4") == result.filled_qty


def test_fok_that_cannot_fill_completely_is_rejected_and_changes_nothing() -> None:
    engine = book_with_asks()
    before = engine.depth()
    update_id = engine.update_id
    result = engine.submit(limit("f1", Side.BUY, "100.5", "4.01", TimeInForce.FOK))
    assert OrderStatus.REJECTED == result.status
    assert () == result.trades
    assert () == result.changes
    assert before == engine.depth()
    assert update_id == engine.update_id == result.update_id


def test_fok_that_can_fill_completely_fills_across_levels() -> None:
    engine = book_with_asks()
    result = engine.submit(limit("f1", Side.BUY, "100.5", "4", TimeInForce.FOK))
    assert OrderStatus.FILLED == result.status
    assert D("4") == sum(t.qty for t in result.trades)


def test_fok_market_order_is_all_or_nothing() -> None:
    engine = book_with_asks()
    assert (
        OrderStatus.REJECTED
        == engine.submit(market("f1", Side.BUY, "9.01", TimeInForce.FOK)).status
    )
    assert OrderStatus.FILLED == engine.submit(market("f2", Side.BUY, "9", TimeInForce.FOK)).status


def test_post_only_order_that_would_cross_is_rejected() -> None:
    engine = book_with_asks()
    result = engine.submit(limit("p1", Side.BUY, "100.0", "1", TimeInForce.POST_ONLY))
    assert OrderStatus.REJECTED == result.status
    assert "post-only" in (result.reject_reason or "")
    assert engine.best_bid() is None


def test_post_only_order_below_the_ask_rests() -> None:
    engine = book_with_asks()
    result = engine.submit(limit("p1", Side.BUY, "99.5", "1", TimeInForce.POST_ONLY))
    assert OrderStatus.NEW == result.status
    assert TimeInForce.POST_ONLY == engine.order("p1").time_in_force  # type: ignore[union-attr]


def test_crossing_limit_order_fills_then_rests_its_remainder_as_partially_filled() -> None:
    engine = book_with_asks()
    result = engine.submit(limit("b1", Side.BUY, "100.0", "4"))
    assert OrderStatus.PARTIALLY_FILLED == result.status
    assert D("3") == result.filled_qty
    assert D("1") == result.remaining_qty
    expected = (
        LevelChange(Side.SELL, D("100.0"), D(0)),
        LevelChange(Side.BUY, D("100.0"), D("1")),
    )
    assert expected == result.changes
    resting = engine.order("b1")
    assert resting is not None
    assert (D("4"), D("1"), D("3")) == (resting.qty, resting.remaining, resting.filled)


def test_trade_reports_owners_and_maker_price() -> None:
    engine = make_engine()
    engine.submit(limit("s1", Side.SELL, "100.0", "1", owner="alice"))
    result = engine.submit(limit("b1", Side.BUY, "105.0", "1", owner="bob"))
    expected = EngineTrade(
        trade_id=1,
        price=D("100.0"),
        qty=D("1"),
        aggressor=Side.BUY,
        maker_order_id="s1",
        taker_order_id="b1",
        maker_owner="alice",
        taker_owner="bob",
    )
    assert (expected,) == result.trades


def test_amend_qty_decrease_keeps_time_priority() -> None:
    engine = make_engine()
    engine.submit(limit("a1", Side.SELL, "100.0", "2"))
    engine.submit(limit("a2", Side.SELL, "100.0", "2"))
    amended = engine.amend("a1", qty=D("1"))
    assert OrderStatus.NEW == amended.status
    assert (LevelChange(Side.SELL, D("100.0"), D("3")),) == amended.changes
    result = engine.submit(market("m", Side.BUY, "1"))
    assert [("a1", D("100.0"), D("1"))] == fills(result)


def test_amend_qty_increase_loses_time_priority() -> None:
    engine = make_engine()
    engine.submit(limit("a1", Side.SELL, "100.0", "2"))
    engine.submit(limit("a2", Side.SELL, "100.0", "2"))
    engine.amend("a1", qty=D("3"))
    result = engine.submit(market("m", Side.BUY, "1"))
    assert [("a2", D("100.0"), D("1"))] == fills(result)


def test_amend_price_change_loses_time_priority_even_when_moved_back() -> None:
    engine = make_engine()
    engine.submit(limit("a1", Side.SELL, "100.0", "2"))
    engine.submit(limit("a2", Side.SELL, "100.0", "2"))
    engine.amend("a1", price=D("100.5"))
    engine.amend("a1", price=D("100.0"))
    result = engine.submit(market("m", Side.BUY, "3"))
    assert [("a2", D("100.0"), D("2")), ("a1", D("100.0"), D("1"))] == fills(result)


def test_amend_price_through_the_book_trades_as_taker() -> None:
    engine = make_engine()
    engine.submit(limit("a1", Side.SELL, "100.0", "1"))
    engine.submit(limit("b1", Side.BUY, "99.0", "3"))
    result = engine.amend("b1", price=D("100.0"))
    assert OrderStatus.PARTIALLY_FILLED == result.status
    assert [("a1", D("100.0"), D("1"))] == fills(result)
    assert BookLevel(D("100.0"), D("2")) == engine.best_bid()


def test_amend_of_post_only_order_that_would_cross_is_rejected_and_keeps_the_order() -> None:
    engine = make_engine()
    engine.submit(limit("a1", Side.SELL, "100.0", "1"))
    engine.submit(limit("b1", Side.BUY, "99.0", "3", TimeInForce.POST_ONLY))
    result = engine.amend("b1", price=D("100.0"))
    assert OrderStatus.REJECTED == result.status
    assert BookLevel(D("99.0"), D("3")) == engine.best_bid()


def test_amend_to_qty_at_or_below_filled_cancels_the_order() -> None:
    engine = make_engine()
    engine.submit(limit("a1", Side.SELL, "100.0", "3"))
    engine.submit(market("m", Side.BUY, "1"))
    result = engine.amend("a1", qty=D("1"))
    assert OrderStatus.CANCELED == result.status
    assert D("1") == result.filled_qty
    assert (LevelChange(Side.SELL, D("100.0"), D(0)),) == result.changes
    assert engine.order("a1") is None


def test_amend_without_a_change_changes_nothing() -> None:
    engine = make_engine()
    engine.submit(limit("a1", Side.SELL, "100.0", "3"))
    update_id = engine.update_id
    result = engine.amend("a1", qty=D("3"), price=D("100.0"))
    assert (OrderStatus.NEW, (), update_id) == (result.status, result.changes, engine.update_id)


def test_cancel_removes_the_order_and_its_level() -> None:
    engine = make_engine()
    engine.submit(limit("b1", Side.BUY, "99.0", "3"))
    result = engine.cancel("b1")
    assert OrderStatus.CANCELED == result.status
    assert (LevelChange(Side.BUY, D("99.0"), D(0)),) == result.changes
    assert ((), ()) == engine.depth()


def test_cancel_unknown_order_is_rejected_without_update() -> None:
    engine = make_engine()
    result = engine.cancel("nope")
    assert OrderStatus.REJECTED == result.status
    assert "unknown order" == result.reject_reason
    assert 100 == engine.update_id == result.update_id


def test_amend_unknown_order_is_rejected() -> None:
    assert OrderStatus.REJECTED == make_engine().amend("nope", qty=D(1)).status


def test_bad_quantity_price_and_duplicate_id_are_rejected() -> None:
    engine = make_engine()
    engine.submit(limit("b1", Side.BUY, "99.0", "1"))
    rejected = [
        engine.submit(limit("x1", Side.BUY, "99.0", "0")),
        engine.submit(limit("x2", Side.BUY, "99.0", "0.015")),
        engine.submit(limit("x3", Side.BUY, "99.2", "1")),
        engine.submit(limit("x4", Side.BUY, "-1", "1")),
        engine.submit(attrs.evolve(limit("x5", Side.BUY, "99", "1"), price=None)),
        engine.submit(limit("b1", Side.BUY, "98.0", "1")),
        engine.submit(market("x6", Side.BUY, "1", TimeInForce.POST_ONLY)),
        engine.amend("b1", price=D("98.3")),
        engine.amend("b1", qty=D("-1")),
    ]
    assert [OrderStatus.REJECTED] * len(rejected) == [r.status for r in rejected]
    assert 101 == engine.update_id
    stats = engine.statistics()
    assert (1, 1, 0, 0, 101, len(rejected)) == (
        stats.orders_resting,
        stats.bid_levels,
        stats.ask_levels,
        stats.trades,
        stats.update_id,
        stats.rejects,
    )


def test_depth_is_best_first_and_respects_limit() -> None:
    engine = make_engine()
    for i, price in enumerate(["99.0", "98.0", "99.5"]):
        engine.submit(limit(f"b{i}", Side.BUY, price, "1"))
    for i, price in enumerate(["101.0", "100.5", "102.0"]):
        engine.submit(limit(f"a{i}", Side.SELL, price, "2"))
    bids, asks = engine.depth(2)
    assert [D("99.5"), D("99.0")] == [level.price for level in bids]
    assert [D("100.5"), D("101.0")] == [level.price for level in asks]
    assert BookLevel(D("98.0"), D("1")) == engine.worst_level(Side.BUY)
    assert BookLevel(D("102.0"), D("2")) == engine.worst_level(Side.SELL)


def test_open_orders_filters_by_owner() -> None:
    engine = make_engine()
    engine.submit(limit("b1", Side.BUY, "99.0", "1", owner="alice"))
    engine.submit(limit("b2", Side.BUY, "98.0", "1"))
    assert ["b1"] == [o.order_id for o in engine.open_orders("alice")]
    assert ["b1", "b2"] == [o.order_id for o in engine.open_orders()]


# ------------------------------------------------------------ reference model


@attrs.define
class _RefOrder:
    order_id: str
    side: Side
    price: Decimal
    qty: Decimal
    remaining: Decimal
    filled: Decimal
    tif: TimeInForce
    seq: int


class RefBook:
    """A deliberately naive order book: a list scanned and sorted on every operation."""

    def __init__(self) -> None:
        self.orders: dict[str, _RefOrder] = {}
        self.seq = 0

    def _crossing(self, side: Side, limit: Decimal | None) -> list[_RefOrder]:
        if side is Side.BUY:
            found = [
                o
                for o in self.orders.values()
                if o.side is Side.SELL and (limit is None or o.price <= limit)
            ]
            return sorted(found, key=lambda o: (o.price, o.seq))
        found = [
            o
            for o in self.orders.values()
            if o.side is Side.BUY and (limit is None or o.price >= limit)
        ]
        return sorted(found, key=lambda o: (-o.price, o.seq))

    def _match(self, taker: _RefOrder, limit: Decimal | None) -> list[tuple[str, Decimal, Decimal]]:
        out = []
        for maker in self._crossing(taker.side, limit):
            if taker.remaining == 0:
                break
            q = min(maker.remaining, taker.remaining)
            maker.remaining -= q
            maker.filled += q
            taker.remaining -= q
            taker.filled += q
            out.append((maker.order_id, maker.price, q))
            if maker.remaining == 0:
                del self.orders[maker.order_id]
        return out

    def _rest(self, order: _RefOrder) -> None:
        self.seq += 1
        order.seq = self.seq
        self.orders[order.order_id] = order

    def submit(self, o: EngineOrder) -> tuple[OrderStatus, list[tuple[str, Decimal, Decimal]]]:
        lim = None if o.type is OrderType.MARKET else o.price
        crossing = self._crossing(o.side, lim)
        if o.time_in_force is TimeInForce.POST_ONLY and (crossing or lim is None):
            return OrderStatus.REJECTED, []
        if o.time_in_force is TimeInForce.FOK and sum(c.remaining for c in crossing) < o.qty:
            return OrderStatus.REJECTED, []
        taker = _RefOrder(o.order_id, o.side, lim or D(0), o.qty, o.qty, D(0), o.time_in_force, 0)
        trades = self._match(taker, lim)
        if taker.remaining == 0:
            return OrderStatus.FILLED, trades
        if lim is not None and o.time_in_force in (TimeInForce.GTC, TimeInForce.POST_ONLY):
            self._rest(taker)
            return (OrderStatus.PARTIALLY_FILLED if trades else OrderStatus.NEW), trades
        return OrderStatus.CANCELED, trades

    def cancel(self, order_id: str) -> OrderStatus:
        if self.orders.pop(order_id, None) is None:
            return OrderStatus.REJECTED
        return OrderStatus.CANCELED

    def amend(
        self, order_id: str, qty: Decimal | None, price: Decimal | None
    ) -> tuple[OrderStatus, list[tuple[str, Decimal, Decimal]]]:
        o = self.orders.get(order_id)
        if o is None:
            return OrderStatus.REJECTED, []
        new_qty = o.qty if qty is None else qty
        new_price = o.price if price is None else price
        if new_qty <= o.filled:
            del self.orders[order_id]
            return OrderStatus.CANCELED, []
        moved = new_price != o.price
        if moved and o.tif is TimeInForce.POST_ONLY and self._crossing(o.side, new_price):
            return OrderStatus.REJECTED, []
        trades: list[tuple[str, Decimal, Decimal]] = []
        if moved or new_qty > o.qty:
            del self.orders[order_id]
            o.remaining = new_qty - o.filled
            o.qty = new_qty
            o.price = new_price
            if moved:
                trades = self._match(o, new_price)
            if o.remaining == 0:
                return OrderStatus.FILLED, trades
            self._rest(o)
        else:
            o.remaining = new_qty - o.filled
            o.qty = new_qty
        return (OrderStatus.PARTIALLY_FILLED if o.filled else OrderStatus.NEW), trades

    def depth(self) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
        totals: dict[tuple[Side, Decimal], Decimal] = {}
        for o in self.orders.values():
            totals[(o.side, o.price)] = totals.get((o.side, o.price), D(0)) + o.remaining
        bids = sorted(((p, q) for (s, p), q in totals.items() if s is Side.BUY), reverse=True)
        asks = sorted((p, q) for (s, p), q in totals.items() if s is Side.SELL)
        return tuple(BookLevel(*b) for b in bids), tuple(BookLevel(*a) for a in asks)


# ------------------------------------------------------------------ properties

_sides = st.sampled_from([Side.BUY, Side.SELL])
_ticks = st.integers(min_value=196, max_value=204)  # prices 98.0 .. 102.0 in 0.5 steps
_lots = st.integers(min_value=1, max_value=300)  # 0.01 .. 3.00

_submit = st.tuples(
    st.just("submit"),
    _sides,
    st.sampled_from([OrderType.LIMIT, OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET]),
    st.sampled_from(list(TimeInForce)),
    _ticks,
    _lots,
)
_cancel = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=200))
_amend = st.tuples(
    st.just("amend"),
    st.integers(min_value=0, max_value=200),
    st.one_of(st.none(), st.integers(min_value=0, max_value=500)),
    st.one_of(st.none(), _ticks),
)
_ops = st.lists(st.one_of(_submit, _submit, _cancel, _amend), min_size=10, max_size=150)


def _apply_changes(
    depth: tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]], changes: tuple[LevelChange, ...]
) -> tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]:
    bids = {lvl.price: lvl.qty for lvl in depth[0]}
    asks = {lvl.price: lvl.qty for lvl in depth[1]}
    for change in changes:
        levels = bids if change.side is Side.BUY else asks
        if change.qty == 0:
            del levels[change.price]  # a removal must name a level that existed
        else:
            levels[change.price] = change.qty
    return (
        tuple(BookLevel(p, q) for p, q in sorted(bids.items(), reverse=True)),
        tuple(BookLevel(p, q) for p, q in sorted(asks.items())),
    )


def _book_total(depth: tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]) -> Decimal:
    return sum((lvl.qty for side in depth for lvl in side), D(0))


@settings(max_examples=300, deadline=None)
@given(_ops)
def test_engine_matches_reference_model_and_keeps_its_invariants(
    ops: list[tuple[object, ...]],
) -> None:
    engine = make_engine()
    ref = RefBook()
    ids: list[str] = []
    order_qty: dict[str, Decimal] = {}
    filled: dict[str, Decimal] = {}
    entered = traded = cancelled = D(0)
    last_trade_id = 0
    for n, op in enumerate(ops):
        before = engine.depth()
        update_id = engine.update_id
        kind = op[0]
        if kind == "submit":
            _, side, otype, tif, ticks, lots = op
            order_id = f"o{n}"
            ids.append(order_id)
            order = EngineOrder(
                order_id=order_id,
                side=side,  # type: ignore[arg-type]
                type=otype,  # type: ignore[arg-type]
                qty=lots * LOT,  # type: ignore[operator]
                price=None if otype is OrderType.MARKET else ticks * TICK,  # type: ignore[operator]
                time_in_force=tif,  # type: ignore[arg-type]
            )
            order_qty[order_id] = order.qty
            expected_status, expected_trades = ref.submit(order)
            result = engine.submit(order)
            if result.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                entered += result.remaining_qty
        elif kind == "cancel":
            order_id = ids[op[1] % len(ids)] if ids else "none"  # type: ignore[operator]
            resting = engine.order(order_id)
            expected_status, expected_trades = ref.cancel(order_id), []
            result = engine.cancel(order_id)
            if resting is not None:
                cancelled += resting.remaining
        else:
            _, index, lots, ticks = op
            order_id = ids[index % len(ids)] if ids else "none"  # type: ignore[operator]
            qty = None if lots is None else lots * LOT  # type: ignore[operator]
            price = None if ticks is None else ticks * TICK  # type: ignore[operator]
            if qty == 0:
                qty = None  # zero is an invalid quantity, covered by a unit test
            resting = engine.order(order_id)
            expected_status, expected_trades = ref.amend(order_id, qty, price)
            result = engine.amend(order_id, qty=qty, price=price)
            if resting is not None and result.status is not OrderStatus.REJECTED:
                cancelled += resting.remaining
                entered += result.remaining_qty
                if qty is not None and qty > resting.filled:  # else the amend cancelled it
                    order_qty[order_id] = qty

        # The engine agrees with the naive model: same status, same fills in the
        # same order (price-time priority), same book.
        assert expected_status == result.status
        assert expected_trades == fills(result)
        after = engine.depth()
        assert ref.depth() == after

        # The resting book is never crossed.
        if after[0] and after[1]:
            assert after[0][0].price < after[1][0].price

        # `changes` applied to the previous depth give the new depth; one update per change.
        assert after == _apply_changes(before, result.changes)
        assert (update_id + 1 if result.changes else update_id) == engine.update_id
        assert engine.update_id == result.update_id
        assert len({(c.side, c.price) for c in result.changes}) == len(result.changes)

        # Trade ids increase by one; nobody fills more than its quantity.
        for trade in result.trades:
            last_trade_id += 1
            assert last_trade_id == trade.trade_id
            for oid in (trade.maker_order_id, trade.taker_order_id):
                filled[oid] = filled.get(oid, D(0)) + trade.qty
                assert filled[oid] <= order_qty[oid]
            traded += trade.qty
        if result.status is not OrderStatus.REJECTED:
            assert result.filled_qty <= order_qty[result.order_id]

        # What entered the book is still there, was traded away, or was cancelled.
        assert entered == _book_total(after) + traded + cancelled
