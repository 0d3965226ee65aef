"""The pure venue status rule (healthy / degraded / down) and the table that feeds it."""

from __future__ import annotations

import pytest

from connector.errors import RequestTimeout
from connector.health.breaker import BreakerState, BreakerTable, HealthStatus, venue_status

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
HEALTHY, DEGRADED, DOWN = HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.DOWN
TIMEOUT = RequestTimeout("binance: GET /api/v3/depth timed out")


@pytest.mark.parametrize(
    ("state", "connected", "sockets", "store_error", "expected"),
    [
        (CLOSED, 0, 0, None, (HEALTHY, None)),
        (CLOSED, 3, 3, None, (HEALTHY, None)),
        (OPEN, 3, 3, None, (DOWN, "breaker open")),
        (CLOSED, 0, 3, None, (DOWN, "no websocket connected (0 of 3)")),
        (HALF_OPEN, 3, 3, None, (DEGRADED, "breaker half-open: probing the venue")),
        (CLOSED, 3, 3, "disk full", (DEGRADED, "event store not writing: disk full")),
        (CLOSED, 1, 3, None, (DEGRADED, "2 of 3 websockets down")),
    ],
)
def test_each_rule_decides_the_status_and_names_itself(
    state: BreakerState,
    connected: int,
    sockets: int,
    store_error: str | None,
    expected: tuple[HealthStatus, str | None],
) -> None:
    actual = venue_status(
        state=state,
        connected=connected,
        sockets=sockets,
        store_error=store_error,
    )
    assert expected == actual


@pytest.mark.parametrize(
    ("state", "connected", "store_error", "expected"),
    [
        # Every condition at once: the open breaker comes first.
        (OPEN, 0, "disk full", (DOWN, "breaker open")),
        # Down beats degraded whatever the order of the degraded rules.
        (HALF_OPEN, 0, "disk full", (DOWN, "no websocket connected (0 of 2)")),
        (HALF_OPEN, 1, "disk full", (DEGRADED, "breaker half-open: probing the venue")),
        (CLOSED, 1, "disk full", (DEGRADED, "event store not writing: disk full")),
    ],
)
def test_the_worst_rule_that_holds_gives_the_status_and_its_reason(
    state: BreakerState,
    connected: int,
    store_error: str | None,
    expected: tuple[HealthStatus, str | None],
) -> None:
    actual = venue_status(state=state, connected=connected, sockets=2, store_error=store_error)
    assert expected == actual


def test_a_venue_without_websockets_is_not_down_for_them() -> None:
    assert (HEALTHY, None) == venue_status(state=CLOSED, connected=0, sockets=0)


def test_table_reports_each_venue_status_from_its_sockets_breaker_and_the_store() -> None:
    table = BreakerTable(["binance", "okx"], failure_threshold=1, reset_timeout=30.0)
    assert {"binance": HEALTHY, "okx": HEALTHY} == {
        name: h.status for name, h in table.venues().items()
    }

    table.connecting("binance", "spot")  # known, not up yet
    assert (DOWN, "no websocket connected (0 of 1)", 1, 0) == _status(table, "binance")
    table.connected("binance", "spot")
    table.connecting("binance", "perp")
    assert (DEGRADED, "1 of 2 websockets down", 2, 1) == _status(table, "binance")
    table.connected("binance", "perp")
    assert (HEALTHY, None, 2, 2) == _status(table, "binance")

    table.store("disk full")
    assert {name: DEGRADED for name in ("binance", "okx")} == {
        name: h.status for name, h in table.venues().items()
    }
    table.store(None)

    table.rest("okx", TIMEOUT, 0.0)
    assert (DOWN, "breaker open", 0, 0) == _status(table, "okx")
    table.expire(30.0)
    assert (DEGRADED, "breaker half-open: probing the venue", 0, 0) == _status(table, "okx")
    table.rest("okx", None, 31.0)
    assert (HEALTHY, None, 0, 0) == _status(table, "okx")

    table.disconnected("binance", "spot")
    table.disconnected("binance", "perp")
    assert (DOWN, "no websocket connected (0 of 2)", 2, 0) == _status(table, "binance")


def _status(table: BreakerTable, venue: str) -> tuple[HealthStatus, str | None, int, int]:
    health = table.health(venue)
    return health.status, health.status_reason, health.sockets, health.connected
