"""Reconciliation diffs: venue state against ours, the events that close each difference."""

from __future__ import annotations

from decimal import Decimal

import attrs

from connector.model import (
    Balance,
    Fill,
    Order,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Position,
    Side,
    Symbol,
)
from connector.model.trading import OrderReport
from connector.oms.reconcile import (
    RECONCILE,
    reconcile,
    reconcile_balances,
    reconcile_fills,
    reconcile_orders,
    reconcile_positions,
)
from connector.oms.state import OrderBookkeeping

PERP = Symbol.parse("BTC-USDT-PERP")
SPOT = Symbol.parse("BTC-USDT-SPOT")
D = Decimal


def order(
    cid: str,
    *,
    status: OrderStatus = OrderStatus.NEW,
    filled: str = "0",
    ts: int = 0,
    symbol: Symbol = PERP,
    vid: str | None = None,
) -> Order:
    return Order(
        venue="okx", symbol=symbol, client_order_id=cid, side=Side.BUY, type=OrderType.LIMIT,
        qty=D("2"), price=D("100"), status=status, filled_qty=D(filled), ts_created_ns=ts,
        venue_order_id=vid,
    )  # fmt: skip


def report(
    cid: str,
    *,
    status: OrderStatus = OrderStatus.NEW,
    filled: str = "0",
    qty: str = "2",
    price: str = "100",
    vid: str | None = None,
) -> OrderReport:
    return OrderReport(
        venue="okx", symbol=PERP, client_order_id=cid, venue_order_id=vid or "v" + cid,
        side=Side.BUY, type=OrderType.LIMIT, qty=D(qty), price=D(price), status=status,
        filled_qty=D(filled), ts_event_ns=50,
    )  # fmt: skip


def fill(trade: str, *, cid: str = "a", vid: str = "va", ts: int = 10) -> Fill:
    return Fill(
        venue="okx", symbol=PERP, client_order_id=cid, venue_order_id=vid, trade_id=trade,
        side=Side.BUY, qty=D("1"), price=D("100"), ts_event_ns=ts,
    )  # fmt: skip


def test_orders_agreeing_give_nothing() -> None:
    local = [order("a")]
    diff = reconcile_orders("okx", local, [report("a")], known={"a": local[0]}.get, now_ns=10)
    assert diff.reports == () and diff.to_query == () and diff.discrepancies == {}


def test_an_order_we_do_not_know_comes_back_tagged() -> None:
    diff = reconcile_orders("okx", [], [report("x")], known=lambda _k: None, now_ns=10)
    assert [r.client_order_id for r in diff.reports] == ["x"]
    assert diff.reports[0].source == RECONCILE
    assert diff.discrepancies == {"order_unknown": 1}


def test_status_fill_and_amend_differences_are_counted() -> None:
    local = {"a": order("a", status=OrderStatus.UNKNOWN), "b": order("b")}
    venue = [report("a"), report("b", filled="1", price="101")]
    diff = reconcile_orders("okx", local.values(), venue, known=local.get, now_ns=10)
    assert [r.client_order_id for r in diff.reports] == ["a", "b"]
    assert diff.discrepancies == {"order_status": 2, "order_filled": 1, "order_amended": 1}


def test_open_orders_missing_at_the_venue_are_queried_once_old_enough() -> None:
    local = [order("old", ts=0), order("young", ts=90), order("spot", ts=0, symbol=SPOT)]
    diff = reconcile_orders(
        "okx",
        local,
        [],
        known=lambda _k: None,
        covers=lambda s: s == PERP,
        now_ns=100,
        min_age_ns=50,
    )
    assert diff.to_query == ("old",)
    assert diff.discrepancies == {"order_not_listed": 1}
    # The young one is named with the time until it is old enough, not counted.
    assert diff.young == (("young", 40),)
    assert reconcile(diff).young == (("young", 40),)


def test_a_young_unlisted_order_waits_at_most_the_window() -> None:
    local = [order("ahead", ts=130), order("listed", ts=90), order("done", ts=90,
             status=OrderStatus.CANCELED)]  # fmt: skip
    diff = reconcile_orders(
        "okx",
        local,
        [report("listed")],
        known={o.client_order_id: o for o in local}.get,
        now_ns=100,
        min_age_ns=50,
    )
    # Created "after" the listing (another clock's stamp): it waits the window, no more.
    assert diff.young == (("ahead", 50),)
    assert diff.to_query == () and diff.discrepancies == {}


def test_an_order_listed_without_client_id_matches_by_venue_id() -> None:
    local = [order("a", vid="v9")]
    venue = [report("", vid="v9")]
    diff = reconcile_orders("okx", local, venue, known=lambda _k: None, now_ns=10)
    assert diff.to_query == ()  # listed: not missing


