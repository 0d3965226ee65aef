"""``HealthService``: per-venue breakers driven through a real bus and by REST outcomes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest
import trio
import trio.testing

from connector.bus import Bus, Subscription
from connector.errors import ExchangeRejected, InvalidOrder, RequestTimeout
from connector.health import BreakerState, HealthEvent, HealthService, VenueHealth
from connector.model import ConnectionEvent, ConnectionStatus

THRESHOLD = 3
RESET = 30.0
TIMEOUT = RequestTimeout("binance: GET /api/v3/depth timed out")


@pytest.fixture
async def bus() -> Bus:
    return Bus()


@pytest.fixture
async def monitor(bus: Bus) -> AsyncIterator[HealthService]:
    health = HealthService(bus, ["binance"], failure_threshold=THRESHOLD, reset_timeout=RESET)
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


def _fail(monitor: HealthService, times: int = 1, venue: str = "binance") -> None:
    for _ in range(times):
        monitor.record_rest(venue, TIMEOUT)


async def _next_state(events: Subscription) -> BreakerState:
    with trio.fail_after(RESET * 2):
        event = await events.receive()
    assert isinstance(event, HealthEvent)
    return event.state


async def _assert_no_event(events: Subscription) -> None:
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(trio.WouldBlock):
        events.receive_nowait()


async def test_venue_is_reported_closed_before_any_event(monitor: HealthService) -> None:
    expected = {
        "binance": VenueHealth(
            venue="binance", state=BreakerState.CLOSED, connected=0, consecutive_failures=0
        )
    }
    assert expected == monitor.venues()


async def test_disconnects_never_open_the_breaker(bus: Bus, monitor: HealthService) -> None:
    # A market-data socket that keeps failing (one market's websockets refused) must
    # not refuse orders whose REST host answers.
    async with bus.subscribe("health.binance") as events:
        _connect(bus)
        _disconnect(bus, 3 * THRESHOLD)
        await _assert_no_event(events)

    health = monitor.venues()["binance"]
    assert (BreakerState.CLOSED, 0, 0) == (
        health.state,
        health.consecutive_failures,
        health.connected,
    )
    assert monitor.allows("binance")


async def test_an_answer_resets_the_consecutive_failure_count(
    bus: Bus, monitor: HealthService
) -> None:
    async with bus.subscribe("health.>") as events:
        _fail(monitor, THRESHOLD - 1)
        monitor.record_rest("binance", None)
        _fail(monitor, THRESHOLD - 1)
        await _assert_no_event(events)

    health = monitor.venues()["binance"]
    assert (BreakerState.CLOSED, THRESHOLD - 1) == (health.state, health.consecutive_failures)


async def test_open_breaker_goes_half_open_after_reset_timeout(
    bus: Bus, monitor: HealthService, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _fail(monitor, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
        opened_at = trio.current_time()

        assert BreakerState.HALF_OPEN == await _next_state(events)

    assert RESET == pytest.approx(trio.current_time() - opened_at)
    assert BreakerState.HALF_OPEN == monitor.venues()["binance"].state


async def test_breaker_stays_open_until_reset_timeout(
    bus: Bus, monitor: HealthService, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _fail(monitor, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
        await trio.sleep(RESET / 2)
        # Answers and connects while open do not close it: it waits out the timeout.
        monitor.record_rest("binance", None)
        _connect(bus)
        await trio.sleep(RESET / 2 - 1)
        await _assert_no_event(events)
        assert BreakerState.OPEN == monitor.venues()["binance"].state
        assert not monitor.allows("binance")


async def test_half_open_breaker_closes_on_an_answer_not_on_a_connect(
    bus: Bus, monitor: HealthService, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _fail(monitor, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
        assert BreakerState.HALF_OPEN == await _next_state(events)

        _connect(bus, conn="c2")
        await _assert_no_event(events)
        monitor.record_rest("binance", None)
        assert BreakerState.CLOSED == await _next_state(events)

    health = monitor.venues()["binance"]
    assert (BreakerState.CLOSED, 1, 0) == (
        health.state,
        health.connected,
        health.consecutive_failures,
    )


async def test_half_open_breaker_opens_again_on_one_failure(
    bus: Bus, monitor: HealthService, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _fail(monitor, THRESHOLD)
        assert BreakerState.OPEN == await _next_state(events)
        assert BreakerState.HALF_OPEN == await _next_state(events)

        _fail(monitor)
        assert BreakerState.OPEN == await _next_state(events)
        reopened_at = trio.current_time()

        # A fresh reset timeout starts from the new failure.
        assert BreakerState.HALF_OPEN == await _next_state(events)
        assert RESET == pytest.approx(trio.current_time() - reopened_at)


async def test_venues_are_tracked_independently(bus: Bus, monitor: HealthService) -> None:
    async with bus.subscribe("health.*") as events:
        _connect(bus, conn="a", venue="okx")
        _connect(bus, conn="b", venue="okx")
        await trio.testing.wait_all_tasks_blocked()
        _fail(monitor, THRESHOLD, venue="bybit")
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
    bus: Bus, monitor: HealthService
) -> None:
    _connect(bus, conn="a")
    _connect(bus, conn="b")
    _connect(bus, conn="a")  # the same connection reported twice counts once
    _disconnect(bus, conn="b")
    await trio.testing.wait_all_tasks_blocked()

    assert 1 == monitor.venues()["binance"].connected


async def test_monitor_ignores_non_connection_events_on_its_topics(
    bus: Bus, monitor: HealthService
) -> None:
    async with bus.subscribe("health.>") as events:
        bus.publish("connection.binance", "not an event")
        _connect(bus)
        await _assert_no_event(events)
    assert 1 == monitor.venues()["binance"].connected


# -- REST outcomes, the order path's question, statistics ------------------------------


async def test_transient_rest_failures_open_the_breaker_and_publish_it(
    bus: Bus, monitor: HealthService
) -> None:
    async with bus.subscribe("health.binance") as events:
        for _ in range(THRESHOLD - 1):
            monitor.record_rest("binance", TIMEOUT)
        await _assert_no_event(events)
        assert monitor.allows("binance")

        monitor.record_rest("binance", TIMEOUT)
        with trio.fail_after(1):
            event = await events.receive()

    assert isinstance(event, HealthEvent)
    assert ("binance", BreakerState.OPEN, str(TIMEOUT)) == (event.venue, event.state, event.reason)
    assert event.ts_event_ns > 0
    assert not monitor.allows("binance")


async def test_venue_rejections_never_open_the_breaker(bus: Bus, monitor: HealthService) -> None:
    rejected = ExchangeRejected(-2010, "Account has insufficient balance.", venue="binance")
    async with bus.subscribe("health.>") as events:
        for _ in range(10 * THRESHOLD):
            monitor.record_rest("binance", rejected)
        await _assert_no_event(events)

    assert BreakerState.CLOSED == monitor.venues()["binance"].state
    assert monitor.allows("binance")


async def test_breaker_opened_by_rest_goes_half_open_on_time_and_admits_one_probe(
    bus: Bus, monitor: HealthService, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        # The service is idle, waiting on the bus with no deadline: opening the
        # breaker from a REST outcome must still wake it at the reset timeout.
        await trio.testing.wait_all_tasks_blocked()
        for _ in range(THRESHOLD):
            monitor.record_rest("binance", TIMEOUT)
        assert BreakerState.OPEN == await _next_state(events)
        opened_at = trio.current_time()

        assert BreakerState.HALF_OPEN == await _next_state(events)
        assert RESET == pytest.approx(trio.current_time() - opened_at)
        assert monitor.allows("binance")
        assert not monitor.allows("binance")

        monitor.record_rest("binance", None)
        assert BreakerState.CLOSED == await _next_state(events)
        assert monitor.allows("binance")


async def test_statistics_is_a_frozen_snapshot_of_breakers_and_counters(
    bus: Bus, monitor: HealthService
) -> None:
    _connect(bus)
    _disconnect(bus)
    await trio.testing.wait_all_tasks_blocked()
    _fail(monitor, THRESHOLD)
    monitor.record_rest("okx", None)
    monitor.record_rest("okx", InvalidOrder("below min qty"))

    stats = monitor.statistics()
    monitor.record_rest("okx", TIMEOUT)

    assert (2, THRESHOLD + 2, 1) == (
        stats.connection_events,
        stats.rest_outcomes,
        stats.transitions,
    )
    assert ["binance", "okx"] == [v.venue for v in stats.venues]
    binance, okx = stats.venues
    assert (BreakerState.OPEN, 1, 0) == (binance.state, binance.opened, binance.connected)
    assert (BreakerState.CLOSED, 1, 0) == (okx.state, okx.rest_successes, okx.rest_failures)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stats.transitions = 0  # type: ignore[misc]
