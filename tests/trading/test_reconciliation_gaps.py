"""What only reconciliation can tell, told right: fills filed under their order, every
change published once and tagged, and lost fills found behind newer ones.

Each test runs ``tests.rig.rig`` (the simulator with a fault plan, a ``Connector``
trading one symbol on it). Where "another program" acts on the same account, it is
a second ``Connector`` with the same keys, as a second process of the user's would be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest
import trio

from connector import Connector, OrderOutcomeUnknown, OrderStatus, ServiceUnavailable
from connector.config import Config, VenueConfig
from connector.model import OrderEvent, Symbol
from connector.sim.bybit.trade_wire import exec_id
from connector.sim.faults import FaultPlan
from tests.e2e.helpers import sim_instrument
from tests.rig import PERP, VENUES, Rig, buffered, rig, until

QTY = Decimal("0.01")
SPOT = Symbol.parse("BTC-USDT-SPOT")

ORDER_STREAMS = {"binance": "userData", "bybit": "order", "okx": "orders"}
"""The private stream that carries each venue's order updates."""


@asynccontextmanager
async def another_program(r: Rig, symbol: Symbol) -> AsyncIterator[Connector]:
    """A second Connector on the same simulated account (another process of the user's)."""
    mine = r.c.config.venues[r.venue]
    venues = {
        name: VenueConfig(
            name=name,
            endpoint="custom",
            urls=r.run.urls[name],
            symbols=(symbol,),
            channels=("book",),
            credentials=mine.credentials,
        )
        if name == r.venue
        else VenueConfig(name=name, enabled=False)
        for name in VENUES
    }
    async with Connector(Config(venues=venues)) as other:
        yield other


def venue_trade_ids(r: Rig, symbol: Symbol, client_order_id: str) -> set[str]:
    """The trade ids the venue sends for one order's fills."""
    inst = sim_instrument(r.venue, symbol)
    truth = r.truth
    fills = truth.fills(truth.default_account(), inst.market, inst.native_id)
    return {
        exec_id(f.market, f.trade_id) if r.venue == "bybit" else f.trade_id
        for f in fills
        if f.client_order_id == client_order_id
    }


# ------------------------------------------------- fills filed under their order (Binance)


@pytest.mark.parametrize("symbol", [SPOT, PERP], ids=["spot", "linear"])
async def test_a_fill_listed_by_order_id_only_is_filed_under_its_client_order_id(
    symbol: Symbol,
) -> None:
    """Binance's ``myTrades`` / ``userTrades`` name the ``orderId`` only: a fill of an
    order we did not know (placed by another program while our user data stream was
    down) is filed under that order's client order id, and the order is known."""
    plan = FaultPlan().drop(1.0, venue="binance", stream="userData")
    with trio.fail_after(40):
        async with rig("binance", faults=plan, interval=1.0, symbol=symbol) as r:
            async with another_program(r, symbol) as other:
                theirs = await other.place_order("binance", symbol, "buy", "market", QTY)
            cid = theirs.client_order_id
            await until(r, lambda: any(f.trade_id in venue_trade_ids(r, symbol, cid)
                                       for f in r.c.fills("binance")), seconds=10)  # fmt: skip
            await until(r, lambda: r.stats().reconciliations >= 3)  # a few more, to be sure
            fills = [
                f for f in r.c.fills("binance") if f.trade_id in venue_trade_ids(r, symbol, cid)
            ]
            order = r.c.orders.get(cid)
    assert fills and {cid} == {f.client_order_id for f in fills}
    assert len(fills) == len({f.trade_id for f in fills}) == len(venue_trade_ids(r, symbol, cid))
    assert order is not None and OrderStatus.FILLED == order.status
    assert QTY == order.filled_qty == sum((f.qty for f in fills), Decimal(0))


