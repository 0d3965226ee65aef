"""A step of the venue's clock mid-run (an NTP step, a VM resumed): the next request of
each kind succeeds at the first call.

The step is made by moving the running simulator's clock skew (``SimVenue._skew_ns``:
the simulator has no public hook to step its clock mid-run). Each step is 45 s, past
every venue's window (Binance ``recvWindow`` 5 s and 1 s ahead, Bybit
``[server - recv_window, server + 1000)``, OKX +-30 s), so each first request after it
is refused for its timestamp: the clock starts over from a fresh reading, awaited,
and the request goes once more.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import trio

from connector import OrderStatus, TimestampRejected
from connector.net.clock import ClockSample, ClockSync
from tests.rig import PERP, VENUES, Rig, first_bid, rig
from tests.trading.test_unknown_outcomes import rig as orders_rig

TIMEOUT = 30
QTY = Decimal("0.01")
STEP_NS = 45_000_000_000


def step(r: Rig, ns: int) -> None:
    """The venue's clock jumps by ``ns`` (ours does not)."""
    hub = r.run.venue(r.venue)
    hub._skew_ns += ns


def venue_open(r: Rig) -> list[str]:
    """The client order ids the venue holds open for the default account."""
    return sorted(o.client_order_id for o in r.truth.open_orders(r.truth.default_account()))


def assert_follows(r: Rig, skew_ns: int) -> None:
    """The venue's clock offset is the simulator's skew (within the round trip)."""
    offset = r.c.statistics().venues[r.venue].clock
    assert offset is not None
    assert abs(offset.offset_ns - skew_ns) < 1_000_000_000, (offset, skew_ns)


@pytest.mark.parametrize("venue", VENUES)
async def test_place_amend_cancel_and_cancel_all_succeed_at_once_after_a_clock_step(
    venue: str,
) -> None:
    with trio.fail_after(TIMEOUT):
        async with rig(venue) as r:
            c = r.c
            bid = await first_bid(c, venue)
            price = bid * Decimal("0.9")
            first = await c.place_order(venue, PERP, "buy", "limit", QTY, price)

            step(r, STEP_NS)
            second = await c.place_order(venue, PERP, "buy", "limit", QTY, price)
            assert OrderStatus.NEW == second.status
            assert_follows(r, STEP_NS)

            step(r, -STEP_NS)
            amended = await c.amend_order(
                venue, PERP, first.client_order_id, price=bid * Decimal("0.91")
            )
            assert OrderStatus.NEW == amended.status
            assert amended.price is not None and first.price is not None
            assert amended.price > first.price
            assert_follows(r, 0)

            step(r, STEP_NS)
            canceled = await c.cancel_order(venue, PERP, first.client_order_id)
            assert OrderStatus.CANCELED == canceled.status
            assert_follows(r, STEP_NS)

            third = await c.place_order(venue, PERP, "buy", "limit", QTY, price)
            assert [second.client_order_id, third.client_order_id] == venue_open(r)
            step(r, -STEP_NS)
            done = await c.cancel_all(venue)
            assert {OrderStatus.CANCELED} == {o.status for o in done}
            assert [] == venue_open(r)
            assert [] == c.orders.open(venue)


async def test_a_request_refused_for_its_timestamp_goes_once_more_never_a_third_time() -> None:
    with trio.fail_after(TIMEOUT):
        async with orders_rig("binance") as r:
            order = await r.trading.place_order(
                "binance", PERP, "buy", "limit", QTY, r.bid * Decimal("0.9")
            )
            context = r.session.context
            readings = 0

            async def a_minute_ahead() -> ClockSample:
                # A clock that reads the venue a minute ahead, however often it is read.
                nonlocal readings
                readings += 1
                now = time.time_ns()
                return ClockSample(sent_ns=now, server_ns=now + 60_000_000_000, received_ns=now)

            good, context.clock = context.clock, ClockSync("binance", a_minute_ahead)
            await context.clock.sample()

            with pytest.raises(TimestampRejected):
                await r.trading.cancel_order("binance", PERP, order.client_order_id)
            assert 2 == readings  # one resync: sent twice
            placements = r.transport.placements
            with pytest.raises(TimestampRejected):
                await r.trading.place_order(
                    "binance", PERP, "buy", "limit", QTY, r.bid * Decimal("0.9")
                )
            assert 3 == readings
            assert placements + 2 == r.transport.placements

            context.clock = good
            canceled = await r.trading.cancel_order("binance", PERP, order.client_order_id)
            assert OrderStatus.CANCELED == canceled.status
