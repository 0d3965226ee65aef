"""Per-venue health: a pure breaker table (:mod:`.breaker`) and its trio service (:mod:`.service`).

The order path asks :meth:`HealthService.allows`; the REST layer reports each
outcome through :meth:`HealthService.record_rest`, which drives the breakers;
websocket connection events arrive on the bus and are counted. Each venue's
overall status (healthy, degraded, down) is decided by
:func:`~connector.health.breaker.venue_status`; breaker and status changes are
published on ``health.{venue}``.
"""

from connector.health.breaker import (
    BreakerState,
    BreakerTable,
    HealthStatus,
    Transition,
    VenueHealth,
    venue_status,
)
from connector.health.service import HealthEvent, HealthService, HealthStatistics

__all__ = [
    "BreakerState",
    "BreakerTable",
    "HealthEvent",
    "HealthService",
    "HealthStatistics",
    "HealthStatus",
    "Transition",
    "VenueHealth",
    "venue_status",
]
