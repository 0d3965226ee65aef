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
whose outcome was lost. (The order service does not report the answer to a query
of one order unless it is a failure: those queries resolve lost outcomes.) A
success resets the count of consecutive failures. Rate limits are the rate
limiter's business, not the venue's health: a 429 or 418 from the venue, and a
refusal our own limiter raises without sending anything, count as neither.
Websocket connects and disconnects (market data, private streams, order sockets)
only keep the count of open connections: a market-data socket that cannot
connect says nothing about whether the REST host takes orders.

Over the breaker sits each venue's overall :class:`HealthStatus` (``healthy``,
``degraded``, ``down``), decided by :func:`venue_status` from the breaker, the
venue's websockets and whether the event store writes (:meth:`BreakerTable.store`);
every :class:`VenueHealth` carries it.

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
from connector.model import HealthStatus

__all__ = [
    "TRANSITIONS",
    "BreakerState",
    "BreakerTable",
    "HealthStatus",
    "Outcome",
    "Signal",
    "Transition",
    "VenueHealth",
    "classify_rest",
    "venue_status",
]


class BreakerState(enum.StrEnum):
    """A venue breaker's state."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


def venue_status(
    *,
    state: BreakerState,
    connected: int,
    sockets: int,
    store_error: str | None = None,
) -> tuple[HealthStatus, str | None]:
    """A venue's health status and why: the first of these rules that holds, in order.

    ========  ==============================================  ===========================
    status    when                                            reason
    ========  ==============================================  ===========================
    down      the breaker is ``open`` (orders are refused)    ``breaker open``
    down      the venue has websockets and none is connected  ``no websocket connected
                                                              (0 of {sockets})``
    degraded  the breaker is ``half_open`` (one probe at a    ``breaker half-open:
              time)                                           probing the venue``
    degraded  the event store cannot write (order commands    ``event store not writing:
              are refused)                                    {error}``
    degraded  some of the venue's websockets are down         ``{down} of {sockets}
                                                              websockets down``
    healthy   none of the above                               ``None``
    ========  ==============================================  ===========================

    The rules are ordered worst first, so the reason is the one that made the
    status what it is. A venue's websockets are those it has reported on
    ``connection.{venue}`` (connecting, connected or disconnected); a venue that
    has reported none yet is not down for it. The breaker's own failure is not
    repeated: it is ``last_reason`` of :class:`VenueHealth` and the ``reason`` of
    the event that published the opening. Book validity, the account's
    reconciliation and the kill switch are not part of it: a book resyncing is
    shown by its own view, the account on its own status line, and the kill switch
    is not a venue's health.

    Args:
        state: The venue's breaker.
        connected: Its websockets connected now.
        sockets: Its websockets known (connected or not).
        store_error: Why the event store cannot write, ``None`` while it can.

    Returns:
        The status and its reason (``None`` when healthy).
    """
    if state is BreakerState.OPEN:
        return HealthStatus.DOWN, "breaker open"
    if sockets > 0 and connected == 0:
        return HealthStatus.DOWN, f"no websocket connected (0 of {sockets})"
    if state is BreakerState.HALF_OPEN:
        return HealthStatus.DEGRADED, "breaker half-open: probing the venue"
    if store_error is not None:
        return HealthStatus.DEGRADED, f"event store not writing: {store_error}"
    if connected < sockets:
        return HealthStatus.DEGRADED, f"{sockets - connected} of {sockets} websockets down"
    return HealthStatus.HEALTHY, None


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
    """A venue's health status, breaker state and counters, as ``status()`` shows it."""

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
    sockets: int = 0
    """Websockets the venue has reported (connected or not); ``connected`` of them are up."""
    status: HealthStatus = HealthStatus.HEALTHY
    """The overall status (:func:`venue_status`)."""
    status_reason: str | None = None
    """Why the status is what it is (``None`` when healthy)."""


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
    sockets: set[str] = attrs.field(factory=set)
    opened: int = 0
    rest_successes: int = 0
    rest_failures: int = 0

    def health(self, store_error: str | None) -> VenueHealth:
        status, why = venue_status(
            state=self.state,
            connected=len(self.connections),
            sockets=len(self.sockets),
            store_error=store_error,
        )
        return VenueHealth(
            venue=self.name,
            state=self.state,
            connected=len(self.connections),
            consecutive_failures=self.failures,
            last_reason=self.last_reason,
            opened=self.opened,
            rest_successes=self.rest_successes,
            rest_failures=self.rest_failures,
            sockets=len(self.sockets),
            status=status,
            status_reason=why,
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
        self.store_error: str | None = None
        """Why the event store cannot write (every venue is degraded), else ``None``."""

    # -- inputs ----------------------------------------------------------------

    def connecting(self, venue: str, conn_id: str) -> None:
        """A websocket of ``venue`` is connecting: known, not up; no signal."""
        record = self._venue(venue)
        record.sockets.add(conn_id)
        record.connections.discard(conn_id)

    def connected(self, venue: str, conn_id: str) -> None:
        """A websocket of ``venue`` connected: counted, no signal (see the module)."""
        record = self._venue(venue)
        record.sockets.add(conn_id)
        record.connections.add(conn_id)

    def disconnected(self, venue: str, conn_id: str) -> None:
        """A websocket of ``venue`` went down: counted, no signal (see the module)."""
        record = self._venue(venue)
        record.sockets.add(conn_id)
        record.connections.discard(conn_id)

    def store(self, error: str | None) -> None:
        """The event store cannot write (``error``), or writes again (``None``)."""
        self.store_error = error

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
        return (record or _Venue(venue)).health(self.store_error)

    def venues(self) -> dict[str, VenueHealth]:
        """A frozen view of every venue, sorted by name."""
        return {
            name: record.health(self.store_error) for name, record in sorted(self._venues.items())
        }

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
