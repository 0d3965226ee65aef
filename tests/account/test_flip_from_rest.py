"""A position that flips through zero, its fills learned by reconciliation (REST) rather
than the private stream, realises the venue's P&L.

OKX ``/trade/fills`` and Bybit ``/v5/execution/list`` list fills newest first (as the
simulator does) and a market order that sweeps the book fills in several trades of one
millisecond: applied in the listing's order, the wrong fills would close the long.
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
"""The private stream that carries each venue's fills (dropped: fills come by REST)."""


@pytest.mark.parametrize("venue", list(FILL_STREAMS))
async def test_a_flip_learned_from_the_fills_listing_realises_the_venues_pnl(venue: str) -> None:
    plan = FaultPlan().drop(1.0, venue=venue, stream=FILL_STREAMS[venue])  # every push
    with trio.fail_after(60):
        async with rig(venue, faults=plan, interval=1.0) as r:
            for side, qty in (("buy", 20 * QTY), ("sell", 50 * QTY)):
                order = await r.c.place_order(venue, PERP, side, "market", qty)
                done = await r.c.orders.wait(order.client_order_id, timeout=10)
                assert OrderStatus.FILLED == done.status
                await until(r, lambda: len(r.c.fills(venue)) == len(r.truth.fills()), seconds=20)
            held = r.c.positions.get(venue, PERP)
            (truth,) = r.truth.positions()
            fills = r.truth.fills()

    sweep = [f for f in fills if f.order_id == fills[-1].order_id]
    assert len({f.price for f in sweep}) > 1 and len({f.ts_ms for f in sweep}) == 1
    assert {"reconcile"} == {f.source for f in r.c.fills(venue)}
    assert held is not None and -30 * QTY == held.qty == truth.size
    # The simulator keeps prices to 10 decimals: P&L agrees to 1e-8.
    assert abs(truth.realised_pnl - held.realized_pnl) < Decimal("1e-8"), (truth, held)
