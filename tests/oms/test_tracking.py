"""The order-state service's seam: order news from any source is applied, logged, published."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import sim
from connector.bus import Bus
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
from connector.model.credentials import Credentials
from connector.model.trading import OrderReport
from connector.oms.tracking import OrderStateService, fills_since
from connector.store.log import MemoryEventLog
from connector.testing import sim_transports
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession
from tests.account.helpers import demo_credentials

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


def _ours(cid: str, ts_ns: int) -> Order:
    return Order(
        venue="binance", symbol=PERP, client_order_id=cid, side=Side.BUY, type=OrderType.LIMIT,
        qty=D("0.01"), price=D("1000"), ts_created_ns=ts_ns, ts_updated_ns=ts_ns,
    )  # fmt: skip


def _report(cid: str, status: OrderStatus) -> OrderReport:
    return OrderReport(
        venue="binance", symbol=PERP, client_order_id=cid, venue_order_id="v" + cid,
        side=Side.BUY, type=OrderType.LIMIT, qty=D("0.01"), price=D("1000"), status=status,
        ts_event_ns=1,
    )  # fmt: skip


async def test_an_unlisted_order_too_young_to_judge_is_queried_the_moment_it_is_old_enough(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A reconciliation finds three open orders of ours the venue does not list, each
    0.5 s old (too young to judge: the window is 2 s): one the venue never had, one
    that ends meanwhile, one still ``submitted``. Only the first is queried, and not
    before it is 2 s old; the venue's "no such order" then ends it. Until then it
    counts as being resolved (``Persistence.settled`` waits for it)."""
    bus, changes = Bus(), list[int]()
    venue = "binance"
    async with sim.run(venues=(venue,), rate=20.0) as simulated:
        transports = sim_transports(simulated)
        driver = driver_for(venue, credentials=demo_credentials(venue))
        assert driver.trading is not None
        session = VenueSession(
            driver,
            symbols=(PERP,),
            channels=("book",),
            bus=bus,
            urls=lambda: simulated.urls[venue],
            transport=transports.http,
            ws_transport=transports.ws,
        )
        state = OrderStateService(
            session,
            driver.trading,
            bus=bus,
            event_log=MemoryEventLog(),
            on_change=lambda: changes.append(1),
            wall_clock_ns=lambda: int(trio.current_time() * 1e9),
        )
        with trio.fail_after(60):  # virtual seconds
            async with trio.open_nursery() as nursery:
                await nursery.start(session.supervisor.run)
                await nursery.start(state.run)
                created = int((trio.current_time() - 0.5) * 1e9)
                for cid in ("gone", "ended", "pending"):
                    order = _ours(cid, created)
                    submitted = OrderSubmitted(
                        venue=venue, symbol=PERP, client_order_id=cid, order=order,
                        ts_event_ns=created,
                    )  # fmt: skip
                    await state.apply([submitted])
                await state.apply([_report("gone", OrderStatus.NEW)])
                await state.apply([_report("ended", OrderStatus.NEW)])
                start = trio.current_time()
                result = await state.reconcile(fills=False)
                assert {"gone", "ended", "pending"} == {key for key, _ns in result.young}
                assert {"gone", "ended"} == state.resolving
                await trio.sleep_until(start + 1.45)
                assert 0 == state.statistics().queries
                # The stream says it ended: nothing to ask.
                await state.apply([_report("ended", OrderStatus.CANCELED)])
                assert {"gone"} == state.resolving
                await trio.sleep_until(start + 1.55)
                assert 1 == state.statistics().queries
                assert {"gone"} == state.resolving
                while state.resolving:  # noqa: ASYNC110 (virtual time; no event to wait on)
                    await trio.sleep(0.1)
                nursery.cancel_scope.cancel()
        await session.context.aclose()

    gone = state.book.get(venue, "gone")
    assert gone is not None and OrderStatus.EXPIRED == gone.status  # it was open
    assert 1 == state.statistics().not_found
    ended = state.book.get(venue, "ended")
    assert ended is not None and OrderStatus.CANCELED == ended.status
    pending = state.book.get(venue, "pending")
    assert pending is not None and OrderStatus.SUBMITTED == pending.status
