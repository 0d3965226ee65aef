"""The health service: feeds the breaker table and publishes its changes.

It takes REST outcomes through :meth:`HealthService.record_rest` (a plain call
the REST layer makes for each request), which drive the breakers; follows
``connection.>`` on the bus to count each venue's websockets (they move no
breaker: see :mod:`connector.health.breaker`); moves open breakers to
``half_open`` when their reset timeout passes; hears from the event store through
:meth:`HealthService.store_changed`; and publishes on ``health.{venue}`` a
:class:`HealthEvent` whenever a venue's breaker or its overall status
(:func:`~connector.health.breaker.venue_status`) changes, and on every venue's
topic when the store fails or is back (logged as ``health.state_changed`` and
``health.status_changed``). The order path asks :meth:`HealthService.allows`
before it sends.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import attrs
import structlog
import trio

from connector.bus import Bus
from connector.errors import ConnectorError
from connector.health.breaker import (
    BreakerState,
    BreakerTable,
    HealthStatus,
    Transition,
    VenueHealth,
)
from connector.model import ConnectionEvent, ConnectionStatus

__all__ = ["HealthEvent", "HealthService", "HealthStatistics"]

log = structlog.get_logger(__name__)

_FIRST = (BreakerState.CLOSED, HealthStatus.HEALTHY)
"""What a venue is taken to be before its first publication."""


@attrs.frozen(kw_only=True)
class HealthEvent:
    """Published on ``health.{venue}`` when a venue's breaker or status changes, and
    when the event store fails or is back."""

    venue: str
    state: BreakerState
    """The venue's breaker now."""
    reason: str | None
    """Why this event: the breaker change's reason, the store's, else ``status_reason``."""
    ts_event_ns: int
    store_error: str | None = None
    """Why the event store cannot write (order commands are refused meanwhile);
    ``None`` while it can."""
    status: HealthStatus = HealthStatus.HEALTHY
    """The venue's overall status now (:func:`~connector.health.breaker.venue_status`)."""
    status_reason: str | None = None
    """The first rule that made the status what it is; ``None`` when healthy."""


@attrs.frozen(kw_only=True)
class HealthStatistics:
    """A frozen snapshot of the health service."""

    venues: tuple[VenueHealth, ...]
    """Every venue's breaker, sorted by venue."""
    connection_events: int
    """Connection events read from the bus."""
    rest_outcomes: int
    """REST outcomes recorded (ignored ones included)."""
    transitions: int
    """Breaker state changes published."""
    status_changes: int = 0
    """Venue status changes (healthy, degraded, down) published."""


