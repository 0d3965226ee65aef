"""The order state machine, hand-written cases (random interleavings: test_state_machine.py)."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from connector.model import (
    Fill,
    Order,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderStatusUnknown,
    OrderSubmitted,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
)
from connector.model.trading import OrderReport
from connector.oms.state import RANK, TRANSITIONS, OrderBookkeeping, next_status

SYM = Symbol.parse("BTC-USDT-PERP")
D = Decimal


def submitted(cid: str = "c1", qty: str = "1", ts: int = 100) -> OrderSubmitted:
    order = Order(
        venue="bybit",
        symbol=SYM,
        client_order_id=cid,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D("100"),
        ts_created_ns=ts,
        ts_updated_ns=ts,
    )
    return OrderSubmitted(
        venue="bybit", symbol=SYM, client_order_id=cid, order=order, ts_event_ns=ts
    )


def accepted(cid: str = "c1", ts: int = 200) -> OrderAccepted:
    return OrderAccepted(
        venue="bybit", symbol=SYM, client_order_id=cid, venue_order_id="v-" + cid, ts_event_ns=ts
    )


def filled(cid: str, trade: str, qty: str, price: str = "100", ts: int = 300) -> OrderFilled:
    fill = Fill(
        venue="bybit",
        symbol=SYM,
        client_order_id=cid,
        venue_order_id="v-" + cid,
        trade_id=trade,
        side=Side.BUY,
        qty=D(qty),
        price=D(price),
        ts_event_ns=ts,
    )
    return OrderFilled(
        venue="bybit",
        symbol=SYM,
        client_order_id=cid,
        venue_order_id="v-" + cid,
        fill=fill,
        ts_event_ns=ts,
    )


def report(
    cid: str,
    status: OrderStatus,
    filled_qty: str = "0",
    avg: str | None = None,
    *,
    qty: str = "1",
    price: str = "100",
    ts: int = 400,
    voi: str | None = None,
    reason: str | None = None,
) -> OrderReport:
    return OrderReport(
        venue="bybit",
        symbol=SYM,
        client_order_id=cid,
        venue_order_id=voi or "v-" + cid,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D(qty),
        price=D(price),
        status=status,
        filled_qty=D(filled_qty),
        avg_fill_price=None if avg is None else D(avg),
        reason=reason,
        ts_event_ns=ts,
    )


def get(book: OrderBookkeeping, cid: str = "c1") -> Order:
    order = book.get("bybit", cid)
    assert order is not None
    return order


def test_transition_table_only_moves_ranks_forward_and_terminal_states_absorb() -> None:
    for (current, reported), target in TRANSITIONS.items():
        assert RANK[target] > RANK[current], (current, reported, target)
        assert not current.is_terminal
    for status in OrderStatus:
        if status.is_terminal:
            for reported in OrderStatus:
                assert status == next_status(status, reported, D(1), D(1))


def test_order_lifecycle_publishes_each_event_once() -> None:
    book = OrderBookkeeping()
    sub = submitted()
    acc = accepted()
    f1, f2 = filled("c1", "t1", "0.4", "100"), filled("c1", "t2", "0.6", "110")

    assert (sub,) == book.apply(sub)
    assert (acc,) == book.apply(acc)
    assert (f1,) == book.apply(f1)
    assert OrderStatus.PARTIALLY_FILLED == get(book).status
    assert (f2,) == book.apply(f2)

    order = get(book)
    assert OrderStatus.FILLED == order.status
    assert D("1.0") == order.filled_qty
    assert D("106") == order.avg_fill_price
    assert "v-c1" == order.venue_order_id
    assert [] == book.open()
    assert [f1.fill, f2.fill] == book.fills("bybit", "c1")


def test_fill_before_the_rest_answer_implies_acceptance_and_the_late_answer_is_dropped() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    f1 = filled("c1", "t1", "0.5")

    events = book.apply(f1)

    assert [OrderAccepted, OrderFilled] == [type(e) for e in events]
    assert () == book.apply(accepted())
    assert OrderStatus.PARTIALLY_FILLED == get(book).status


def test_duplicate_fill_is_dropped_and_counted() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(filled("c1", "t1", "0.5"))

    assert () == book.apply(filled("c1", "t1", "0.5"))
    assert D("0.5") == get(book).filled_qty
    stats = book.statistics()
    assert (1, 1) == (stats.fills, stats.duplicate_fills)


def test_report_for_an_order_we_do_not_know_creates_it() -> None:
    book = OrderBookkeeping()

    events = book.apply(report("ext1", OrderStatus.PARTIALLY_FILLED, "0.3", "99"))

    assert [OrderAccepted] == [type(e) for e in events]
    order = get(book, "ext1")
    assert (OrderStatus.PARTIALLY_FILLED, D("0.3"), D("99")) == (
        order.status,
        order.filled_qty,
        order.avg_fill_price,
    )
    assert [order] == book.open("bybit", SYM)


def test_a_market_order_is_recorded_as_ioc_from_every_source() -> None:
    # Placed with the default GTC, or read back as Binance (GTC) or Bybit (IOC) report a
    # market order, or says FOK (no venue runs a market order so): the same order reads
    # the same.
    book = OrderBookkeeping()
    mine = submitted("m1")
    order = attrs.evolve(mine.order, type=OrderType.MARKET, price=None)
    book.apply(attrs.evolve(mine, order=order))
    for cid, tif in (("m2", TimeInForce.GTC), ("m3", TimeInForce.IOC), ("m4", TimeInForce.FOK)):
        book.apply(
            attrs.evolve(
                report(cid, OrderStatus.FILLED, "1", "100"),
                type=OrderType.MARKET,
                price=None,
                time_in_force=tif,
            )
        )
    tifs = [get(book, cid).time_in_force for cid in ("m1", "m2", "m3", "m4")]
    assert [TimeInForce.IOC] * 4 == tifs


def test_unknown_outcome_is_resolved_by_a_later_report() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    lost = OrderStatusUnknown(venue="bybit", symbol=SYM, client_order_id="c1", reason="timeout")

    assert (lost,) == book.apply(lost)
    assert [get(book)] == book.unknown()
    events = book.apply(report("c1", OrderStatus.FILLED, "1", "100"))

    assert [OrderAccepted] == [type(e) for e in events]
    assert OrderStatus.FILLED == get(book).status
    assert [] == book.unknown()


def test_unknown_outcome_resolved_as_rejected_by_the_venue() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(OrderStatusUnknown(venue="bybit", symbol=SYM, client_order_id="c1", reason="5xx"))

    events = book.apply(report("c1", OrderStatus.REJECTED, reason="insufficient balance"))

    assert 1 == len(events)
    event = events[0]
    assert isinstance(event, OrderRejected)
    assert "insufficient balance" == event.reason
    assert OrderStatus.REJECTED == get(book).status


def test_unknown_after_acceptance_changes_nothing() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(accepted())

    lost = OrderStatusUnknown(venue="bybit", symbol=SYM, client_order_id="c1", reason="timeout")
    assert () == book.apply(lost)
    assert OrderStatus.NEW == get(book).status


def test_not_found_leaves_young_orders_and_ends_old_ones_with_a_reason() -> None:
    book = OrderBookkeeping()
    book.apply(submitted("c1", ts=1_000))
    book.apply(OrderStatusUnknown(venue="bybit", symbol=SYM, client_order_id="c1", reason="x"))
    book.apply(submitted("c2", ts=1_000))
    book.apply(accepted("c2"))

    assert () == book.not_found("bybit", "c1", now_ns=5_000, min_age_ns=10_000)
    (rejected,) = book.not_found("bybit", "c1", now_ns=20_000, min_age_ns=10_000)
    (expired,) = book.not_found("bybit", "c2", now_ns=20_000, min_age_ns=10_000)

    assert isinstance(rejected, OrderRejected)
    assert "not found at the venue" == rejected.reason
    assert isinstance(expired, OrderExpired)
    assert "not found at the venue" == expired.reason
    assert OrderStatus.REJECTED == get(book, "c1").status
    assert OrderStatus.EXPIRED == get(book, "c2").status
    assert () == book.not_found("bybit", "c1", now_ns=30_000)
    assert () == book.not_found("bybit", "nope", now_ns=30_000)


def test_terminal_state_absorbs_but_a_late_fill_still_counts() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(accepted())
    cancel = OrderCanceled(venue="bybit", symbol=SYM, client_order_id="c1", reason="user")

    assert (cancel,) == book.apply(cancel)
    assert () == book.apply(report("c1", OrderStatus.NEW))
    late = filled("c1", "t9", "0.2")
    assert (late,) == book.apply(late)

    order = get(book)
    assert OrderStatus.CANCELED == order.status
    assert D("0.2") == order.filled_qty


def test_cumulative_filled_never_decreases_on_a_stale_report() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(report("c1", OrderStatus.PARTIALLY_FILLED, "0.7", "100", ts=500))

    assert () == book.apply(report("c1", OrderStatus.PARTIALLY_FILLED, "0.2", "100", ts=450))
    assert D("0.7") == get(book).filled_qty


def test_report_and_fills_combine_without_double_counting() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(filled("c1", "t1", "0.3", "100"))
    book.apply(report("c1", OrderStatus.PARTIALLY_FILLED, "0.5", "104"))

    order = get(book)
    assert (D("0.5"), D("104")) == (order.filled_qty, order.avg_fill_price)
    book.apply(filled("c1", "t2", "0.2", "110"))
    assert D("0.5") == get(book).filled_qty
    book.apply(filled("c1", "t3", "0.5", "90"))
    order = get(book)
    assert (OrderStatus.FILLED, D("1.0")) == (order.status, order.filled_qty)
    assert D("97.0") == order.avg_fill_price


def test_rejection_after_fills_becomes_a_cancel() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(filled("c1", "t1", "0.3"))
    rejected = OrderRejected(venue="bybit", symbol=SYM, client_order_id="c1", reason="odd")

    events = book.apply(rejected)

    assert [OrderCanceled] == [type(e) for e in events]
    assert OrderStatus.CANCELED == get(book).status


def test_report_that_ends_an_order_publishes_the_terminal_event() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())

    events = book.apply(report("c1", OrderStatus.CANCELED, reason="EC_PostOnlyWillTakeLiquidity"))

    assert [OrderAccepted, OrderCanceled] == [type(e) for e in events]
    cancel = events[1]
    assert isinstance(cancel, OrderCanceled)
    assert "EC_PostOnlyWillTakeLiquidity" == cancel.reason


def test_amendment_changes_an_open_order_and_stale_ones_are_dropped() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(accepted())
    amend = OrderAmended(
        venue="bybit", symbol=SYM, client_order_id="c1", qty=D("2"), price=D("99"), ts_event_ns=600
    )
    older = OrderAmended(
        venue="bybit", symbol=SYM, client_order_id="c1", qty=D("3"), price=D("98"), ts_event_ns=550
    )

    assert (amend,) == book.apply(amend)
    assert () == book.apply(older)
    assert () == book.apply(report("c1", OrderStatus.NEW, qty="1", price="100", ts=500))
    order = get(book)
    assert (D("2"), D("99")) == (order.qty, order.price)

    (seen,) = book.apply(report("c1", OrderStatus.NEW, qty="1.5", price="99", ts=700))
    assert isinstance(seen, OrderAmended)
    assert D("1.5") == get(book).qty


def test_amending_down_to_the_filled_quantity_fills_the_order() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(filled("c1", "t1", "0.4"))
    amend = OrderAmended(venue="bybit", symbol=SYM, client_order_id="c1", qty=D("0.4"))

    assert (amend,) == book.apply(amend)
    assert OrderStatus.FILLED == get(book).status


def test_amendment_of_a_finished_order_is_ignored() -> None:
    book = OrderBookkeeping()
    book.apply(submitted())
    book.apply(report("c1", OrderStatus.FILLED, "1", "100"))
    amend = OrderAmended(venue="bybit", symbol=SYM, client_order_id="c1", qty=D("5"))

    assert () == book.apply(amend)


def test_fill_before_the_order_is_kept_and_counted_when_it_appears() -> None:
    book = OrderBookkeeping()
    early = filled("c1", "t1", "0.25")

    assert (early,) == book.apply(early)
    assert 1 == book.statistics().orphan_fills
    events = book.apply(submitted())

    assert [OrderSubmitted, OrderAccepted] == [type(e) for e in events]
    assert D("0.25") == get(book).filled_qty
    assert OrderStatus.PARTIALLY_FILLED == get(book).status


def test_a_fill_kept_under_the_venue_id_joins_the_order_that_shows_that_id() -> None:
    """Binance REST fills name only the venue's order id: one read before we knew whose
    it was is kept under ``#`` + that id, and counted into our order (once) when a
    report shows the order has that id; its copy with the client id is a duplicate."""
    book = OrderBookkeeping()
    book.apply(submitted("c1", qty="1"))
    book.apply(OrderStatusUnknown(venue="bybit", symbol=SYM, client_order_id="c1", reason="lost"))
    listed = filled("c1", "t1", "0.4")
    bare_fill = Fill(**{**attrs.asdict(listed.fill, recurse=False), "client_order_id": ""})
    bare = OrderFilled(
        venue="bybit", symbol=SYM, client_order_id="", venue_order_id="v-c1", fill=bare_fill
    )

    assert (bare,) == book.apply(bare)
    assert D(0) == get(book).filled_qty  # whose it is is not known yet
    events = book.apply(report("c1", OrderStatus.PARTIALLY_FILLED, "0.4", "100"))

    assert [OrderAccepted] == [type(e) for e in events]
    assert D("0.4") == get(book).filled_qty
    assert ["c1"] == [f.client_order_id for f in book.fills("bybit", "c1")]
    assert [] == book.fills("bybit", "#v-c1")
    assert () == book.apply(listed)  # the stream's copy: the same trade
    assert 1 == book.statistics().duplicate_fills
    assert D("0.4") == get(book).filled_qty
    more = filled("c1", "t2", "0.6")
    assert [OrderFilled] == [type(e) for e in book.apply(more)]
    assert OrderStatus.FILLED == get(book).status
    assert D(1) == sum((f.qty for f in book.fills("bybit", "c1")), D(0))


def test_events_a_reconciliation_report_makes_true_carry_its_source() -> None:
    book = OrderBookkeeping()
    book.apply(submitted("c1"))
    book.apply(submitted("c2"))
    tagged = attrs.evolve(report("c1", OrderStatus.CANCELED, reason="by another program"),
                          source="reconcile")  # fmt: skip
    events = book.apply(tagged)
    assert [OrderAccepted, OrderCanceled] == [type(e) for e in events]
    assert ["reconcile", "reconcile"] == [e.source for e in events]
    amended = attrs.evolve(report("c2", OrderStatus.NEW, qty="0.5"), source="reconcile")
    events = book.apply(amended)
    assert [OrderAccepted, OrderAmended] == sorted((type(e) for e in events), key=str)
    assert {"reconcile"} == {e.source for e in events}
    # A reconciliation's fill of an order still submitted: its acceptance is tagged too.
    book.apply(submitted("c3"))
    fill = filled("c3", "t3", "0.5")
    events = book.apply(attrs.evolve(fill, source="reconcile"))
    assert [OrderAccepted, OrderFilled] == [type(e) for e in events]
    assert "reconcile" == events[0].source
    # Live inputs stay untagged; so does ``not_found`` unless the caller says so.
    book.apply(submitted("c4", ts=0))
    assert [None] == [e.source for e in book.apply(report("c4", OrderStatus.NEW))]
    book.apply(submitted("c5", ts=0))
    ended = book.not_found("bybit", "c5", now_ns=10**10, source="reconcile")
    assert [(OrderRejected, "reconcile")] == [(type(e), e.source) for e in ended]


def test_order_without_client_id_is_keyed_by_venue_id() -> None:
    book = OrderBookkeeping()
    book.apply(report("", OrderStatus.NEW, voi="987"))
    cancel = OrderCanceled(venue="bybit", symbol=SYM, client_order_id="", venue_order_id="987")

    assert (cancel,) == book.apply(cancel)
    order = book.get("bybit", "#987")
    assert order is not None
    assert order == book.get_by_venue_id("bybit", "987")
    assert OrderStatus.CANCELED == order.status


def test_events_for_an_order_we_do_not_know_are_ignored_and_counted() -> None:
    book = OrderBookkeeping()

    assert () == book.apply(accepted("ghost"))
    assert 1 == book.statistics().ignored
    assert book.get("bybit", "ghost") is None


def test_forget_drops_orders_finished_before_a_time_with_their_fills() -> None:
    book = OrderBookkeeping()
    book.apply(submitted("c1"))
    book.apply(filled("c1", "t1", "1", ts=1_000))  # filled at 1,000
    book.apply(submitted("c2"))
    book.apply(accepted("c2"))  # open: never dropped
    book.apply(submitted("c3"))
    book.apply(OrderCanceled(venue="bybit", symbol=SYM, client_order_id="c3", ts_event_ns=3_000))

    dropped = book.forget(before_ns=2_000)

    assert ["t1"] == [f.trade_id for f in dropped]
    assert (None, None) == (book.get("bybit", "c1"), book.get_by_venue_id("bybit", "v-c1"))
    assert [] == book.fills("bybit", "c1")
    assert ["c2", "c3"] == sorted(o.client_order_id for o in book.all())
    assert 1 == book.statistics().forgotten
    # Its trade id went with it: the same fill again would be counted again (the
    # order-state service ignores listed fills from before what it keeps).
    assert 1 == len(book.apply(filled("c1", "t1", "1", ts=1_000)))
    assert 1 == book.statistics().orphan_fills

    assert [] == book.forget(before_ns=3_001)
    assert ["c2"] == [o.client_order_id for o in book.all()]
    assert [] == book.forget(before_ns=10**18)  # open orders stay
    assert ["c2"] == [o.client_order_id for o in book.all()]


def test_an_order_changed_after_it_finished_is_kept_until_that_change_is_old() -> None:
    book = OrderBookkeeping()
    for cid in ("c1", "c2"):
        book.apply(submitted(cid))
        book.apply(OrderCanceled(venue="bybit", symbol=SYM, client_order_id=cid, ts_event_ns=1_000))
    book.apply(filled("c1", "t1", "1", ts=5_000))  # a fill the venue told after the cancel

    # c1 finished first and changed last: the look stops at it, c2 waits behind it.
    assert [] == book.forget(before_ns=2_000)
    assert {"c1", "c2"} == {o.client_order_id for o in book.all()}

    assert ["t1"] == [f.trade_id for f in book.forget(before_ns=6_000)]
    assert [] == book.all()


def test_gaps_are_the_orders_reported_more_filled_than_their_fills_add_up_to() -> None:
    book = OrderBookkeeping()
    for cid in ("c1", "c2", "c3"):
        book.apply(submitted(cid))
    book.apply(report("c1", OrderStatus.PARTIALLY_FILLED, "0.5", "100"))
    book.apply(filled("c2", "t2", "1"))
    book.apply(report("c2", OrderStatus.FILLED, "1", "100"))  # its fill came first

    assert ["c1"] == [o.client_order_id for o in book.gaps("bybit")]
    assert [] == book.gaps("okx")

    book.apply(filled("c1", "t1", "0.5"))  # the fill catches up
    assert [] == book.gaps("bybit")


def test_filled_beyond_fills_is_what_reports_say_and_no_fill_brought_yet() -> None:
    book = OrderBookkeeping()
    for cid in ("c1", "c2"):
        book.apply(submitted(cid))
    book.apply(report("c1", OrderStatus.FILLED, "1", "100"))  # answered filled, no fill yet
    book.apply(report("c2", OrderStatus.PARTIALLY_FILLED, "0.5", "100"))
    book.apply(filled("c2", "t2", "0.25"))

    assert D("1.25") == book.filled_beyond_fills("bybit", SYM)
    assert D(0) == book.filled_beyond_fills("bybit", Symbol.parse("ETH-USDT-PERP"))
    assert D(0) == book.filled_beyond_fills("okx", SYM)

    book.apply(filled("c1", "t1", "1"))
    book.apply(filled("c2", "t3", "0.25"))
    assert D(0) == book.filled_beyond_fills("bybit", SYM)


def test_apply_refuses_what_is_not_an_order_input() -> None:
    with pytest.raises(TypeError):
        OrderBookkeeping().apply(object())  # type: ignore[arg-type]
