"""Order requests the venue refuses for its rate limit, through the public API: the
venue did not act on them, so they wait out its ``retry_after`` and go again (at most
twice); refused every time, the placement ends ``rejected`` with ``RateLimited``.

Each venue's perpetual; the simulator's ``rest_rate_limited`` fault answers the
venue's own reply (Binance HTTP 429 -1003 with ``Retry-After``, Bybit retCode 10006
in an HTTP 200, OKX HTTP 429 50011).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import trio

from connector import Order, OrderStatus, RateLimited
from connector.sim.faults import FaultKind, FaultPlan
from tests.rig import PERP, VENUES, rig, until

TIMEOUT = 60  # virtual seconds
QTY = Decimal("0.01")
PLACE_PATHS = {
    "binance": "/fapi/v1/order",
    "bybit": "/v5/order/create",
    "okx": "/api/v5/trade/order",
}
CANCEL_PATHS = {
    "binance": ("/fapi/v1/order", "DELETE"),
    "bybit": ("/v5/order/cancel", "POST"),
    "okx": ("/api/v5/trade/cancel-order", "POST"),
}


@pytest.mark.parametrize("venue", VENUES)
async def test_a_placement_refused_once_for_the_venues_rate_limit_is_placed_once_when_sent_again(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    plan = FaultPlan().rest_rate_limited(
        1.0, retry_after=1.0, path=PLACE_PATHS[venue], method="POST", venue=venue, max_count=1
    )
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan) as r:
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            order = await r.c.place_order(
                venue, PERP, "buy", "limit", QTY, bid.price * Decimal("0.9")
            )
            at_venue = [o for o in r.truth.orders() if o.client_order_id == order.client_order_id]
            retries = r.c.statistics().orders[venue].rate_limit_retries
            await r.c.cancel_all(venue)

    assert [FaultKind.REST_429] == [f.kind for f in r.run.fault_log]
    assert OrderStatus.NEW == order.status
    assert 1 == len(at_venue)
    assert 1 == retries


@pytest.mark.parametrize("venue", VENUES)
async def test_a_placement_refused_for_the_venues_rate_limit_every_time_is_rejected(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    plan = FaultPlan().rest_rate_limited(
        1.0, retry_after=1.0, path=PLACE_PATHS[venue], method="POST", venue=venue
    )
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan) as r:
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            with pytest.raises(RateLimited):
                await r.c.place_order(
                    venue,
                    PERP,
                    "buy",
                    "limit",
                    QTY,
                    bid.price * Decimal("0.9"),
                    client_order_id="limited1",
                )
            order = r.c.orders.get("limited1")
            at_venue = [o for o in r.truth.orders() if o.client_order_id == "limited1"]
            retries = r.c.statistics().orders[venue].rate_limit_retries

    assert order is not None
    assert OrderStatus.REJECTED == order.status
    assert [] == at_venue
    sent = len(r.run.fault_log)
    assert 0 < retries == sent - 1  # each refusal but the last was sent again


@pytest.mark.parametrize("venue", VENUES)
async def test_a_cancel_refused_once_for_the_venues_rate_limit_cancels_when_sent_again(
    venue: str, autojump_clock: trio.abc.Clock
) -> None:
    path, method = CANCEL_PATHS[venue]
    plan = FaultPlan().rest_rate_limited(
        1.0, retry_after=1.0, path=path, method=method, venue=venue, max_count=1
    )
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan) as r:
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            placed = await r.c.place_order(
                venue, PERP, "buy", "limit", QTY, bid.price * Decimal("0.9")
            )
            canceled = await r.c.cancel_order(venue, PERP, placed.client_order_id)
            at_venue = [o for o in r.truth.orders() if o.client_order_id == placed.client_order_id]
            retries = r.c.statistics().orders[venue].rate_limit_retries

    assert [FaultKind.REST_429] == [f.kind for f in r.run.fault_log]
    assert OrderStatus.CANCELED == canceled.status
    assert [OrderStatus.CANCELED] == [OrderStatus(o.state.value) for o in at_venue]
    assert 1 == retries


async def test_a_placement_our_own_limiter_refuses_is_not_sent_again(
    autojump_clock: trio.abc.Clock,
) -> None:
    """A placement's 429 asks for 45 s (within ``request_timeout``, 60 s here): it is
    sent again then. Another placement meanwhile would wait longer than the host
    limiter's 30 s ``max_wait``: refused locally, never sent, and not retried."""
    venue = "binance"
    plan = FaultPlan().rest_rate_limited(
        1.0, retry_after=45.0, path=PLACE_PATHS[venue], method="POST", venue=venue, max_count=1
    )
    placed: list[Order] = []
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan, request_timeout=60.0) as r:
            bid = r.c.order_book(venue, PERP).best_bid()
            assert bid is not None
            price = bid.price * Decimal("0.9")

            async def place_first() -> None:
                placed.append(await r.c.place_order(venue, PERP, "buy", "limit", QTY, price))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(place_first)
                await until(r, lambda: 1 == r.c.statistics().orders[venue].rate_limit_retries)
                with pytest.raises(RateLimited) as refused:
                    await r.c.place_order(
                        venue, PERP, "buy", "limit", QTY, price, client_order_id="limited2"
                    )
            second = r.c.orders.get("limited2")
            first = placed[0].client_order_id
            at_venue = [o.client_order_id for o in r.truth.orders()]
            retries = r.c.statistics().orders[venue].rate_limit_retries
            await r.c.cancel_all(venue)

    assert refused.value.local
    assert second is not None
    assert OrderStatus.REJECTED == second.status
    assert [first] == [cid for cid in at_venue if cid in (first, "limited2")]
    assert 1 == retries
