"""The order-state service's seam: order news from any source is applied, logged, published."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector.bus import Bus
from connector.model import (
    Fill,
    OrderAccepted,
    OrderFilled,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
)
from connector.model.credentials import Credentials
from connector.model.trading import OrderReport
from connector.oms.tracking import OrderStateService, fills_since
from connector.store.log import MemoryEventLog
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

PERP = Symbol.parse("BTC-USDT-PERP")
D = Decimal


def service(bus: Bus, log: MemoryEventLog, changes: list[int]) -> OrderStateService:
    driver = driver_for("binance", credentials=Credentials(api_key="k", api_secret="s"))
    assert driver.trading is not None
    session = VenueSession(driver, symbols=(PERP,), channels=("book",), bus=bus, urls=dict)
    return OrderStateService(
        session, driver.trading, bus=bus, event_log=log, on_change=lambda: changes.append(1)
    )


def report(status: OrderStatus, filled: str = "0") -> OrderReport:
    return OrderReport(
        venue="binance",
        symbol=PERP,
        client_order_id="elsewhere1",
        venue_order_id="9",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D("2"),
        price=D("100"),
        status=status,
        filled_qty=D(filled),
        ts_event_ns=10,
    )


def fill(trade: str) -> Fill:
    return Fill(
        venue="binance",
        symbol=PERP,
        client_order_id="elsewhere1",
        venue_order_id="9",
        trade_id=trade,
        side=Side.BUY,
        qty=D("1"),
        price=D("100"),
        ts_event_ns=20,
    )


async def test_reports_and_fills_from_any_source_are_applied_once() -> None:
    bus, log, changes = Bus(), MemoryEventLog(), list[int]()
    state = service(bus, log, changes)
    async with bus.subscribe("order.binance.*") as orders, bus.subscribe("fill.>") as fills:
        # An order placed by another program shows up on the private stream.
        events = await state.apply([report(OrderStatus.NEW)])
        assert [OrderAccepted] == [type(e) for e in events]
        # Its fill comes twice (stream and reconciliation): counted once.
        assert [OrderFilled] == [type(e) for e in await state.apply([fill("t1")])]
        assert () == await state.apply([fill("t1")])
        assert () == await state.apply([report(OrderStatus.NEW)])
        published = [type(orders.receive_nowait()) for _ in range(2)]
        assert [OrderAccepted, OrderFilled] == published
        assert fill("t1") == fills.receive_nowait()
        with pytest.raises(trio.WouldBlock):
            orders.receive_nowait()

    order = state.book.get("binance", "elsewhere1")
    assert order is not None
    assert (OrderStatus.PARTIALLY_FILLED, D(1)) == (order.status, order.filled_qty)
    assert [fill("t1")] == state.fills(PERP)
    # Logged: the accepted event and the report that made it (a replay of the log
    # comes to the same state), then the fill.
    assert 3 == len(log) and 2 == len(changes)


def test_a_fills_cursor_stays_inside_a_venue_span_that_runs_from_it() -> None:
    """Bybit execution/list and Binance userTrades answer 7 days from startTime: a
    cursor 8 days old would list a window ending a day ago, so it moves up."""
    day, hour = 86_400 * 10**9, 3_600 * 10**9
    now = 1_800_000_000 * 10**9
    assert now - 7 * day + hour == fills_since(now - 8 * day, now, 7 * day)
    assert now - day == fills_since(now - day, now, 7 * day)
    assert now - 8 * day == fills_since(now - 8 * day, now, None)
    assert fills_since(None, now, 7 * day) is None
