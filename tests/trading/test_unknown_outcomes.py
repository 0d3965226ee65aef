"""Lost placement answers: the order is ``unknown``, resolved by client order id, never resent.

The simulated venue is reached in memory (``connector.testing.sim_transports``)
through a transport that loses what a test says: the answer after the venue acted
(a timeout), or the request itself (the simulator's fault plan answers 503 before
acting). The services are the ones a ``Connector`` runs, with short query windows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import attrs
import httpx
import pytest
import trio

from connector import OrderOutcomeUnknown, OrderStatus, sim
from connector.bus import Bus
from connector.config import RiskConfig
from connector.model import OrderSubmitted, Symbol
from connector.model.credentials import Credentials
from connector.net.clock import ClockSample, ClockSync
from connector.oms.ids import ClientOrderIds
from connector.oms.service import OrderService
from connector.oms.tracking import OrderStateService
from connector.risk.service import RiskService
from connector.sim.accounts import DEFAULT_CREDENTIALS
from connector.sim.faults import FaultPlan
from connector.store.log import MemoryEventLog
from connector.testing import sim_transports
from connector.trading import Trading
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession

TIMEOUT = 20
PERP = Symbol.parse("BTC-USDT-PERP")
QTY = Decimal("0.01")
ORDER_PATHS = {
    "binance": "/fapi/v1/order",
    "bybit": "/v5/order/create",
    "okx": "/api/v5/trade/order",
}
"""Where each venue places a perpetual's orders (``POST``)."""
VENUES = list(ORDER_PATHS)


