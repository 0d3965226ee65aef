"""``HealthService``: per-venue breakers driven through a real bus and by REST outcomes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest
import trio
import trio.testing

from connector.bus import Bus, Subscription
from connector.errors import ExchangeRejected, InvalidOrder, RequestTimeout
from connector.health import (
    BreakerState,
    HealthEvent,
    HealthService,
    HealthStatus,
    VenueHealth,
)
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


def _drain(events: Subscription) -> list[HealthEvent]:
    """The health events a subscription holds now."""
    out = []
    while True:
        try:
            event = events.receive_nowait()
        except trio.WouldBlock:
            return out
        assert isinstance(event, HealthEvent)
        out.append(event)


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
    # not refuse orders whose REST host answers: the venue is down, its breaker closed.
    async with bus.subscribe("health.binance") as events:
        _connect(bus)
        _disconnect(bus, 3 * THRESHOLD)
        await trio.testing.wait_all_tasks_blocked()
        published = _drain(events)

    assert [(BreakerState.CLOSED, HealthStatus.DOWN)] == [(e.state, e.status) for e in published]

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


# -- the venue status: healthy, degraded, down -----------------------------------------


async def _next(events: Subscription) -> HealthEvent:
    with trio.fail_after(RESET * 2):
        event = await events.receive()
    assert isinstance(event, HealthEvent)
    return event


def _said(event: HealthEvent) -> tuple[BreakerState, HealthStatus, str | None, str | None]:
    return event.state, event.status, event.status_reason, event.reason


async def test_websockets_going_down_publish_degraded_then_down_then_healthy(
    bus: Bus, monitor: HealthService
) -> None:
    closed = BreakerState.CLOSED
    async with bus.subscribe("health.binance") as events:
        _connect(bus, conn="spot")
        _connect(bus, conn="perp")
        await _assert_no_event(events)  # healthy all along

        _disconnect(bus, conn="perp")
        one_down = "1 of 2 websockets down"
        assert (closed, HealthStatus.DEGRADED, one_down, one_down) == _said(await _next(events))
        _disconnect(bus, conn="spot")
        none_up = "no websocket connected (0 of 2)"
        assert (closed, HealthStatus.DOWN, none_up, none_up) == _said(await _next(events))
        _disconnect(bus, conn="spot")  # the same status again: nothing new
        await _assert_no_event(events)

        _connect(bus, conn="spot")
        assert HealthStatus.DEGRADED == (await _next(events)).status
        _connect(bus, conn="perp")
        assert (closed, HealthStatus.HEALTHY, None, None) == _said(await _next(events))

    assert (HealthStatus.HEALTHY, 2, 2) == (
        monitor.venues()["binance"].status,
        monitor.venues()["binance"].sockets,
        monitor.venues()["binance"].connected,
    )
    assert 4 == monitor.statistics().status_changes


async def test_a_socket_connecting_for_the_first_time_is_not_up_yet(
    bus: Bus, monitor: HealthService
) -> None:
    async with bus.subscribe("health.binance") as events:
        bus.publish("connection.binance", _event(ConnectionStatus.CONNECTING, "spot"))
        assert HealthStatus.DOWN == (await _next(events)).status
        _connect(bus, conn="spot")
        assert HealthStatus.HEALTHY == (await _next(events)).status


async def test_breaker_changes_carry_the_status_they_bring(
    bus: Bus, monitor: HealthService, autojump_clock: trio.abc.Clock
) -> None:
    async with bus.subscribe("health.binance") as events:
        _connect(bus)
        _fail(monitor, THRESHOLD)
        opened = await _next(events)
        assert (BreakerState.OPEN, HealthStatus.DOWN, "breaker open", str(TIMEOUT)) == _said(opened)
        # Down already: its sockets going down too publishes nothing more.
        _disconnect(bus)
        await _assert_no_event(events)
        _connect(bus)
        await _assert_no_event(events)

        half_open = await _next(events)
        assert (BreakerState.HALF_OPEN, HealthStatus.DEGRADED) == (
            half_open.state,
            half_open.status,
        )
        monitor.record_rest("binance", None)
        assert (BreakerState.CLOSED, HealthStatus.HEALTHY, None, "venue answered") == _said(
            await _next(events)
        )

    stats = monitor.statistics()
    assert (3, 3) == (stats.transitions, stats.status_changes)


async def test_the_store_not_writing_degrades_every_venue_until_it_is_back(
    bus: Bus, monitor: HealthService
) -> None:
    _connect(bus, venue="okx")
    async with bus.subscribe("health.>") as events:
        monitor.store_changed("disk full")
        failed = {e.venue: e for e in (await _next(events), await _next(events))}
        monitor.store_changed(None)
        back = {e.venue: e for e in (await _next(events), await _next(events))}

    why = "event store not writing: disk full"
    assert {
        "binance": (HealthStatus.DEGRADED, why, "disk full"),
        "okx": (HealthStatus.DEGRADED, why, "disk full"),
    } == {v: (e.status, e.status_reason, e.store_error) for v, e in failed.items()}
    assert {"binance": HealthStatus.HEALTHY, "okx": HealthStatus.HEALTHY} == {
        v: e.status for v, e in back.items()
    }
    assert HealthStatus.HEALTHY == monitor.venues()["okx"].status


async def test_an_answer_from_a_venue_never_seen_publishes_nothing(
    bus: Bus, monitor: HealthService
) -> None:
    async with bus.subscribe("health.>") as events:
        monitor.record_rest("okx", None)
        await _assert_no_event(events)
    assert HealthStatus.HEALTHY == monitor.venues()["okx"].status