async def test_a_fill_read_before_its_order_showed_its_venue_id_joins_the_order_once() -> None:
    """Our market order's placement answer is lost (a 503 after the venue acted), the user
    data stream is down, and the first reads of the order fail: whichever comes first
    (the fill listed by ``userTrades`` with only its ``orderId``, or the order's venue
    id), the fill ends up filed once under our client order id, and the order's filled
    quantity, fills and position agree with the venue."""
    path = "/fapi/v1/order"
    plan = (
        FaultPlan(seed=3)
        .drop(1.0, venue="binance", stream="userData")
        .rest_error_after(1.0, status=503, path=path, method="POST", venue="binance", max_count=1)
        .rest_error(1.0, status=503, path=path, method="GET", venue="binance", max_count=3)
    )
    published: list[object] = []
    with trio.fail_after(40):
        async with rig("binance", faults=plan, interval=1.0) as r:
            async with r.c.subscribe("fill.binance.>") as fills_topic:
                with pytest.raises(OrderOutcomeUnknown) as lost:
                    await r.c.place_order("binance", PERP, "buy", "market", QTY)
                cid = lost.value.client_order_id
                venue_ids = venue_trade_ids(r, PERP, cid)

                def settled() -> bool:
                    mine = [f for f in r.c.fills("binance") if f.trade_id in venue_ids]
                    order = r.c.orders.get(cid)
                    return (
                        bool(mine)
                        and all(f.client_order_id == cid for f in mine)
                        and order is not None
                        and order.status is OrderStatus.FILLED
                    )

                await until(r, settled, seconds=20)
                await until(r, lambda: r.stats().reconciliations >= 5)
                published.extend(buffered(fills_topic))
            order = r.c.orders.get(cid)
            mine = [f for f in r.c.fills("binance") if f.trade_id in venue_ids]
            position = r.c.positions.get("binance", PERP)
    assert order is not None and QTY == order.filled_qty
    assert venue_ids == {f.trade_id for f in mine} and len(mine) == len(venue_ids)
    assert sum((f.qty for f in mine), Decimal(0)) == QTY
    # Published once each, whatever name it was published under.
    assert sorted(venue_ids) == sorted(f.trade_id for f in published if f.trade_id in venue_ids)
    assert position is not None and QTY == position.qty


# ------------------------------------- every change published once, tagged (every venue)


@pytest.mark.parametrize("venue", ["binance", "bybit", "okx"])
async def test_changes_only_reconciliation_saw_are_published_once_and_tagged(venue: str) -> None:
    """Our order stream is down while another program cancels one of our orders, amends
    another and places one of its own: the reconciliation publishes one event for each
    change (``canceled``, ``amended``, ``accepted``), tagged ``source="reconcile"``, and
    writes them to the event log."""
    plan = FaultPlan().drop(1.0, venue=venue, stream=ORDER_STREAMS[venue])
    with trio.fail_after(45):
        async with rig(venue, faults=plan, interval=1.0) as r:
            c = r.c
            bid = c.order_book(venue, PERP).best_bid()
            assert bid is not None
            far = bid.price * Decimal("0.9")
            canceled = await c.place_order(venue, PERP, "buy", "limit", QTY, far)
            amended = await c.place_order(venue, PERP, "buy", "limit", 2 * QTY, far)
            events: list[object] = []
            async with c.subscribe(f"order.{venue}.>") as topic:
                async with another_program(r, PERP) as other:
                    await other.cancel_order(venue, PERP, canceled.client_order_id)
                    await other.amend_order(venue, PERP, amended.client_order_id, qty=QTY)
                    theirs = await other.place_order(venue, PERP, "buy", "limit", QTY, far)

                def learned() -> bool:
                    mine = c.orders.get(canceled.client_order_id)
                    changed = c.orders.get(amended.client_order_id)
                    placed = c.orders.get(theirs.client_order_id)
                    return (
                        mine is not None
                        and mine.status is OrderStatus.CANCELED
                        and changed is not None
                        and changed.qty == QTY
                        and placed is not None
                    )

                await until(r, learned, seconds=15)
                await until(r, lambda: r.stats().reconciliations >= 3)
                events.extend(buffered(topic))
            logged = [e.event for e in await c.event_log.read(0, limit=100_000)]

    def named(kind: str, cid: str, among: list[object]) -> list[OrderEvent]:
        return [
            e
            for e in among
            if isinstance(e, OrderEvent) and type(e).__name__ == kind and e.client_order_id == cid
        ]

    expected = [
        ("OrderCanceled", canceled.client_order_id),
        ("OrderAmended", amended.client_order_id),
        ("OrderAccepted", theirs.client_order_id),
    ]
    for kind, cid in expected:
        got = named(kind, cid, list(events))
        assert 1 == len(got), (kind, got, events)
        assert "reconcile" == got[0].source, got
        assert [e.source for e in named(kind, cid, logged)] == ["reconcile"], kind
    # Nothing else was published for those orders (no repeats, no other change).
    for _kind, cid in expected:
        assert len([e for e in events if e.client_order_id == cid]) == 1, cid


