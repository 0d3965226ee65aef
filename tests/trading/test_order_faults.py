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
from connector.sim.ws import ORDER_REPLIES
from tests.rig import PERP, VENUES, rig, until_order_sockets_ready

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


@pytest.mark.parametrize("order_entry", ["rest", "websocket"])
@pytest.mark.parametrize("venue", VENUES)
async def test_an_answer_later_than_the_configured_request_timeout_leaves_the_order_unknown(
    venue: str, order_entry: str, autojump_clock: trio.abc.Clock
) -> None:
    """``request_timeout`` (1 s here) bounds the wait for an order's answer, over REST
    and on the order socket alike: the venue answers after 3 s, the caller hears
    `OrderOutcomeUnknown` at 1 s, and the order is resolved as the venue knows it."""
    if order_entry == "rest":
        plan = FaultPlan().late_rest(
            1.0, 3.0, path=ORDER_PATHS[venue], method="POST", venue=venue, max_count=1
        )
    else:
        plan = FaultPlan().delay(1.0, 3.0, venue=venue, stream=ORDER_REPLIES, max_count=1)
    with trio.fail_after(TIMEOUT):  # virtual seconds
        async with rig(venue, faults=plan, order_entry=order_entry, request_timeout=1.0) as r:
            if order_entry == "websocket":
                await until_order_sockets_ready(r)
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            started = trio.current_time()
            with pytest.raises(OrderOutcomeUnknown) as lost:
                await r.c.place_order(venue, PERP, "buy", "limit", QTY, bid.price * Decimal("0.9"))
            waited = trio.current_time() - started
            cid = lost.value.client_order_id
            resolved = await r.c.orders.wait(cid, status=OrderStatus.NEW, timeout=10)
            at_venue = [o for o in r.truth.orders() if o.client_order_id == cid]
            await r.c.cancel_all(venue)

    assert 1 == len(r.run.fault_log)
    assert 1.0 <= waited < 2.0
    assert OrderStatus.NEW == resolved.status
    assert 1 == len(at_venue)  # placed once, never resent


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
