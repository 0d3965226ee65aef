"""Per-venue health: a circuit breaker fed by connection events.

``closed`` (healthy) -> ``open`` after ``failure_threshold`` consecutive
disconnects -> ``half_open`` once ``reset_timeout`` has passed -> ``closed`` on
the next successful connect, or back to ``open`` on the next failure. Each
change is published on ``health.{venue}``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs
import structlog
import trio

from connector.bus import Bus
from connector.model import ConnectionEvent, ConnectionStatus

__all__ = ["BreakerState", "HealthEvent", "HealthMonitor", "VenueHealth"]

log = structlog.get_logger(__name__)


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@attrs.frozen(kw_only=True)
class VenueHealth:
    """A venue's breaker state and connection counts, as ``status()`` shows it."""

    venue: str
    state: BreakerState
    connected: int
    consecutive_failures: int
    last_reason: str | None = None


@attrs.frozen(kw_only=True)
class HealthEvent:
    """Published on ``health.{venue}`` when a venue's breaker changes state."""

    venue: str
    state: BreakerState
    reason: str | None
    ts_event_ns: int


@attrs.define
class _Breaker:
    venue: str
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    last_reason: str | None = None
    connections: set[str] = attrs.field(factory=set)


class HealthMonitor:
    """Service: watches ``connection.>`` and keeps one breaker per venue.

    Args:
        bus: Where connection events arrive and health events go.
        venues: Venues to report on even before their first event.
        failure_threshold: Consecutive disconnects that open the breaker.
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
        self._threshold = failure_threshold
        self._reset_timeout = reset_timeout
        self._breakers = {v: _Breaker(v) for v in venues}

    def venues(self) -> dict[str, VenueHealth]:
        """A frozen view of every venue's health."""
        return {
            name: VenueHealth(
                venue=name,
                state=b.state,
                connected=len(b.connections),
                consecutive_failures=b.failures,
                last_reason=b.last_reason,
            )
            for name, b in sorted(self._breakers.items())
        }

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with self._bus.subscribe("connection.>", overflow="fail") as events:
            task_status.started()
            while True:
                with trio.move_on_at(self._next_deadline()):
                    event = await events.receive()
                    if isinstance(event, ConnectionEvent):
                        self._on_connection(event)
                self._expire(trio.current_time())

    def _next_deadline(self) -> float:
        opened = [b.opened_at for b in self._breakers.values() if b.state is BreakerState.OPEN]
        return min(opened) + self._reset_timeout if opened else float("inf")

    def _on_connection(self, event: ConnectionEvent) -> None:
        b = self._breakers.setdefault(event.venue, _Breaker(event.venue))
        if event.status is ConnectionStatus.CONNECTED:
            b.connections.add(event.conn_id)
            b.failures = 0
            if b.state is not BreakerState.CLOSED:
                self._move(b, BreakerState.CLOSED, "connected", event.ts_recv_ns)
        elif event.status is ConnectionStatus.DISCONNECTED:
            b.connections.discard(event.conn_id)
            b.failures += 1
            b.last_reason = event.reason
            if b.state is BreakerState.HALF_OPEN or (
                b.state is BreakerState.CLOSED and b.failures >= self._threshold
            ):
                b.opened_at = trio.current_time()
                self._move(b, BreakerState.OPEN, event.reason, event.ts_recv_ns)

    def _expire(self, now: float) -> None:
        for b in self._breakers.values():
            if b.state is BreakerState.OPEN and now >= b.opened_at + self._reset_timeout:
                self._move(b, BreakerState.HALF_OPEN, "reset timeout passed", 0)

    def _move(self, b: _Breaker, state: BreakerState, reason: str | None, ts_ns: int) -> None:
        log.info(
            "health.state_changed", venue=b.venue, old=b.state.value, new=state.value, reason=reason
        )
        b.state = state
        self._bus.publish(
            f"health.{b.venue}",
            HealthEvent(venue=b.venue, state=state, reason=reason, ts_event_ns=ts_ns),
        )
