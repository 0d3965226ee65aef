"""A restart right after the venue ended an order unanswered: the new process does not
keep the order's stale status until the next periodic reconciliation.

A ``Connector`` trading one perpetual on the simulator, with its event log in SQLite,
places an order and cancels it; the venue cancels it, but the cancel's answer is lost
(a 503 after the venue acted) and so is the order stream's push, and the process is
closed at once: its log says ``new``. A new ``Connector`` on the same store starts
within the reconciliation's query window of the order (2 s: a venue may not list a
new order at once, so the start's reconciliation cannot judge it yet). The order
must read ``canceled`` within seconds of that, in ``c.orders`` and in the store.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import trio

from connector import Connector, OrderStatus, sim
from connector.config import AccountConfig, Config, StorageConfig
from connector.errors import TransientError
from connector.sim.faults import FaultPlan
from connector.store.open import open_store
from tests.rig import PERP, VENUES, first_bid, venue_configs

TIMEOUT = 40
QTY = Decimal("0.01")
WINDOW = 2.0
"""The reconciliation's query window (``OrderStateService``)."""
CANCELS = {
    "binance": ("/fapi/v1/order", "DELETE"),
    "bybit": ("/v5/order/cancel", "POST"),
    "okx": ("/api/v5/trade/cancel-order", "POST"),
}
"""Where each venue cancels a perpetual's order."""
ORDER_STREAMS = {"binance": "userData", "bybit": "order", "okx": "orders"}
"""The private stream that carries each venue's order updates."""


def _config(running: sim.SimRun, venue: str, path: Path) -> Config:
    return Config(
        venues=venue_configs(running, venue),
        storage=StorageConfig(kind="sqlite", sqlite_path=path, client_id_prefix="Rst"),
        # The periodic reconciliation must not be what resolves the order.
        account=AccountConfig(reconcile_interval=60.0),
    )


@pytest.mark.parametrize("venue", VENUES)
async def test_an_order_canceled_unanswered_just_before_a_restart_reads_canceled_at_once(
    venue: str, tmp_path: Path
) -> None:
    path, method = CANCELS[venue]
    plan = (
        FaultPlan()
        .drop(1.0, venue=venue, stream=ORDER_STREAMS[venue])
        .rest_error_after(1.0, status=503, path=path, method=method, venue=venue, max_count=1)
    )
    events = tmp_path / "events.sqlite"
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=(venue,), rate=50.0, faults=plan) as running:
            config = _config(running, venue, events)
            async with Connector(config) as c:
                bid = await first_bid(c, venue)
                order = await c.place_order(venue, PERP, "buy", "limit", QTY, bid * Decimal("0.9"))
                placed = trio.current_time()
                cid = order.client_order_id
                with pytest.raises(TransientError):
                    await c.cancel_order(venue, PERP, cid)
                logged = c.orders.get(cid)
            at_venue = [o for o in running.truth(venue).orders() if o.client_order_id == cid]

            async with Connector(config) as c:
                opened = trio.current_time()
                started = c.orders.get(cid)
                ended = await c.orders.wait(cid, status=OrderStatus.CANCELED, timeout=3.0)
                resolved = trio.current_time()
        store = await open_store(config.storage)
        try:
            stored = {o.client_order_id: o for o in await store.orders()}
        finally:
            await store.close()

    # The venue canceled the order; the first process never learned it.
    assert [OrderStatus.CANCELED] == [OrderStatus(o.state.value) for o in at_venue]
    assert logged is not None and OrderStatus.NEW == logged.status
    # The new process started within the window: its first reconciliation could not
    # judge the order, which it restored from the log as new.
    assert opened - placed < WINDOW, opened - placed
    assert started is not None and OrderStatus.NEW == started.status
    # Queried once old enough, not at the next periodic reconciliation (60 s).
    assert OrderStatus.CANCELED == ended.status
    assert resolved - placed < WINDOW + 1.0, resolved - placed
    assert OrderStatus.CANCELED == stored[cid].status