# ------------------------------------------------ a lost fill behind newer ones (Bybit, OKX)


@pytest.mark.parametrize(("venue", "stream"), [("bybit", "execution"), ("okx", "orders")])
async def test_a_lost_fill_behind_a_full_page_of_newer_fills_is_found(
    venue: str, stream: str
) -> None:
    """The fill pushes are lost: order A's, and those of order B, placed right after,
    which sweeps the book with more fills than one page of the venue's fill list holds
    (Bybit's ``/v5/execution/list`` and OKX's ``/trade/fills``: newest first, 100 a
    page). The reconciliation the fill gap asks for still finds A's fill, once, under
    A's id."""
    plan = FaultPlan().drop(1.0, venue=venue, stream=stream)
    with trio.fail_after(60):
        async with rig(venue, faults=plan) as r:  # periodic reconciliation: 60 s
            a = await r.c.place_order(venue, PERP, "buy", "market", QTY)
            b = await r.c.place_order(venue, PERP, "buy", "market", Decimal("3"))
            a_ids = venue_trade_ids(r, PERP, a.client_order_id)
            b_ids = venue_trade_ids(r, PERP, b.client_order_id)
            assert len(b_ids) > 100  # more than a page newer than A's fill
            assert r.run.fault_log  # the pushes were lost

            def found() -> bool:
                return a_ids <= {f.trade_id for f in r.c.fills(venue)}

            await until(r, found, seconds=20)
            mine = [f for f in r.c.fills(venue) if f.trade_id in a_ids]
            order = r.c.orders.get(a.client_order_id)
    assert {a.client_order_id} == {f.client_order_id for f in mine}
    assert len(mine) == len(a_ids)
    assert order is not None and order.filled_qty == sum((f.qty for f in mine), Decimal(0))


async def test_new_orders_wait_for_the_first_reconciliation(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The open-orders listing fails at start and once more: until a reconciliation has
    completed, the venue's open orders, positions and balances are unknown, so a new
    order (reduce-only too) is refused with a clear error and nothing is sent. Once a
    retry succeeds, orders are taken."""
    plan = FaultPlan().rest_error(
        1.0, status=503, path="/fapi/v1/openOrders", method="GET", venue="binance", max_count=2
    )
    with trio.fail_after(60):  # virtual seconds
        async with rig("binance", faults=plan) as r:
            bid = r.c.order_book("binance", PERP).best_bid()
            assert bid is not None
            price = bid.price * Decimal("0.9")
            assert 0 == r.stats().reconciliations
            for reduce_only in (False, True):
                with pytest.raises(ServiceUnavailable, match="not reconciled with the venue"):
                    await r.c.place_order(
                        "binance", PERP, "buy", "limit", QTY, price, reduce_only=reduce_only
                    )
            assert [] == r.c.orders.all()
            assert [] == r.truth.orders()  # nothing reached the venue
            binance_line = "venue binance: breaker closed"
            line = _venue_line(r, binance_line)
            assert "account not reconciled yet: new orders refused" in line
            assert "(the last attempt failed: " in line and "-1001" in line  # why, named
            while r.stats().reconciliations == 0:  # noqa: ASYNC110 (virtual time)
                await trio.sleep(0.5)
            assert 2 == r.stats().reconcile_failures
            assert _venue_line(r, binance_line).endswith("; account reconciled")
            order = await r.c.place_order("binance", PERP, "buy", "limit", QTY, price)
            assert OrderStatus.NEW == order.status


def _venue_line(r: Rig, start: str) -> str:
    """The line of ``connector status``'s text that starts so."""
    return next(line for line in r.c.status().render().splitlines() if line.startswith(start))
