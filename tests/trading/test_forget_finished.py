"""A long run's memory stays bounded: finished orders and their fills leave ``c.orders``
and ``c.fills()`` ``[account] forget_finished_after`` seconds after their last change,
are never counted again when a reconciliation lists their fills once more, and stay in
the event store's history.

A ``Connector`` trading one perpetual on the simulator, its log in SQLite, forgets
after 1 s and reconciles every second (each listing reaches 5 s back: the fills of
the forgotten orders are listed again).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector import Connector, OrderStatus, sim
from connector.config import AccountConfig, Config, StorageConfig
from tests.rig import PERP, VENUES, first_bid, venue_configs

TIMEOUT = 30
QTY = Decimal("0.01")
FORGET_AFTER = 1.0


@pytest.mark.parametrize("venue", VENUES)
async def test_finished_orders_leave_memory_and_are_not_counted_again(
    venue: str, tmp_path: Path
) -> None:
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=(venue,), rate=50.0) as running:
            config = Config(
                venues=venue_configs(running, venue),
                storage=StorageConfig(kind="sqlite", sqlite_path=tmp_path / "events.sqlite"),
                account=AccountConfig(reconcile_interval=1.0, forget_finished_after=FORGET_AFTER),
            )
            async with Connector(config) as c:
                far = await first_bid(c, venue) * Decimal("0.9")
                bought = await c.place_order(venue, PERP, "buy", "market", QTY)
                bought = await c.orders.wait(bought.client_order_id, timeout=5)
                canceled = await c.place_order(venue, PERP, "buy", "limit", QTY, far)
                await c.cancel_order(venue, PERP, canceled.client_order_id)
                resting = await c.place_order(venue, PERP, "buy", "limit", QTY, far)
                position = c.positions.get(venue, PERP)
                fills = c.fills(venue)

                def forgotten() -> int:
                    return c.statistics().orders[venue].book.forgotten

                def reconciliations() -> int:
                    return c.statistics().accounts[venue].reconciliations

                # Looked at again at every book update (many a second).
                async with c.subscribe(f"orderbook.{venue}.>") as ticks:
                    while forgotten() < 2:
                        await ticks.receive()
                    seen = reconciliations()
                    while reconciliations() < seen + 2:
                        await ticks.receive()

                assert OrderStatus.FILLED == bought.status
                assert fills and {bought.client_order_id} == {f.client_order_id for f in fills}
                # Gone from memory; the open one stays.
                assert [None, None] == [c.orders.get(o.client_order_id) for o in (bought, canceled)]
                assert [resting.client_order_id] == [o.client_order_id for o in c.orders.all()]
                assert [] == c.fills(venue)
                # Listed again by the reconciliations since: not counted again.
                assert 2 == forgotten()
                assert position == c.positions.get(venue, PERP)
                assert "fills" not in c.statistics().accounts[venue].discrepancies
                # The store keeps the history.
                history = {o.client_order_id: o.status for o in c.orders.all(since=0)}
                assert OrderStatus.FILLED == history[bought.client_order_id]
                assert OrderStatus.CANCELED == history[canceled.client_order_id]
                assert {f.trade_id for f in fills} == {f.trade_id for f in c.fills(since=0)}