class Lossy(httpx.AsyncBaseTransport):
    """Forwards every request; the answers of the first ``lose`` order placements are
    lost after the venue acted on them (the client sees a read timeout)."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, path: str, lose: int, hang: bool = False
    ) -> None:
        self._inner = inner
        self._path = path
        self.lose = lose
        self.hang = hang
        self.placements = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        placing = request.method == "POST" and request.url.path == self._path
        if placing:
            self.placements += 1
        response = await self._inner.handle_async_request(request)
        if placing and self.lose > 0:
            self.lose -= 1
            await response.aread()
            if self.hang:
                await trio.sleep_forever()  # the answer never comes
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


@attrs.frozen
class Rig:
    trading: Trading
    session: VenueSession
    state: OrderStateService
    log: MemoryEventLog
    transport: Lossy
    bid: Decimal


@asynccontextmanager
async def rig(
    venue: str,
    *,
    lose: int = 0,
    hang: bool = False,
    faults: FaultPlan | None = None,
    first_query_after: float = 0.05,
) -> AsyncIterator[Rig]:
    bus = Bus()
    async with sim.run(venues=(venue,), rate=50.0, faults=faults) as simulated:
        transports = sim_transports(simulated)
        lossy = Lossy(transports.http, ORDER_PATHS[venue], lose, hang)
        demo = DEFAULT_CREDENTIALS[venue]
        keys = Credentials(
            api_key=demo.api_key, api_secret=demo.secret, passphrase=demo.passphrase or None
        )
        driver = driver_for(venue, credentials=keys)
        assert driver.trading is not None
        session = VenueSession(
            driver,
            symbols=(PERP,),
            channels=("book",),
            bus=bus,
            urls=lambda: simulated.urls[venue],
            transport=lossy,
            ws_transport=transports.ws,
        )
        risk = RiskService(RiskConfig(), bus)
        trading = Trading(risk)
        log = MemoryEventLog()
        state = OrderStateService(
            session,
            driver.trading,
            bus=bus,
            event_log=log,
            on_change=trading.changed,
            first_query_after=first_query_after,
            max_backoff=0.2,
            query_window=0.3,
        )
        ids = ClientOrderIds("T", start_ns=1_700_000_000_000_000_000, salt=7)
        orders = OrderService(state, ids=ids, next_change=trading.next_change, risk=risk)
        trading.add(orders)
        async with (
            bus.subscribe(f"orderbook.{venue}.>", buffer=10_000) as books,
            trio.open_nursery() as nursery,
        ):
            await nursery.start(session.supervisor.run)
            await nursery.start(state.run)
            await nursery.start(orders.run)
            while True:
                found = session.feed.book(PERP)
                if found is not None and found.state.valid and found.book.best_bid() is not None:
                    bid = found.book.best_bid()
                    assert bid is not None
                    break
                await books.receive()
            yield Rig(
                trading=trading,
                session=session,
                state=state,
                log=log,
                transport=lossy,
                bid=bid.price,
            )
            nursery.cancel_scope.cancel()
        await session.context.aclose()


async def submitted(log: MemoryEventLog, client_order_id: str) -> int:
    entries = await log.read(0, limit=10_000)
    return sum(
        1
        for e in entries
        if isinstance(e.event, OrderSubmitted) and e.event.client_order_id == client_order_id
    )


@pytest.mark.parametrize("venue", VENUES)
async def test_an_answer_lost_after_the_venue_placed_the_order_resolves_to_new(venue: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(venue, lose=1) as r:
            with pytest.raises(OrderOutcomeUnknown) as lost:
                await r.trading.place_order(
                    venue, PERP, "buy", "limit", QTY, r.bid * Decimal("0.9")
                )
            cid = lost.value.client_order_id
            order = r.trading.orders.get(cid)
            assert order is not None and OrderStatus.UNKNOWN == order.status

            resolved = await r.trading.orders.wait(cid, status="new", timeout=5)
            assert OrderStatus.NEW == resolved.status
            assert resolved.venue_order_id
            assert 1 == r.state.statistics().resolved

            # The venue has it once, as we do: reconciliation finds nothing to fix.
            result = await r.state.reconcile()
            assert {} == dict(result.discrepancies)
            assert 1 == r.transport.placements  # never resent
            assert 1 == await submitted(r.log, cid)
            await r.trading.cancel_order(venue, PERP, cid)


@pytest.mark.parametrize("venue", VENUES)
async def test_a_market_order_whose_answer_was_lost_resolves_filled(venue: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(venue, lose=1) as r:
            with pytest.raises(OrderOutcomeUnknown) as lost:
                await r.trading.place_order(venue, PERP, "buy", "market", QTY)
            resolved = await r.trading.orders.wait(lost.value.client_order_id, timeout=5)
            assert OrderStatus.FILLED == resolved.status
            assert QTY == resolved.filled_qty
            assert 1 == r.transport.placements
            await r.trading.place_order(venue, PERP, "sell", "market", QTY, reduce_only=True)


@pytest.mark.parametrize("venue", VENUES)
async def test_a_placement_refused_with_503_before_the_venue_acted_ends_rejected(
    venue: str,
) -> None:
    plan = FaultPlan().rest_error(
        1.0, status=503, path=ORDER_PATHS[venue], venue=venue, max_count=1
    )
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan) as r:
            with pytest.raises(OrderOutcomeUnknown) as lost:
                await r.trading.place_order(
                    venue, PERP, "buy", "limit", QTY, r.bid * Decimal("0.9")
                )
            cid = lost.value.client_order_id
            ended = await r.trading.orders.wait(cid, timeout=5)
            assert OrderStatus.REJECTED == ended.status
            assert 1 == r.state.statistics().not_found
            assert 1 == r.transport.placements  # the query said "no such order": not resent
            assert [] == r.trading.orders.open()
            # The next order goes through.
            order = await r.trading.place_order(
                venue, PERP, "buy", "limit", QTY, r.bid * Decimal("0.9")
            )
            assert OrderStatus.NEW == order.status
            await r.trading.cancel_all(venue)


@pytest.mark.parametrize("venue", VENUES)
async def test_reconciliation_finds_the_fill_of_an_order_whose_answer_was_lost(venue: str) -> None:
    with trio.fail_after(TIMEOUT):
        # No background query within the test: reconciliation alone must close the gap.
        async with rig(venue, lose=1, first_query_after=60) as r:
            with pytest.raises(OrderOutcomeUnknown) as lost:
                await r.trading.place_order(venue, PERP, "buy", "market", QTY)
            cid = lost.value.client_order_id
            await trio.sleep(0.35)  # past the query window: "not listed" counts
            result = await r.state.reconcile()
            assert {"fill_missing": 1, "order_not_listed": 1} == dict(result.discrepancies)
            order = r.trading.orders.get(cid)
            assert order is not None
            assert (OrderStatus.FILLED, QTY) == (order.status, order.filled_qty)
            [fill] = r.trading.fills(venue)
            assert (cid, "reconcile") == (fill.client_order_id, fill.source)
            # Run again: nothing left to close, the fill is not counted twice.
            again = await r.state.reconcile()
            assert {} == dict(again.discrepancies)
            assert 1 == len(r.trading.fills(venue))
            await r.trading.place_order(venue, PERP, "sell", "market", QTY, reduce_only=True)


async def test_a_placement_cancelled_by_its_caller_after_sending_is_followed() -> None:
    with trio.fail_after(TIMEOUT):
        async with rig("binance", lose=1, hang=True) as r:
            with trio.move_on_after(0.3) as waited:
                await r.trading.place_order(
                    "binance", PERP, "buy", "limit", QTY, r.bid * Decimal("0.9")
                )
            assert waited.cancelled_caught
            [order] = r.trading.orders.all()
            assert OrderStatus.UNKNOWN == order.status
            resolved = await r.trading.orders.wait(order.client_order_id, "new", timeout=5)
            assert OrderStatus.NEW == resolved.status
            assert 1 == r.transport.placements
            await r.trading.cancel_all("binance")


async def test_a_timestamp_rejection_resyncs_the_clock_and_sends_the_order_once_more() -> None:
    with trio.fail_after(TIMEOUT):
        async with rig("binance") as r:
            context, rest = r.session.context, r.session.driver.rest
            market = r.session.markets()[0]
            readings = 0

            async def reading() -> ClockSample:
                # The first reading is a minute ahead (and slow, so the next, right
                # one wins the clock's filter); later ones are the venue's.
                nonlocal readings
                readings += 1
                response = await context.call(market, rest.server_time_call(market))
                skew = 60_000_000_000 if readings == 1 else 0
                return ClockSample(
                    sent_ns=response.sent_ns - (50_000_000 if readings == 1 else 0),
                    server_ns=rest.parse_server_time(response.body) + skew,
                    received_ns=response.received_ns,
                )

            clock = ClockSync("binance", reading)
            await clock.sample()
            context.clock = clock
            order = await r.trading.place_order(
                "binance", PERP, "buy", "limit", QTY, r.bid * Decimal("0.9")
            )
            assert OrderStatus.NEW == order.status
            assert 2 == readings  # the skewed one, and the resync after -1021
            assert 2 == r.transport.placements  # refused once for its time, then placed
            assert 1 == await submitted(r.log, order.client_order_id)
            await r.trading.cancel_all("binance")
