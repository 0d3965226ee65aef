"""A venue's status on ``health.{venue}`` and in ``status()``, against the simulator.

Websockets dropped by the simulator make the venue degraded (some down) or down
(none up) until they reconnect; REST 5xx answers to orders open the breaker (down).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
import trio

from connector import Connector, sim
from connector.bus import Subscription
from connector.config import Config
from connector.errors import OrderOutcomeUnknown, ServiceUnavailable
from connector.health import BreakerState, HealthEvent, HealthStatus
from connector.model import Symbol
from connector.sim.faults import FaultPlan
from tests.rig import PERP, book_configs, first_bid, rig

SPOT = Symbol.parse("BTC-USDT-SPOT")
TIMEOUT = 40.0
FRAMES = 60  # book frames a socket receives before the simulator drops it
QTY = Decimal("0.01")


async def _until_healthy(c: Connector, venue: str, events: Subscription) -> None:
    """Until every socket of ``venue`` is up (each change is published, so wait on them)."""
    while c.status().venues[venue].status is not HealthStatus.HEALTHY:
        await events.receive()


async def _next(events: Subscription, wanted: Callable[[HealthEvent], bool]) -> HealthEvent:
    while True:
        event = await events.receive()
        assert isinstance(event, HealthEvent)
        if wanted(event):
            return event


def _agrees(c: Connector, event: HealthEvent) -> None:
    health = c.status().venues[event.venue]
    assert (event.state, event.status, event.status_reason) == (
        health.state,
        health.status,
        health.status_reason,
    )


async def test_a_venue_whose_only_websocket_drops_is_down_until_it_is_back() -> None:
    plan = FaultPlan(seed=3).disconnect(after_frames=FRAMES, venue="bybit", max_count=1)
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("bybit",), rate=50.0, faults=plan) as running:
            config = Config(venues=book_configs(running, "bybit", (PERP,)))
            async with Connector(config) as c, c.subscribe("health.>") as events:
                await _until_healthy(c, "bybit", events)

                down = await _next(events, lambda e: True)
                why = "no websocket connected (0 of 1)"
                assert ("bybit", BreakerState.CLOSED, HealthStatus.DOWN, why) == (
                    down.venue,
                    down.state,
                    down.status,
                    down.status_reason,
                )
                _agrees(c, down)  # the reconnect waits out a backoff first
                line = "venue bybit: breaker closed, 0 connected, 0 consecutive failures"
                assert f"{line}; down ({why})" in c.status().render()

                back = await _next(events, lambda e: True)
                assert (HealthStatus.HEALTHY, None) == (back.status, back.status_reason)
                assert HealthStatus.HEALTHY == c.status().venues["bybit"].status
    assert 1 == len(running.injector.log())


async def test_a_venue_with_one_of_two_websockets_down_is_degraded_until_it_is_back() -> None:
    plan = FaultPlan(seed=4).disconnect(
        after_frames=FRAMES, venue="bybit", market="spot", max_count=1
    )
    with trio.fail_after(TIMEOUT):
        async with sim.run(venues=("bybit",), rate=50.0, faults=plan) as running:
            config = Config(venues=book_configs(running, "bybit", (SPOT, PERP)))
            async with Connector(config) as c, c.subscribe("health.bybit") as events:
                await _until_healthy(c, "bybit", events)
                assert 2 == c.status().venues["bybit"].sockets

                degraded = await _next(events, lambda e: True)
                why = "1 of 2 websockets down"
                assert (BreakerState.CLOSED, HealthStatus.DEGRADED, why, why) == (
                    degraded.state,
                    degraded.status,
                    degraded.status_reason,
                    degraded.reason,
                )
                _agrees(c, degraded)
                assert f"; degraded ({why})" in c.status().render()

                back = await _next(events, lambda e: True)
                assert HealthStatus.HEALTHY == back.status
                assert (HealthStatus.HEALTHY, 2) == (
                    c.status().venues["bybit"].status,
                    c.status().venues["bybit"].connected,
                )


async def test_5xx_answers_to_orders_take_the_venue_down_with_the_breaker() -> None:
    venue = "binance"
    plan = FaultPlan().rest_error(
        1.0, status=503, path="/fapi/v1/order", method="POST", max_count=3
    )
    with trio.fail_after(TIMEOUT):
        async with rig(venue, faults=plan) as r, r.c.subscribe(f"health.{venue}") as events:
            c = r.c
            await _until_healthy(c, venue, events)
            price = (await first_bid(c, venue, PERP) * Decimal("0.9")).quantize(Decimal("0.1"))
            for _ in range(3):
                with pytest.raises(OrderOutcomeUnknown):
                    await c.place_order(venue, PERP, "buy", "limit", QTY, price)

            opened = await _next(events, lambda e: e.state is BreakerState.OPEN)
            assert (HealthStatus.DOWN, "breaker open") == (opened.status, opened.status_reason)
            assert opened.reason is not None and "503" in opened.reason
            _agrees(c, opened)
            assert f"last: {opened.reason}; down (breaker open)" in c.status().render()
            with pytest.raises(ServiceUnavailable, match="circuit breaker open"):
                await c.place_order(venue, PERP, "buy", "limit", QTY, price)