class HealthService:
    """Service: one circuit breaker per venue, fed by REST outcomes.

    Args:
        bus: Where connection events arrive and health events go.
        venues: Venues to report on even before their first event.
        failure_threshold: Consecutive failures (transient REST failures, lost
            order outcomes) that open a closed breaker.
        reset_timeout: Seconds an open breaker waits before ``half_open``.
    """

    def __init__(
        self,
        bus: Bus,
        venues: Iterable[str] = (),
        *,
        failure_threshold: int = 3,
        reset_timeout: float = 30.0,
    ) -> None:
        self._bus = bus
        self._table = BreakerTable(
            venues, failure_threshold=failure_threshold, reset_timeout=reset_timeout
        )
        self._wait: trio.CancelScope | None = None
        self._connection_events = 0
        self._rest_outcomes = 0
        self._transitions = 0
        self._status_changes = 0
        self._published = {
            name: (health.state, health.status) for name, health in self._table.venues().items()
        }

    @property
    def store_error(self) -> str | None:
        """Why the event store cannot write now, else ``None``."""
        return self._table.store_error

    def venues(self) -> dict[str, VenueHealth]:
        """A frozen view of every venue's health, sorted by venue."""
        return self._table.venues()

    def allows(self, venue: str) -> bool:
        """Whether an order may go to ``venue`` now: closed, or half-open admitting a probe.

        In ``half_open`` a True answer admits the one probe (see
        :meth:`BreakerTable.allows <connector.health.breaker.BreakerTable.allows>`);
        its outcome must come back through :meth:`record_rest`.
        """
        return self._table.allows(venue, trio.current_time())

    def record_rest(self, venue: str, error: ConnectorError | None) -> None:
        """Count one REST request's outcome: ``None`` when it succeeded, else its error.

        Never blocks and never raises for the outcome itself: transient failures
        (timeouts, lost connections, HTTP 5xx) count towards opening the
        breaker; a venue's refusal of one request does not (the venue answered),
        nor does a rate limit (the venue's 429/418, or our limiter's refusal).
        Call it from any task of the same trio run.
        """
        self._rest_outcomes += 1
        change = self._table.rest(venue, error, trio.current_time())
        if change is not None:  # the status follows the breaker: unchanged without it
            self._publish_changes([change], venue)
            self._rearm()

    def store_changed(self, error: str | None) -> None:
        """The event store failed (``error``) or is back (``None``): published on every
        venue's ``health.{venue}`` (orders are refused while it is down; each venue is
        ``degraded`` at least)."""
        if error == self.store_error:
            return
        self._table.store(error)
        if error is None:
            log.info("health.store_back")
        else:
            log.error("health.store_failed", error=error)
        now = time.time_ns()
        for venue, health in self._table.venues().items():
            self._note_status(health)
            self._bus.publish(
                f"health.{venue}",
                self._event(
                    health,
                    health.last_reason if error is None else f"event store: {error}",
                    now,
                ),
            )

    def statistics(self) -> HealthStatistics:
        """A frozen snapshot: every venue's breaker and the service's counters."""
        return HealthStatistics(
            venues=tuple(self._table.venues().values()),
            connection_events=self._connection_events,
            rest_outcomes=self._rest_outcomes,
            transitions=self._transitions,
            status_changes=self._status_changes,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Follow ``connection.>`` (a ``fail`` subscription) until cancelled."""
        async with self._bus.subscribe("connection.>", overflow="fail") as events:
            task_status.started()
            while True:
                self._wait = trio.CancelScope(deadline=self._table.next_deadline())
                with self._wait:
                    event = await events.receive()
                    if isinstance(event, ConnectionEvent):
                        self._on_connection(event)
                self._wait = None
                self._publish_changes(self._table.expire(trio.current_time()))

    def _rearm(self) -> None:
        """A breaker opened outside the loop: wake the loop at its reset deadline."""
        if self._wait is not None:
            self._wait.deadline = min(self._wait.deadline, self._table.next_deadline())

    def _on_connection(self, event: ConnectionEvent) -> None:
        self._connection_events += 1
        if event.status is ConnectionStatus.CONNECTED:
            self._table.connected(event.venue, event.conn_id)
        elif event.status is ConnectionStatus.DISCONNECTED:
            self._table.disconnected(event.venue, event.conn_id)
        elif event.status is ConnectionStatus.CONNECTING:
            self._table.connecting(event.venue, event.conn_id)
        self._publish_changes([], event.venue)

    def _publish_changes(self, changes: list[Transition], venue: str | None = None) -> None:
        """Publish ``health.{venue}`` for each breaker change, and for each venue whose
        status changed without one: every venue, or only ``venue`` (the one an input
        was about)."""
        by_venue = {change.venue: change for change in changes}
        now = time.time_ns()
        views = self._table.venues() if venue is None else {venue: self._table.health(venue)}
        for name, health in views.items():
            change = by_venue.get(name)
            now_is = (health.state, health.status)
            if change is None and self._published.get(name, _FIRST) == now_is:
                continue
            if change is not None:
                self._transitions += 1
                log.info(
                    "health.state_changed",
                    venue=name,
                    old=change.old.value,
                    new=change.new.value,
                    reason=change.reason,
                )
            self._note_status(health)
            reason = change.reason if change is not None else health.status_reason
            self._bus.publish(f"health.{name}", self._event(health, reason, now))

    def _note_status(self, health: VenueHealth) -> None:
        """Remember what ``health.{venue}`` last said; log a status change."""
        old = self._published.get(health.venue, _FIRST)
        if old[1] is not health.status:
            self._status_changes += 1
            log.info(
                "health.status_changed",
                venue=health.venue,
                old=old[1].value,
                new=health.status.value,
                reason=health.status_reason,
            )
        self._published[health.venue] = (health.state, health.status)

    def _event(self, health: VenueHealth, reason: str | None, ts_ns: int) -> HealthEvent:
        return HealthEvent(
            venue=health.venue,
            state=health.state,
            reason=reason,
            ts_event_ns=ts_ns,
            store_error=self.store_error,
            status=health.status,
            status_reason=health.status_reason,
        )
