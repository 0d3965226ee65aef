"""A fill whose push was lost is found by a reconciliation within seconds, not at the
next periodic one (60 s): the venue's report of the order shows it filled while no
fill was seen (a fill gap), and the account service reconciles after a grace time.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import OrderStatus
from connector.sim.faults import FaultPlan
from tests.rig import PERP, rig, until

QTY = Decimal("0.01")
FILL_STREAMS = {"bybit": "execution", "okx": "orders"}
"""The private stream that carries each venue's fills (the order itself is read back
over REST after the acknowledgement)."""


@pytest.mark.parametrize("venue", list(FILL_STREAMS))
async def test_a_lost_fill_push_is_reconciled_after_the_grace_time(venue: str) -> None:
    plan = FaultPlan().drop(1.0, venue=venue, stream=FILL_STREAMS[venue])  # every push
    with trio.fail_after(30):
        async with rig(venue, faults=plan) as r:  # periodic reconciliation: 60 s
            order = await r.c.place_order(venue, PERP, "buy", "market", QTY)
            done = await r.c.orders.wait(order.client_order_id, timeout=5)
            assert OrderStatus.FILLED == done.status
            await until(r, lambda: bool(r.c.fills(venue)), seconds=8)
            await until(r, lambda: r.stats().reconciliations >= 2)  # the gap's, done
            (fill,) = r.c.fills(venue)
            position = r.c.positions.get(venue, PERP)

    assert r.run.fault_log  # pushes were dropped
    assert "reconcile" == fill.source
    assert QTY == fill.qty
    assert position is not None and QTY == position.qty
    assert 1 <= r.stats().discrepancies.get("fill_missing", 0)
