"""Per-venue circuit breakers as one transition table (sans-I/O).

Each venue's breaker is ``closed`` (healthy), ``open`` (refuse orders) or
``half_open`` (let one probe through). What happens to it is reduced to one
:class:`Signal`, and the next state is read from :data:`TRANSITIONS` (the
seed's machine)::

    closed    --failure (below the threshold)--> closed
    closed    --trip (failure_threshold consecutive failures)--> open
    open      --cooled (reset_timeout since opening)--> half_open
    half_open --success--> closed         half_open --failure or trip--> open

An open breaker waits out its ``reset_timeout`` whatever arrives meanwhile: only
the half-open state closes on a success, so a breaker does not flap closed on
one answer.

The breaker guards the venue's order path, which is REST (an order socket falls
back to REST when it is down), so its inputs are REST outcomes alone. A
*success* is a REST answer from the venue (an answer that refuses one request,
such as an order rejected with a venue code, proves the venue is up); a
*failure* is a transient REST failure (timeout, lost connection, HTTP 5xx, or a
server error said in an HTTP 200 answer: Bybit 10016, OKX 50001) or an order
whose outcome was lost. A success resets the count of consecutive
failures. Rate limits are the rate limiter's business, not the venue's health:
a 429 or 418 from the venue, and a refusal our own limiter raises without
sending anything, count as neither. Websocket connects and disconnects (market
data, private streams, order sockets) only keep the count of open connections:
a market-data socket that cannot connect says nothing about whether the REST
host takes orders.

Decide, don't act: the table returns :class:`Transition` values; the service
(:mod:`connector.health.service`) logs and publishes them. Time is an argument
(``now``, seconds on the caller's monotonic clock); nothing here sleeps or reads
a clock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs

from connector.errors import (
    ConnectorError,
    OrderOutcomeUnknown,
    RateLimited,
    RemoteError,
    TransientError,
)

__all__ = [
    "TRANSITIONS",
    "BreakerState",
    "BreakerTable",
    "Outcome",
    "Signal",
    "Transition",
    "VenueHealth",
    "classify_rest",
]


class BreakerState(enum.StrEnum):
    """A venue breaker's state."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Signal(enum.Enum):
    """What happened to a venue, as the transition table reads it."""

    SUCCESS = "success"
    """An answer from the venue."""
    FAILURE = "failure"
    """A failure that leaves the consecutive count below the threshold."""
    TRIP = "trip"
    """A failure that brings the consecutive count to the threshold (or past it)."""
    COOLED = "cooled"
    """``reset_timeout`` has passed since the breaker opened."""


class Outcome(enum.Enum):
    """How one REST outcome counts for the breaker (see :func:`classify_rest`)."""

    SUCCESS = "success"
    FAILURE = "failure"
    IGNORED = "ignored"


_C, _O, _H = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN

TRANSITIONS: Mapping[tuple[BreakerState, Signal], BreakerState] = {
    (_C, Signal.SUCCESS): _C,
    (_C, Signal.FAILURE): _C,
    (_C, Signal.TRIP): _O,
    (_O, Signal.FAILURE): _O,
    (_O, Signal.TRIP): _O,
    (_O, Signal.COOLED): _H,
    (_H, Signal.SUCCESS): _C,
    (_H, Signal.FAILURE): _O,
    (_H, Signal.TRIP): _O,
}
"""The whole state machine: ``(state, signal) -> next state``; absent pairs change nothing."""


def classify_rest(error: ConnectorError | None) -> Outcome:
    """How a REST outcome counts: ``None`` is a success, as is a venue's refusal.

    Rate limits (:class:`~connector.errors.RateLimited` and
    :class:`~connector.errors.IpBanned`) are ignored: the venue's 429 or 418 is
    held by the host's rate limiter for as long as the venue asked, and the same
    errors raised by that limiter, before anything is sent, say nothing of the
    venue. Other transient failures (:class:`~connector.errors.TransientError`:
    timeouts, lost connections, HTTP 5xx) and lost order outcomes
    (:class:`~connector.errors.OrderOutcomeUnknown`) are failures. Any other
    :class:`~connector.errors.RemoteError` (a rejection with a venue code, bad
    credentials, an unreadable body) means the venue answered: a success for its
    health. Errors that never reached the venue (configuration, local misuse)
    are ignored.
    """
    if error is None:
        return Outcome.SUCCESS
    if isinstance(error, RateLimited):
        return Outcome.IGNORED
    if isinstance(error, TransientError | OrderOutcomeUnknown):
        return Outcome.FAILURE
    if isinstance(error, RemoteError):
        return Outcome.SUCCESS
    return Outcome.IGNORED


@attrs.frozen(kw_only=True)
class VenueHealth:
    """A venue's breaker state and counters, as ``status()`` shows it."""

    venue: str
    state: BreakerState
    connected: int
    consecutive_failures: int
    last_reason: str | None = None
    opened: int = 0
    """Times the breaker has opened."""
    rest_successes: int = 0
    """REST outcomes counted as successes (answers, refusals included)."""
    rest_failures: int = 0
    """REST outcomes counted as failures."""


@attrs.frozen(kw_only=True)
class Transition:
    """A breaker changed state; the service logs it and publishes ``health.{venue}``."""

    venue: str
    old: BreakerState
    new: BreakerState
    reason: str | None


