"""Risk limits hold for requests in flight: amendments sent at once are each checked
against the others' new sizes, and the kill switch cancels an order whose placement
was still unanswered when it was thrown."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import RiskAlertKind, RiskRejected
from connector.config import RiskConfig
from connector.sim.faults import FaultPlan
from tests.rig import PERP, VENUES, buffered, first_bid, rig

TIMEOUT = 40


@pytest.mark.parametrize("venue", VENUES)
async def test_concurrent_amendments_cannot_pass_the_position_limit(venue: str) -> None:
    risk = RiskConfig(max_position_qty=Decimal("0.05"))
    with trio.fail_after(TIMEOUT):
        async with rig(venue, risk=risk) as r:
            c = r.c
            tick = c.instrument(venue, PERP).tick_size
            price = (await first_bid(c, venue) * Decimal("0.95") // tick) * tick
            orders = [
                await c.place_order(venue, PERP, "buy", "limit", Decimal("0.02"), price)
                for _ in range(2)
            ]
            outcomes: list[str] = []

            async def grow(client_order_id: str) -> None:
                try:
                    await c.amend_order(venue, PERP, client_order_id, qty=Decimal("0.03"))
                    outcomes.append("amended")
                except RiskRejected as refused:
                    outcomes.append(refused.limit)

            async with trio.open_nursery() as nursery:
                for order in orders:
                    nursery.start_soon(grow, order.client_order_id)
            worst = sum(o.qty - o.filled_qty for o in c.orders.open(venue))
            await c.cancel_all(venue)
    # 0.03 + 0.03 could make a 0.06 position: one of the two is refused.
    assert ["amended", "max_position_qty"] == sorted(outcomes)
    assert worst <= Decimal("0.05")


PLACE_PATHS = {
    "binance": "/fapi/v1/order",
    "bybit": "/v5/order/create",
    "okx": "/api/v5/trade/order",
}


@pytest.mark.parametrize("venue", VENUES)
async def test_the_kill_switch_cancels_an_order_whose_placement_was_in_flight(venue: str) -> None:
    # The placement's answer takes 2 s; the switch is thrown 0.3 s after it was sent.
    slow = FaultPlan(seed=1).slow_rest(1.0, 2.0, path=PLACE_PATHS[venue], venue=venue, max_count=1)
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=slow) as r, r.c.subscribe("risk.alert") as alerts:
            c = r.c
            tick = c.instrument(venue, PERP).tick_size
            price = (await first_bid(c, venue) * Decimal("0.95") // tick) * tick
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    c.place_order, venue, PERP, "buy", "limit", Decimal("0.01"), price
                )
                await trio.sleep(0.3)
                await c.risk.kill("test")
            left = r.truth.open_orders(r.truth.default_account())
            done = [a for a in buffered(alerts) if a.kind is RiskAlertKind.KILL_DONE]
    assert [] == left
    assert [(1, 0)] == [(a.canceled, a.failed) for a in done]
