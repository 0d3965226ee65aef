"""The per-venue circuit breaker of ``HealthMonitor``, driven through a real bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import trio
import trio.testing

from connector.bus import Bus, Subscription
from connector.health import BreakerState, HealthEvent, HealthMonitor, VenueHealth
from connector.model import ConnectionEvent, ConnectionStatus

THRESHOLD = 3
RESET = 30.0


@pytest.fixture
async def bus() -> Bus:
    return Bus()


@pytest.fixture
async def monitor(bus: Bus) -> AsyncIterator[HealthMonitor]:
    health = HealthMonitor(bus, ["binance"], failure_threshold=THRESHOLD, reset_timeout=RESET)
    async with trio.open_nursery() as nursery:
        await nursery.start(health.run)
        yield health
        nursery.cancel_scope.cancel()


def _event(status: ConnectionStatus, conn: str = "c1", venue: str = "binance") -> ConnectionEvent:
    reason = "closed by peer" if status is ConnectionStatus.DISCONNECTED else None
    return ConnectionEvent(venue=venue, conn_id=conn, status=status, reason=reason, ts_recv_ns=7)


def _connect(bus: Bus, conn: str = "c1", venue: str = "binance") -> None:
    bus.publish(f"connection.{venue}", _event(ConnectionStatus.CONNECTED, conn, venue))


def _disconnect(bus: Bus, times: int = 1, conn: str = "c1", venue: str = "binance") -> None:
    for _ in range(times):
        bus.publish(f"connection.{venue}", _event(ConnectionStatus.DISCONNECTED, conn, venue))


async def _next_state(events: Subscription) -> BreakerState:
    with trio.fail_after(RESET * 2):
        event = await events.receive()
    assert isinstance(event, HealthEvent)
    return event.state


async def _assert_no_event(events: Subscription) -> None:
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(trio.WouldBlock):
        events.receive_nowait()


async def test_venue_is_reported_closed_before_any_event(monitor: HealthMonitor) -> None:
    expected = {
        "binance": VenueHealth(
            venue="binance", state=BreakerState.CLOSED, connected=0, consecutive_failures=0
        )
    }
    assert expected == monitor.venues()


async def test_breaker_opens_after_threshold_consecutive_disconnects(
    bus: Bus, monitor: HealthMonitor
) -> None:
    async with bus.subscribe("health.binance") as events:
        _connect(bus)
        _disconnect(bus, THRESHOLD - 1)
        await _assert_no_event(events)
        assert BreakerState.CLOSED == monitor.venues()["binance"].state

        _disconnect(bus)
        with trio.fail_after(1):
            event = await events.receive()

    assert (
        HealthEvent(
            venue="binance", state=BreakerState.OPEN, reason="closed by peer", ts_event_ns=7
        )
        == event
    )
    health = monitor.venues()["binance"]
    assert (BreakerState.OPEN, THRESHOLD, "closed by peer", 0) == (
        health.state,
        health.consecutive_failures,
        health.last_reason,
        health.connected,
    )


async def test_connect_resets_the_consecutive_failure_count(
    bus: Bus, monitor: HealthMonitor
) -> None:
    async with bus.subscribe("health.>") as events:
        _disconnect(bus, THRESHOLD - 1)
        _connect(bus)
        _disconnect(bus, THRESHOLD - 1)
        await _assert_no_event(events)

    health = monitor.venues()["binance"]
    assert (BreakerState.CLOSED, THRESHOLD - 1) == (health.state, health.consecutive_failures)


async def test_open_breaker_goes_half_open_after_reset_timeout(
    bus: Bus, monitor: HealthMonitor, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _disconnect(bus, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
        opened_at = trio.current_time()

        assert BreakerState.HALF_OPEN == await _next_state(events)

    assert RESET == pytest.approx(trio.current_time() - opened_at)
    assert BreakerState.HALF_OPEN == monitor.venues()["binance"].state


async def test_breaker_stays_open_until_reset_timeout(
    bus: Bus, monitor: HealthMonitor, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _disconnect(bus, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
        await trio.sleep(RESET - 1)
        await _assert_no_event(events)
        assert BreakerState.OPEN == monitor.venues()["binance"].state


async def test_half_open_breaker_closes_on_connect(
    bus: Bus, monitor: HealthMonitor, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _disconnect(bus, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
        assert BreakerState.HALF_OPEN == await _next_state(events)

        _connect(bus, conn="c2")
        assert BreakerState.CLOSED == await _next_state(events)

    health = monitor.venues()["binance"]
    assert (BreakerState.CLOSED, 1, 0) == (
        health.state,
        health.connected,
        health.consecutive_failures,
    )


async def test_half_open_breaker_opens_again_on_one_failure(
    bus: Bus, monitor: HealthMonitor, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _disconnect(bus, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
        assert BreakerState.HALF_OPEN == await _next_state(events)

        _disconnect(bus)
        assert BreakerState.OPEN == await _next_state(events)
        reopened_at = trio.current_time()

        # A fresh reset timeout starts from the new failure.
        assert BreakerState.HALF_OPEN == await _next_state(events)
        assert RESET == pytest.approx(trio.current_time() - reopened_at)


async def test_venues_are_tracked_independently(bus: Bus, monitor: HealthMonitor) -> None:
    async with bus.subscribe("health.*") as events:
        _connect(bus, conn="a", venue="okx")
        _connect(bus, conn="b", venue="okx")
        _disconnect(bus, THRESHOLD, venue="bybit")
        with trio.fail_after(1):
            topic, event = await events.receive_item()

    assert "health.bybit" == topic
    assert isinstance(event, HealthEvent) and BreakerState.OPEN == event.state
    venues = monitor.venues()
    assert ["binance", "bybit", "okx"] == list(venues)
    assert BreakerState.CLOSED == venues["binance"].state
    assert BreakerState.OPEN == venues["bybit"].state
    assert (BreakerState.CLOSED, 2) == (venues["okx"].state, venues["okx"].connected)


async def test_connection_count_follows_connects_and_disconnects(
    bus: Bus, monitor: HealthMonitor
) -> None:
    _connect(bus, conn="a")
    _connect(bus, conn="b")
    _connect(bus, conn="a")  # the same connection reported twice counts once
    _disconnect(bus, conn="b")
    await trio.testing.wait_all_tasks_blocked()

    assert 1 == monitor.venues()["binance"].connected


async def test_monitor_ignores_non_connection_events_on_its_topics(
    bus: Bus, monitor: HealthMonitor
) -> None:
    async with bus.subscribe("health.>") as events:
        bus.publish("connection.binance", "not an event")
        _disconnect(bus, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