def test_reports_applied_to_the_state_close_the_difference() -> None:
    book = OrderBookkeeping()
    pending = order("a", status=OrderStatus.SUBMITTED)
    book.apply(OrderSubmitted(venue="okx", symbol=PERP, client_order_id="a", order=pending))
    venue = [report("a", filled="1"), report("ext")]
    diff = reconcile_orders(
        "okx", book.open("okx"), venue, known=lambda k: book.get("okx", k), now_ns=1
    )
    for r in diff.reports:
        book.apply(r)
    again = reconcile_orders(
        "okx", book.open("okx"), venue, known=lambda k: book.get("okx", k), now_ns=1
    )
    assert again.discrepancies == {} and again.reports == ()
    assert book.get("okx", "a") is not None and book.get("okx", "a").filled_qty == D("1")  # type: ignore[union-attr]


def test_fills_not_seen_become_tagged_events_with_client_ids() -> None:
    seen = {("okx", PERP, "t1", Side.BUY)}
    fills = [fill("t2", cid="", vid="va", ts=30), fill("t1", ts=20), fill("t2", ts=30)]
    diff = reconcile_fills("okx", fills, seen=seen.__contains__, client_id_of={"va": "a"}.get)
    assert len(diff.events) == 1
    event = diff.events[0]
    assert isinstance(event, OrderFilled)
    assert event.client_order_id == "a" and event.fill.client_order_id == "a"
    assert event.source == RECONCILE and event.fill.source == RECONCILE
    assert diff.last_ts_ns == 30
    assert diff.discrepancies == {"fill_missing": 1}


def test_fills_applied_twice_count_once() -> None:
    book = OrderBookkeeping()
    diff = reconcile_fills("okx", [fill("t1")], seen=lambda _t: False, client_id_of=lambda _v: None)
    assert book.apply(diff.events[0])
    assert book.apply(diff.events[0]) == ()


def test_positions_differences_and_dropped_ones() -> None:
    eth = Symbol.parse("ETH-USDT-PERP")
    local = {
        PERP: Position(venue="okx", symbol=PERP, qty=D("1"), avg_entry_price=D("100")),
        eth: Position(venue="okx", symbol=eth, qty=D("-2"), avg_entry_price=D("10")),
    }
    venue = [Position(venue="okx", symbol=PERP, qty=D("1"), avg_entry_price=D("100"))]
    diff = reconcile_positions("okx", local, venue, ts_ns=7)
    assert [(p.symbol, p.qty, p.source) for p in diff.positions] == [(eth, D(0), RECONCILE)]
    venue = [Position(venue="okx", symbol=PERP, qty=D("1.5"), avg_entry_price=D("101"))]
    diff = reconcile_positions("okx", {PERP: local[PERP]}, venue)
    assert [p.qty for p in diff.positions] == [D("1.5")]
    assert diff.discrepancies == {"position": 1}
    flat = [Position(venue="okx", symbol=eth, qty=D(0))]
    assert reconcile_positions("okx", {}, flat).positions == ()


def test_a_venue_entry_price_sent_rounded_is_not_a_difference() -> None:
    # Three fills give ours to every digit; Bybit sends avgPrice to 10 decimals.
    ours = Position(venue="bybit", symbol=PERP, qty=D("0.003"), avg_entry_price=D("180017.35") / 3)
    rounded = Position(
        venue="bybit", symbol=PERP, qty=D("0.003"), avg_entry_price=D("60005.7833333333")
    )
    assert reconcile_positions("bybit", {PERP: ours}, [rounded]).discrepancies == {}
    moved = attrs.evolve(rounded, avg_entry_price=D("60005.7833333343"))
    assert reconcile_positions("bybit", {PERP: ours}, [moved]).discrepancies == {"position": 1}


def test_balances_differences_and_dropped_assets() -> None:
    local = {
        "USDT": Balance(venue="okx", asset="USDT", free=D("10"), locked=D("1")),
        "BTC": Balance(venue="okx", asset="BTC", free=D("1")),
    }
    venue = [
        Balance(venue="okx", asset="USDT", free=D("10"), locked=D("1")),
        Balance(venue="okx", asset="ETH", free=D("3")),
    ]
    diff = reconcile_balances("okx", local, venue, ts_ns=5)
    assert sorted((b.asset, b.total) for b in diff.balances) == [("BTC", D(0)), ("ETH", D(3))]
    assert all(b.source == RECONCILE for b in diff.balances)
    assert diff.discrepancies == {"balance": 2}


def test_reconcile_joins_the_parts_in_apply_order() -> None:
    nobody = lambda _k: None  # noqa: E731
    orders = reconcile_orders("okx", [order("gone")], [report("x")], known=nobody, now_ns=1)
    fills = reconcile_fills("okx", [fill("t1")], seen=lambda _t: False, client_id_of=nobody)
    balances = reconcile_balances("okx", {}, [Balance(venue="okx", asset="BTC", free=D(1))])
    result = reconcile(orders, fills, None, balances)
    assert [type(e).__name__ for e in result.events] == ["OrderReport", "OrderFilled", "Balance"]
    assert result.to_query == ("gone",)
    assert result.last_fill_ts_ns == 10
    assert result.total == 4
    assert result.discrepancies == {
        "order_unknown": 1, "order_not_listed": 1, "fill_missing": 1, "balance": 1,
    }  # fmt: skip
