"""Order-path faults of the simulator, through the public API: the order is known
locally as the venue knows it, and it went out once.

Each venue's perpetual; the fault plan spoils the answer to the order placement
(``POST`` on the venue's order path) after the venue has acted on it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import OrderOutcomeUnknown, OrderStatus
from connector.sim.faults import FaultKind, FaultPlan
from tests.rig import PERP, VENUES, rig

TIMEOUT = 30
QTY = Decimal("0.01")
ORDER_PATHS = {
    "binance": "/fapi/v1/order",
    "bybit": "/v5/order/create",
    "okx": "/api/v5/trade/order",
}


@pytest.mark.parametrize("venue", VENUES)
async def test_a_5xx_after_the_venue_took_the_order_ends_as_the_venue_knows_it(
    venue: str,
) -> None:
    plan = FaultPlan().rest_error_after(
        1.0, status=503, path=ORDER_PATHS[venue], method="POST", venue=venue, max_count=1
    )
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan) as r:
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            with pytest.raises(OrderOutcomeUnknown) as lost:
                await r.c.place_order(venue, PERP, "buy", "limit", QTY, bid.price * Decimal("0.9"))
            cid = lost.value.client_order_id
            resolved = await r.c.orders.wait(cid, status=OrderStatus.NEW, timeout=10)
            at_venue = [o for o in r.truth.orders() if o.client_order_id == cid]
            await r.c.cancel_all(venue)

    assert [FaultKind.REST_ERROR_AFTER] == [f.kind for f in r.run.fault_log]
    assert OrderStatus.NEW == resolved.status
    assert 1 == len(at_venue)  # placed once, never resent
    assert resolved.venue_order_id == at_venue[0].order_id


@pytest.mark.parametrize("venue", VENUES)
async def test_a_late_acknowledgement_still_returns_the_accepted_order(venue: str) -> None:
    plan = FaultPlan().late_rest(
        1.0, 1.0, path=ORDER_PATHS[venue], method="POST", venue=venue, max_count=1
    )
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan) as r:
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            order = await r.c.place_order(
                venue, PERP, "buy", "limit", QTY, bid.price * Decimal("0.9")
            )
            at_venue = [o for o in r.truth.orders() if o.client_order_id == order.client_order_id]
            await r.c.cancel_all(venue)

    assert [FaultKind.REST_LATE] == [f.kind for f in r.run.fault_log]
    assert OrderStatus.NEW == order.status
    assert 1 == len(at_venue)


@pytest.mark.parametrize("venue", ["bybit", "okx"])
async def test_a_burst_of_orders_is_paced_to_the_venues_window_and_none_is_refused(
    venue: str,
) -> None:
    # Bybit counts 10 creates per rolling second per UID, OKX 60 per 2 s per instrument:
    # the command path must never send more in any window than the venue allows.
    count = 25 if venue == "bybit" else 70
    with trio.fail_after(TIMEOUT):
        async with rig(venue) as r:
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            price = bid.price * Decimal("0.9")
            placed = []

            async def place() -> None:
                placed.append(await r.c.place_order(venue, PERP, "buy", "limit", QTY, price))

            async with trio.open_nursery() as nursery:
                for _ in range(count):
                    nursery.start_soon(place)
            await r.c.cancel_all(venue)

    assert count == len(placed)
    assert {OrderStatus.NEW} == {o.status for o in placed}
