"""The risk service: pre-trade checks with live state, and the kill switch.

A permanent child of the root (design.md section 3). It holds the pure
:class:`~connector.risk.checks.RiskChecks` and feeds them the state they need
from the venues that trade (each venue's order service registers a
:class:`VenueRisk`: its open orders, positions, book mids and a way to cancel
everything). Every refusal and every action is published on ``risk.alert`` as
a :class:`~connector.model.RiskAlert`, and, while ``max_position_qty`` is set, every
position (``position.>``) that goes beyond it however it got there (fills of orders
placed elsewhere, a position held at the start) and comes back within it.

The kill switch (:meth:`RiskService.kill`) refuses new orders at once (reduce-only
ones still pass), then cancels every open order on every venue, concurrently,
and reports how that went; it stays thrown until :meth:`RiskService.resume`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from decimal import Decimal

import attrs
import structlog
import trio

from connector.account.reservations import drawn_asset
from connector.bus import Bus
from connector.config.values import RiskConfig
from connector.errors import CancelAllIncomplete, ConnectorError, RiskRejected
from connector.model import (
    Order,
    OrderType,
    PlaceOrder,
    Position,
    RiskAlert,
    RiskAlertKind,
    Side,
    Symbol,
)
from connector.risk.checks import Exposure, KillSwitch, RiskChecks

__all__ = ["RiskService", "RiskState", "VenueRisk"]

log = structlog.get_logger(__name__)

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class VenueRisk:
    """What the risk service reads from, and asks of, one trading venue.

    Attributes:
        open_orders: The venue's open orders as known now.
        position: The signed position of a symbol (0 when flat or unknown).
        mid: The mid of a symbol's book when that book is valid, else ``None``.
        cancel_all: Cancels every open order of the venue; returns them.
    """

    open_orders: Callable[[], list[Order]]
    position: Callable[[Symbol], Decimal]
    mid: Callable[[Symbol], Decimal | None]
    cancel_all: Callable[[], Awaitable[list[Order]]]


@attrs.frozen(kw_only=True)
class RiskState:
    """What ``c.risk.state`` returns.

    Attributes:
        killed: The kill switch is thrown (only reduce-only orders pass).
        reason: Why it was thrown.
        since_ns: When (wall clock), ``None`` when not killed.
        allowed: Orders the checks let through.
        rejected: Refusals per limit name.
    """

    killed: bool
    reason: str | None
    since_ns: int | None
    allowed: int
    rejected: Mapping[str, int]


class RiskService:
    """Service ``risk``: checks orders against the ``[risk]`` limits; the kill switch.

    Args:
        limits: The configured limits.
        bus: Where ``risk.alert`` goes.
        wall_clock_ns: The time alerts and the kill switch carry.
    """

    def __init__(
        self,
        limits: RiskConfig,
        bus: Bus,
        *,
        wall_clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.checks = RiskChecks(limits, now_ns=wall_clock_ns())
        self._bus = bus
        self._now = wall_clock_ns
        self._venues: dict[str, VenueRisk] = {}
        self._available: dict[str, Callable[[str], Decimal | None]] = {}
        # Amendments sent and not yet answered, by (venue, client order id): the
        # order as it would become, counted at its larger size until the answer.
        self._amending: dict[tuple[str, str], PlaceOrder] = {}
        # Positions alerted as beyond max_position_qty and not yet back within it.
        self._beyond: set[tuple[str, Symbol]] = set()

    def register(self, venue: str, risk: VenueRisk) -> None:
        """A venue that trades: its state for the checks, its cancel for the kill switch."""
        self._venues[venue] = risk

    def register_available(self, venue: str, available: Callable[[str], Decimal | None]) -> None:
        """What is available of an asset on ``venue`` (``check_balance``); ``None``
        when the venue never reported the asset."""
        self._available[venue] = available

    @property
    def state(self) -> RiskState:
        stats = self.checks.statistics()
        kill = stats.kill_switch
        return RiskState(
            killed=kill.killed,
            reason=kill.reason,
            since_ns=kill.since_ns,
            allowed=stats.allowed,
            rejected=stats.rejected,
        )

    @property
    def kill_switch(self) -> KillSwitch:
        return self.checks.kill_switch

    def check(self, order: PlaceOrder) -> None:
        """Allow ``order`` (normalised, base units) or refuse it.

        Raises:
            RiskRejected: naming the limit; the refusal is published on ``risk.alert``.
        """
        self._decided(
            order,
            self.checks.check(order, self.exposure(order, only_limits=True), now_ns=_trio_ns()),
        )

    def check_amend(self, before: PlaceOrder, after: PlaceOrder) -> None:
        """Allow an open order ``before`` (base units) to become ``after``, or refuse it.
        The caller holds :meth:`amending` from then until the venue's answer.

        Raises:
            RiskRejected: naming the limit; the refusal is published on ``risk.alert``.
        """
        exposure = self.exposure(after, only_limits=True)
        self._decided(after, self.checks.check_amend(before, after, exposure))

    @contextlib.contextmanager
    def amending(self, after: PlaceOrder) -> Iterator[None]:
        """While an amendment making an order ``after`` is in flight, the exposure of
        every other order counts that order at the larger of its known and its new
        size (an amendment is not written ahead as a placement is, so two at once
        would each be checked against the other's old size)."""
        key = (after.venue, after.client_order_id)
        self._amending[key] = after
        try:
            yield
        finally:
            if self._amending.get(key) is after:
                del self._amending[key]

    def _decided(self, order: PlaceOrder, decision: RiskRejected | None) -> None:
        if decision is None:
            return
        self.alert(
            RiskAlertKind.BREACH,
            str(decision),
            limit=decision.limit,
            venue=order.venue,
            symbol=order.symbol,
            client_order_id=order.client_order_id,
        )
        raise decision

    def exposure(self, order: PlaceOrder, *, only_limits: bool = False) -> Exposure:
        """What ``order`` adds to: position, open orders of its side, the venue's count, mid.

        Args:
            order: The order about to be checked.
            only_limits: Read only what the configured limits look at (the rest
                stays at its zero default): with no position limit the open orders
                are not summed, with no notional or price band the book is not read.
        """
        venue = self._venues.get(order.venue)
        if venue is None:
            return Exposure()
        limits = self.checks.limits
        available = self._available_for(order)
        if only_limits and limits.max_position_qty is None:
            mid = None
            if (
                limits.max_order_notional is not None
                or limits.price_band_pct is not None
                or (limits.check_balance and order.type is OrderType.MARKET)
            ):
                mid = venue.mid(order.symbol)
            count = 0 if limits.max_open_orders is None else len(venue.open_orders())
            return Exposure(open_orders=count, mid=mid, available=available)
        open_orders = venue.open_orders()
        symbol = order.symbol
        amending = self._amending
        buy = sell = _ZERO
        for o in open_orders:
            # Runs over every open order for every new one: identity first (symbols
            # parsed from the same text are one object), then equality.
            if o.reduce_only or (o.symbol is not symbol and o.symbol != symbol):
                continue
            qty = o.qty
            if amending:
                pending = amending.get((o.venue, o.client_order_id))
                if pending is not None and pending.qty > qty:
                    qty = pending.qty
            if o.side is Side.BUY:
                buy += qty - o.filled_qty
            else:
                sell += qty - o.filled_qty
        return Exposure(
            position_qty=venue.position(order.symbol),
            open_buy_qty=buy,
            open_sell_qty=sell,
            open_orders=len(open_orders),
            mid=venue.mid(order.symbol),
            available=available,
        )

    def _available_for(self, order: PlaceOrder) -> Decimal | None:
        """What is available of the asset ``order`` draws on, read only for
        ``check_balance`` and a spot order (``None`` otherwise)."""
        if not self.checks.limits.check_balance:
            return None
        asset = drawn_asset(order.symbol, order.side)
        available = self._available.get(order.venue)
        return None if asset is None or available is None else available(asset)

    def record_order(self, venue: str) -> None:
        """An order is being sent to ``venue`` (it uses one token of the order rate)."""
        self.checks.record_order(venue, now_ns=_trio_ns())

    async def kill(self, reason: str) -> RiskState:
        """Throw the kill switch: refuse new orders, cancel every open order on every venue.

        Returns once every venue's cancellations are done (those that failed are
        counted and named on ``risk.alert``; the switch stays thrown).
        """
        self.checks.kill(reason, now_ns=self._now())
        self.alert(RiskAlertKind.KILL, f"kill switch: {reason}", limit="kill_switch")
        log.warning("risk.kill", reason=reason, venues=list(self._venues))
        canceled = 0
        failures: list[str] = []

        async def cancel(name: str, venue: VenueRisk) -> None:
            nonlocal canceled
            try:
                orders = await venue.cancel_all()
            except CancelAllIncomplete as incomplete:
                orders = incomplete.orders
                failures.extend(f"{name}: {why}" for why in incomplete.failures.values())
            except ConnectorError as exc:
                failures.append(f"{name}: {exc}")
                return
            for order in orders:
                if order.status.is_terminal:
                    canceled += 1
                else:
                    failures.append(f"{name} {order.client_order_id}: still {order.status.value}")

        async with trio.open_nursery() as nursery:
            for name, venue in self._venues.items():
                nursery.start_soon(cancel, name, venue)
        message = f"kill switch: {canceled} order{'' if canceled == 1 else 's'} canceled"
        if failures:
            message += f"; {len(failures)} failed: " + "; ".join(failures)
        self.alert(
            RiskAlertKind.KILL_DONE,
            message,
            limit="kill_switch",
            canceled=canceled,
            failed=len(failures),
        )
        log.warning("risk.kill_done", canceled=canceled, failed=failures)
        return self.state

    def resume(self) -> RiskState:
        """Allow new orders again."""
        self.checks.resume()
        self.alert(RiskAlertKind.RESUME, "trading resumed", limit="kill_switch")
        log.info("risk.resume")
        return self.state

    def alert(self, kind: RiskAlertKind, message: str, **fields: object) -> None:
        """Publish one alert on ``risk.alert``."""
        self._bus.publish(
            "risk.alert",
            RiskAlert(kind=kind, message=message, ts_ns=self._now(), **fields),  # type: ignore[arg-type]
        )

    def on_position(self, position: Position) -> None:
        """A position changed: alert when it goes beyond ``max_position_qty`` (once) and
        when it is back within it."""
        key = (position.venue, position.symbol)
        beyond = self.checks.beyond_position_limit(position.qty)
        if beyond == (key in self._beyond):
            return
        limit = self.checks.limits.max_position_qty
        where = f"{position.venue} {position.symbol}: position {position.qty}"
        if beyond:
            self._beyond.add(key)
            kind, message = RiskAlertKind.EXPOSURE, f"{where} is beyond max_position_qty {limit}"
            log.warning("risk.exposure", venue=position.venue, symbol=str(position.symbol),
                        qty=str(position.qty), limit=str(limit))  # fmt: skip
        else:
            self._beyond.discard(key)
            kind, message = RiskAlertKind.EXPOSURE_CLEARED, f"{where}, within max_position_qty"
        self.alert(
            kind, message, limit="max_position_qty", venue=position.venue, symbol=position.symbol
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Follows the positions while ``max_position_qty`` is set (:meth:`on_position`);
        otherwise holds no task of its own. Ready at once."""
        if self.checks.limits.max_position_qty is None:
            task_status.started()
            await trio.sleep_forever()
        async with self._bus.subscribe("position.>") as positions:
            task_status.started()
            async for event in positions:
                if isinstance(event, Position):
                    self.on_position(event)


def _trio_ns() -> int:
    """Trio's clock in ns (the order rate's time: monotonic, and virtual in tests)."""
    return int(trio.current_time() * 1e9)
