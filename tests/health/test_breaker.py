"""The pure breaker table: transitions, REST classification, probes; time is an argument."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionLost,
    ConnectorError,
    ExchangeRejected,
    InvalidOrder,
    IpBanned,
    MalformedMessage,
    OrderOutcomeUnknown,
    OrderRejected,
    RateLimited,
    RequestTimeout,
    RiskRejected,
    ServiceUnavailable,
    TimestampRejected,
)
from connector.health.breaker import (
    TRANSITIONS,
    BreakerState,
    BreakerTable,
    Outcome,
    Signal,
    Transition,
    VenueHealth,
    classify_rest,
)

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
THRESHOLD = 3
RESET = 30.0
TIMEOUT = RequestTimeout("binance: GET /api/v3/depth timed out")
REJECTED = ExchangeRejected(-1121, "Invalid symbol.", venue="binance")


def _table() -> BreakerTable:
    return BreakerTable(["binance"], failure_threshold=THRESHOLD, reset_timeout=RESET)


def _open(table: BreakerTable, now: float = 0.0) -> None:
    for _ in range(THRESHOLD):
        table.rest("binance", TIMEOUT, now)
    assert OPEN == table.health("binance").state


# -- the table itself -------------------------------------------------------------


def test_transition_table_is_the_documented_state_machine() -> None:
    assert {
        (CLOSED, Signal.SUCCESS): CLOSED,
        (CLOSED, Signal.FAILURE): CLOSED,
        (CLOSED, Signal.TRIP): OPEN,
        (OPEN, Signal.FAILURE): OPEN,
        (OPEN, Signal.TRIP): OPEN,
        (OPEN, Signal.COOLED): HALF_OPEN,
        (HALF_OPEN, Signal.SUCCESS): CLOSED,
        (HALF_OPEN, Signal.FAILURE): OPEN,
        (HALF_OPEN, Signal.TRIP): OPEN,
    } == dict(TRANSITIONS)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (None, Outcome.SUCCESS),
        (TIMEOUT, Outcome.FAILURE),
        (ConnectionLost("reset"), Outcome.FAILURE),
        (ServiceUnavailable("HTTP 503"), Outcome.FAILURE),
        (RateLimited("HTTP 429", retry_after=1.0), Outcome.IGNORED),
        (IpBanned("HTTP 418", retry_after=60.0), Outcome.IGNORED),
        (OrderOutcomeUnknown("abc1", "timed out", venue="bybit"), Outcome.FAILURE),
        (REJECTED, Outcome.SUCCESS),
        (OrderRejected(110007, "insufficient balance", client_order_id="abc1"), Outcome.SUCCESS),
        (AuthenticationFailed("bad signature"), Outcome.SUCCESS),
        (TimestampRejected(-1021, "outside of the recvWindow"), Outcome.SUCCESS),
        (MalformedMessage("not JSON", raw=b"<html>"), Outcome.SUCCESS),
        (InvalidOrder("below min qty"), Outcome.IGNORED),
        (RiskRejected("max_order_notional", "1000 > 500"), Outcome.IGNORED),
        (ConfigError("no URL"), Outcome.IGNORED),
    ],
)
def test_rest_outcomes_are_classified_by_whether_the_venue_answered(
    error: ConnectorError | None, expected: Outcome
) -> None:
    assert expected == classify_rest(error)


def test_an_unknown_venue_is_closed_and_allowed() -> None:
    table = BreakerTable()

    assert table.allows("okx", 0.0)
    assert VenueHealth(
        venue="okx", state=CLOSED, connected=0, consecutive_failures=0
    ) == table.health("okx")
    assert {} == table.venues()


@pytest.mark.parametrize(("threshold", "reset"), [(0, 30.0), (3, 0.0)])
def test_table_rejects_impossible_settings(threshold: int, reset: float) -> None:
    with pytest.raises(ValueError):
        BreakerTable(failure_threshold=threshold, reset_timeout=reset)


# -- REST outcomes ----------------------------------------------------------------


def test_transient_rest_failures_open_the_breaker_at_the_threshold() -> None:
    table = _table()

    changes = [table.rest("binance", TIMEOUT, float(i)) for i in range(THRESHOLD)]

    reason = str(TIMEOUT)
    assert [None, None, Transition(venue="binance", old=CLOSED, new=OPEN, reason=reason)] == changes
    health = table.health("binance")
    assert (OPEN, THRESHOLD, THRESHOLD, 1, reason) == (
        health.state,
        health.consecutive_failures,
        health.rest_failures,
        health.opened,
        health.last_reason,
    )
    assert not table.allows("binance", 2.0)


def test_venue_rejections_never_open_the_breaker_and_reset_the_count() -> None:
    table = _table()
    table.rest("binance", TIMEOUT, 0.0)
    table.rest("binance", TIMEOUT, 0.0)

    changes = [table.rest("binance", REJECTED, 1.0) for _ in range(10 * THRESHOLD)]

    assert [] == [c for c in changes if c is not None]
    health = table.health("binance")
    assert (CLOSED, 0, 30, 2) == (
        health.state,
        health.consecutive_failures,
        health.rest_successes,
        health.rest_failures,
    )


def test_ignored_outcomes_change_nothing() -> None:
    table = _table()
    table.rest("binance", TIMEOUT, 0.0)

    assert table.rest("binance", InvalidOrder("tick"), 1.0) is None
    assert table.rest("bybit", ConfigError("no URL"), 1.0) is None

    assert 1 == table.health("binance").consecutive_failures
    assert ["binance"] == list(table.venues())


def test_websockets_are_counted_and_never_move_the_breaker() -> None:
    # A market-data socket of one market that cannot connect says nothing about the
    # REST host orders go to.
    table = _table()
    table.rest("binance", TIMEOUT, 0.0)
    table.connected("binance", "c1")
    table.connected("binance", "c2")
    for _ in range(3 * THRESHOLD):
        table.disconnected("binance", "c2")

    health = table.health("binance")
    assert (CLOSED, 1, 1) == (health.state, health.connected, health.consecutive_failures)
    assert table.allows("binance", 0.0)


# -- open, half-open, probes --------------------------------------------------------


def test_open_breaker_goes_half_open_only_once_the_reset_timeout_passed() -> None:
    table = _table()
    _open(table, now=100.0)

    assert 100.0 + RESET == table.next_deadline()
    assert [] == table.expire(100.0 + RESET - 0.001)
    assert [
        Transition(venue="binance", old=OPEN, new=HALF_OPEN, reason="reset timeout passed")
    ] == table.expire(100.0 + RESET)
    assert float("inf") == table.next_deadline()


def test_half_open_admits_one_probe_until_its_outcome_arrives() -> None:
    table = _table()
    _open(table)
    table.expire(RESET)

    assert table.allows("binance", RESET)
    assert not table.allows("binance", RESET + 1)

    change = table.rest("binance", None, RESET + 2)

    assert Transition(venue="binance", old=HALF_OPEN, new=CLOSED, reason="venue answered") == change
    assert table.allows("binance", RESET + 2)
    assert table.allows("binance", RESET + 2)


def test_a_refused_probe_still_closes_the_breaker() -> None:
    table = _table()
    _open(table)
    table.expire(RESET)
    assert table.allows("binance", RESET)

    change = table.rest("binance", REJECTED, RESET + 1)

    assert change is not None and CLOSED == change.new


def test_a_failed_probe_reopens_with_a_fresh_reset_timeout() -> None:
    table = _table()
    _open(table)
    table.expire(RESET)
    assert table.allows("binance", RESET)

    change = table.rest("binance", TIMEOUT, RESET + 5)

    assert change is not None and (HALF_OPEN, OPEN) == (change.old, change.new)
    assert RESET + 5 + RESET == table.next_deadline()
    assert not table.allows("binance", RESET + 6)
    assert 2 == table.health("binance").opened


def test_a_probe_never_reported_is_replaced_after_the_reset_timeout() -> None:
    table = _table()
    _open(table)
    table.expire(RESET)

    assert table.allows("binance", RESET)
    assert not table.allows("binance", 2 * RESET - 0.001)
    assert table.allows("binance", 2 * RESET)


def test_an_open_breaker_waits_out_its_reset_timeout_whatever_answers() -> None:
    table = _table()
    _open(table)
    table.connected("binance", "c1")

    changes = [table.rest("binance", error, 1.0) for error in (None, REJECTED, None)]

    assert [None, None, None] == changes
    assert OPEN == table.health("binance").state
    assert not table.allows("binance", RESET - 0.001)
    table.expire(RESET)
    assert HALF_OPEN == table.health("binance").state


def test_a_rate_limited_probe_frees_the_probe() -> None:
    # The probe was held by the limiter (or refused with a 429): it did not test the
    # venue, so the next order may probe.
    table = _table()
    _open(table)
    table.expire(RESET)
    assert table.allows("binance", RESET)

    local = IpBanned("binance: IP banned for 5 more seconds", retry_after=5.0)
    assert table.rest("binance", local, RESET + 1) is None

    assert HALF_OPEN == table.health("binance").state
    assert table.allows("binance", RESET + 1)


def test_venue_health_is_a_frozen_snapshot() -> None:
    table = _table()
    before = table.health("binance")

    _open(table)

    assert CLOSED == before.state
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        before.state = OPEN  # type: ignore[misc]


# -- any sequence ------------------------------------------------------------------

_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["ok", "rejected", "timeout", "limited", "connect", "disconnect", "probe"]),
        st.floats(min_value=0.0, max_value=2 * RESET, allow_nan=False),
    ),
    max_size=60,
)


@given(_STEPS)
def test_breaker_follows_the_seed_state_machine_on_rest_outcomes(
    steps: list[tuple[str, float]],
) -> None:
    # A reference model of the seed's machine: closed -> open at the threshold,
    # open -> half_open after the reset timeout (nothing else leaves open),
    # half_open -> closed on a success, -> open on a failure.
    table = _table()
    now = opened_at = 0.0
    state, consecutive = CLOSED, 0
    for step, wait in steps:
        now += wait
        table.expire(now)
        if state is OPEN and now >= opened_at + RESET:
            state = HALF_OPEN
        if step == "probe":
            assert (state is not OPEN) or not table.allows("binance", now)
            continue
        if step in ("ok", "rejected"):
            table.rest("binance", None if step == "ok" else REJECTED, now)
            consecutive = 0
            if state is HALF_OPEN:
                state = CLOSED
        elif step == "timeout":
            table.rest("binance", TIMEOUT, now)
            consecutive += 1
            if state is HALF_OPEN or (state is CLOSED and consecutive >= THRESHOLD):
                state, opened_at = OPEN, now
        elif step == "limited":
            table.rest("binance", RateLimited("HTTP 429", retry_after=1.0), now)
        elif step == "connect":
            table.connected("binance", "c")
        else:
            table.disconnected("binance", "c")
        health = table.health("binance")
        assert (state, consecutive) == (health.state, health.consecutive_failures)