@attrs.define
class _Venue:
    """One venue's mutable breaker record (owned by its :class:`BreakerTable`)."""

    name: str
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probe_at: float | None = None
    last_reason: str | None = None
    connections: set[str] = attrs.field(factory=set)
    opened: int = 0
    rest_successes: int = 0
    rest_failures: int = 0

    def health(self) -> VenueHealth:
        return VenueHealth(
            venue=self.name,
            state=self.state,
            connected=len(self.connections),
            consecutive_failures=self.failures,
            last_reason=self.last_reason,
            opened=self.opened,
            rest_successes=self.rest_successes,
            rest_failures=self.rest_failures,
        )


class BreakerTable:
    """One circuit breaker per venue, driven by REST outcomes.

    Venues appear on first mention (or up front through ``venues``); an unknown
    venue is closed.

    Args:
        venues: Venues to report on before their first event.
        failure_threshold: Consecutive failures that open a closed breaker.
        reset_timeout: Seconds an open breaker waits before going ``half_open``;
            also how long a half-open breaker waits for its probe's outcome
            before it admits another.
    """

    def __init__(
        self,
        venues: Iterable[str] = (),
        *,
        failure_threshold: int = 3,
        reset_timeout: float = 30.0,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if reset_timeout <= 0:
            raise ValueError(f"reset_timeout must be > 0, got {reset_timeout}")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._venues = {name: _Venue(name) for name in venues}

    # -- inputs ----------------------------------------------------------------

    def connected(self, venue: str, conn_id: str) -> None:
        """A websocket of ``venue`` connected: counted, no signal (see the module)."""
        self._venue(venue).connections.add(conn_id)

    def disconnected(self, venue: str, conn_id: str) -> None:
        """A websocket of ``venue`` went down: counted, no signal (see the module)."""
        self._venue(venue).connections.discard(conn_id)

    def rest(self, venue: str, error: ConnectorError | None, now: float) -> Transition | None:
        """One REST request's outcome: ``None`` for success, else the error it raised.

        See :func:`classify_rest` for what counts as a failure. An ignored outcome
        while half-open frees the probe: that request never reached the venue (or
        was held back by a rate limit), so the next order may probe instead.
        """
        outcome = classify_rest(error)
        if outcome is Outcome.IGNORED:
            record = self._venues.get(venue)
            if record is not None and record.state is BreakerState.HALF_OPEN:
                record.probe_at = None
            return None
        record = self._venue(venue)
        if outcome is Outcome.FAILURE:
            record.rest_failures += 1
            return self._failure(record, str(error), now)
        record.rest_successes += 1
        return self._signal(record, Signal.SUCCESS, "venue answered", now)

    def expire(self, now: float) -> list[Transition]:
        """Open breakers whose ``reset_timeout`` has passed go ``half_open``."""
        changes = []
        for record in self._venues.values():
            if record.state is BreakerState.OPEN and now >= record.opened_at + self.reset_timeout:
                change = self._signal(record, Signal.COOLED, "reset timeout passed", now)
                if change is not None:
                    changes.append(change)
        return changes

    # -- queries ---------------------------------------------------------------

    def allows(self, venue: str, now: float) -> bool:
        """Whether a request (an order) may go to ``venue`` now.

        ``closed``: yes. ``open``: no. ``half_open``: yes for one probe: the first
        call admits it and later calls answer no until its outcome arrives
        (through :meth:`rest`, which closes or reopens the breaker, or frees the
        probe when it was ignored), or until ``reset_timeout`` passes without one
        (the probe was never sent), when the next call admits another.
        """
        record = self._venues.get(venue)
        if record is None or record.state is BreakerState.CLOSED:
            return True
        if record.state is BreakerState.OPEN:
            return False
        if record.probe_at is not None and now < record.probe_at + self.reset_timeout:
            return False
        record.probe_at = now
        return True

    def next_deadline(self) -> float:
        """When :meth:`expire` next has something to do (``inf`` when never)."""
        return min(
            (
                r.opened_at + self.reset_timeout
                for r in self._venues.values()
                if r.state is BreakerState.OPEN
            ),
            default=float("inf"),
        )

    def health(self, venue: str) -> VenueHealth:
        """A frozen view of one venue (closed and empty if never seen)."""
        record = self._venues.get(venue)
        return (record or _Venue(venue)).health()

    def venues(self) -> dict[str, VenueHealth]:
        """A frozen view of every venue, sorted by name."""
        return {name: record.health() for name, record in sorted(self._venues.items())}

    # -- the machine -----------------------------------------------------------

    def _venue(self, venue: str) -> _Venue:
        record = self._venues.get(venue)
        if record is None:
            record = self._venues[venue] = _Venue(venue)
        return record

    def _failure(self, record: _Venue, reason: str | None, now: float) -> Transition | None:
        record.failures += 1
        record.last_reason = reason
        signal = Signal.TRIP if record.failures >= self.failure_threshold else Signal.FAILURE
        return self._signal(record, signal, reason, now)

    def _signal(
        self, record: _Venue, signal: Signal, reason: str | None, now: float
    ) -> Transition | None:
        if signal is Signal.SUCCESS:
            record.failures = 0
        old = record.state
        new = TRANSITIONS.get((old, signal), old)
        if new is old:
            return None
        record.state = new
        record.probe_at = None
        if new is BreakerState.OPEN:
            record.opened_at = now
            record.opened += 1
        return Transition(venue=record.name, old=old, new=new, reason=reason)
