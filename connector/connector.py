"""The ``Connector`` facade: one object a program opens to reach every venue.

It owns the bus and the root of the supervision tree (design.md section 3) and
routes calls to the venue subtrees (the seed's CoordinatorActor)::

    async with Connector(load_config("connector.toml")) as c:
        async for tick in c.subscribe("ticker.binance.*"):
            ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Iterator
from types import TracebackType
from typing import TypeVar

import attrs
import structlog
import trio

from connector.bus import Bus, Overflow, Subscription
from connector.config import Config, load_config
from connector.errors import ConnectorError
from connector.health import HealthMonitor, VenueHealth
from connector.supervision import (
    ChildSpec,
    Restart,
    Strategy,
    Supervisor,
    SupervisorSnapshot,
    render_tree,
)

__all__ = ["Connector", "ConnectorStatus"]

T = TypeVar("T")

log = structlog.get_logger(__name__)


@attrs.frozen(kw_only=True)
class ConnectorStatus:
    """What ``Connector.status()`` returns: the supervision tree and venue health."""

    tree: SupervisorSnapshot
    venues: dict[str, VenueHealth]

    def render(self) -> str:
        """A plain-text tree followed by one health line per venue."""
        lines = [render_tree(self.tree)]
        for name, health in self.venues.items():
            lines.append(
                f"venue {name}: breaker {health.state.value}, {health.connected} connected, "
                f"{health.consecutive_failures} consecutive failures"
                + (f", last: {health.last_reason}" if health.last_reason else "")
            )
        return "\n".join(lines)


class Connector:
    """Connects one program to the configured venues.

    Use as ``async with Connector(config) as c:``. Entering starts the whole
    supervision tree and returns once every service reports ready; leaving
    cancels every task it started and returns within ``stop_timeout`` seconds
    (services honour cancellation; none is left behind).

    Args:
        config: What to connect to; ``None`` loads the default (simulated venues).
        stop_timeout: Upper bound on shutdown, in seconds.
    """

    def __init__(self, config: Config | None = None, *, stop_timeout: float = 10.0) -> None:
        self._config = config if config is not None else load_config(None)
        self._stop_timeout = stop_timeout
        self._bus = Bus()
        self._health = HealthMonitor(self._bus, self._enabled_venues())
        self._root = Supervisor(
            "root",
            self._root_children(),
            strategy=Strategy.ONE_FOR_ONE,
            intensity=5,
            period=10.0,
        )
        self._stack: contextlib.AsyncExitStack | None = None
        self._nursery: trio.Nursery | None = None

    @property
    def config(self) -> Config:
        return self._config

    def _enabled_venues(self) -> list[str]:
        return [name for name, venue in self._config.venues.items() if venue.enabled]

    def _root_children(self) -> list[ChildSpec]:
        return [ChildSpec("health", self._health, restart=Restart.PERMANENT)]

    async def __aenter__(self) -> Connector:
        if self._stack is not None:
            raise ConnectorError("this Connector is already open; create a new one")
        stack = contextlib.AsyncExitStack()
        nursery = await stack.enter_async_context(trio.open_nursery())
        try:
            await nursery.start(self._root.run)
        except BaseException:
            nursery.cancel_scope.cancel()
            await _unwrapped(stack.aclose())
            raise
        self._stack, self._nursery = stack, nursery
        log.info("connector.started", venues=self._enabled_venues())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        stack, nursery = self._stack, self._nursery
        assert stack is not None and nursery is not None, "__aexit__ without __aenter__"
        self._stack = self._nursery = None
        nursery.cancel_scope.deadline = min(
            nursery.cancel_scope.deadline, trio.current_time() + self._stop_timeout
        )
        nursery.cancel_scope.cancel()
        self._bus.close()
        suppressed = await _unwrapped(stack.__aexit__(exc_type, exc, tb))
        log.info("connector.stopped")
        return suppressed

    def subscribe(
        self,
        pattern: str,
        *,
        buffer: int | None = None,
        overflow: Overflow | str | None = None,
    ) -> Subscription:
        """Subscribe to bus topics (``*`` one token, ``>`` the rest).

        Usable as ``async with c.subscribe(p) as sub`` or ``async for e in
        c.subscribe(p)``; leaving either unsubscribes. ``overflow`` defaults to
        ``drop_oldest`` for market data and ``fail`` for orders, positions,
        balances and risk.
        """
        return self._bus.subscribe(pattern, buffer=buffer, overflow=overflow)

    def status(self) -> ConnectorStatus:
        """The supervision tree snapshot plus per-venue health."""
        return ConnectorStatus(tree=self._root.snapshot(), venues=self._health.venues())


async def _unwrapped(awaitable: Awaitable[T]) -> T:
    """Await, turning an exception group with one real error into that error.

    Trio nurseries wrap errors in groups; a user of ``async with Connector``
    should see ``SupervisorGaveUp`` itself, not a group around it.
    """
    try:
        return await awaitable
    except BaseExceptionGroup as group:
        leaves = list(_leaves(group))
        if len(leaves) == 1 and not isinstance(leaves[0], trio.Cancelled):
            raise leaves[0] from None
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc
