"""Replay and projections agree with the live order state, even when a venue report moves
an order without an event of its own (found by the kill -9 test)."""

from __future__ import annotations

from decimal import Decimal

from connector.model import (
    Fill,
    Order,
    OrderAccepted,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    Side,
    Symbol,
)
from connector.model.trading import OrderReport
from connector.oms.state import OrderBookkeeping
from connector.store.projection import Projector
from connector.store.service import Replay

SYM = Symbol.parse("BTC-USDT-PERP")
CID = "KNine0VcjGbz2aS8c00000f"
QTY = Decimal("0.010")


def _sequence() -> list[OrderSubmitted | OrderFilled | OrderAccepted]:
    order = Order(
        venue="binance",
        symbol=SYM,
        client_order_id=CID,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=QTY,
        price=Decimal("60122.7"),
        ts_created_ns=1,
        ts_updated_ns=1,
    )
    # Reconciliation lists the fill (Binance userTrades carry no client id) before the
    # placement's late answer names the venue's id.
    fill = Fill(
        venue="binance",
        symbol=SYM,
        client_order_id="",
        venue_order_id="1000040",
        trade_id="70",
        side=Side.BUY,
        qty=QTY,
        price=Decimal("60002.7"),
        fee=Decimal("0.3"),
        fee_asset="USDT",
        ts_event_ns=5,
        source="reconcile",
    )
    return [
        OrderSubmitted(venue="binance", symbol=SYM, client_order_id=CID, order=order),
        OrderFilled(
            venue="binance",
            symbol=SYM,
            client_order_id="",
            venue_order_id="1000040",
            fill=fill,
            ts_event_ns=5,
            source="reconcile",
        ),
        OrderAccepted(
            venue="binance",
            symbol=SYM,
            client_order_id=CID,
            venue_order_id="1000040",
            ts_event_ns=5,
        ),
    ]


def _filled_report() -> OrderReport:
    return OrderReport(
        venue="binance",
        symbol=SYM,
        client_order_id=CID,
        venue_order_id="1000040",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=QTY,
        price=Decimal("60122.7"),
        status=OrderStatus.FILLED,
        filled_qty=QTY,
        avg_fill_price=Decimal("60002.7"),
        ts_event_ns=6,
    )


def test_a_report_that_moves_an_order_silently_is_replayed_and_projected() -> None:
    live = OrderBookkeeping()
    for event in _sequence():
        live.apply(event)
    report = _filled_report()
    assert () == live.apply(report)  # no event of its own...
    order = live.get("binance", CID)
    assert order is not None and OrderStatus.FILLED == order.status  # ...yet it moved

    # What OrderStateService logs: the events, then the report itself.
    logged = [*_sequence(), report]
    replay = Replay()
    for entry in logged:
        replay.apply(entry)
    projector = Projector()
    projector.apply(logged[:3])
    changes = projector.apply([report])

    replayed = replay.books["binance"].get("binance", CID)
    assert replayed == order
    assert [order] == [o for o in changes.orders if o.client_order_id == CID]


def test_a_report_that_moves_an_order_past_its_events_replays_to_the_same_state() -> None:
    # The process died after the intent was durable; the venue filled the order at once;
    # the query after the restart answers FILLED with no fill listed yet.
    (submitted, *_rest) = _sequence()
    live = OrderBookkeeping()
    live.apply(submitted)
    report = _filled_report()
    made = live.apply(report)
    assert [OrderAccepted] == [type(e) for e in made]  # the events say "new"...
    order = live.get("binance", CID)
    assert order is not None and OrderStatus.FILLED == order.status  # ...the order is filled

    logged = [submitted, *made, report]  # what OrderStateService logs
    replay = Replay()
    for entry in logged:
        replay.apply(entry)
    projector = Projector()
    changes = projector.apply(logged)
    replayed = replay.books["binance"].get("binance", CID)
    assert replayed is not None and OrderStatus.FILLED == replayed.status
    assert order.filled_qty == replayed.filled_qty
    (projected,) = [o for o in changes.orders if o.client_order_id == CID]
    assert OrderStatus.FILLED == projected.status
