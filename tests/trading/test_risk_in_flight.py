"""Risk limits hold for requests in flight: amendments sent at once are each checked
against the others' new sizes."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import RiskRejected
from connector.config import RiskConfig
from tests.rig import PERP, VENUES, first_bid, rig

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
