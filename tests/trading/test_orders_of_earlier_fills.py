"""A new run learns the orders of the fills it reads at start (the venues' recent fills),
on every venue: ``c.orders.all()`` (``connector orders --all``) shows them."""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import Connector, OrderStatus, sim
from connector.config import Config
from tests.rig import PERP, VENUES, venue_configs

TIMEOUT = 40


@pytest.mark.parametrize("venue", VENUES)
async def test_a_new_run_knows_the_orders_of_the_fills_it_reads(venue: str) -> None:
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=(venue,), rate=50.0) as running:
            config = Config(venues=venue_configs(running, venue))
            async with Connector(config) as first:
                placed = await first.place_order(venue, PERP, "buy", "market", Decimal("0.01"))
                await first.orders.wait(placed.client_order_id, timeout=10)
            async with Connector(config) as second:
                fills = [f.client_order_id for f in second.fills(venue)]
                order = second.orders.get(placed.client_order_id)
    assert placed.client_order_id in fills
    assert order is not None and OrderStatus.FILLED == order.status
    assert placed.client_order_id in [o.client_order_id for o in second.orders.all()]
