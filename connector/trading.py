"""The trading half of the ``Connector`` facade: orders, fills and risk, routed per venue.

:class:`Trading` holds each trading venue's order service and the risk
service; the facade's ``place_order``, ``amend_order``, ``cancel_order``,
``cancel_all``, ``reconcile`` and ``fills`` are one-line calls into it, and ``c.orders`` and
``c.risk`` are the read-mostly views :class:`OrdersView` and :class:`RiskView`.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import trio

from connector.account.balances import BalanceBook
from connector.account.positions import PositionBook
from connector.account.reservations import Reservations
from connector.account.service import AccountService, ReconcileReport
from connector.account.views import BalancesView, PositionsView
from connector.bus import Bus
from connector.config import StorageConfig, VenueConfig
from connector.errors import (
    CancelAllIncomplete,
    ConfigError,
    ReconcileIncomplete,
    UnknownInstrument,
)
from connector.model import Fill, Order, OrderStatus, OrderType, Side, Symbol, TimeInForce
from connector.model.credentials import Credentials
from connector.oms.ids import ClientOrderIds, id_in_use, new_prefix
from connector.oms.order_socket import OrderSocket
from connector.oms.service import OrderService
from connector.oms.state import RANK
from connector.oms.tracking import OrderStateService
from connector.oms.validate import Number
from connector.risk.service import RiskService, RiskState
from connector.store.log import EventLog
from connector.store.service import Persistence
from connector.supervision import ChildSpec, Restart
from connector.venues.driver import OrderSocketEntry
from connector.venues.registry import TRADERS
from connector.venues.session import VenueSession

__all__ = [
    "OrdersView",
    "RiskView",
    "Since",
    "Trading",
    "attach_trading",
    "client_order_ids",
    "since_ns",
    "trading_credentials",
]


def _symbol(symbol: Symbol | str) -> Symbol:
    return symbol if isinstance(symbol, Symbol) else Symbol.parse(symbol)


class Trading:
    """Every trading venue's order service, and the risk service.

    Args:
        risk: The risk service (a root child).
    """

    def __init__(self, risk: RiskService) -> None:
        self.risk = risk
        self.venues: dict[str, OrderService] = {}
        self.accounts: dict[str, AccountService] = {}
        self.states: dict[str, OrderStateService] = {}
        self.history: Persistence | None = None
        """The persistence subtree (history reads); the facade attaches it."""
        self._changed = trio.Event()
        self.orders = OrdersView(self)
        self.risk_view = RiskView(risk)
        self.position_book = PositionBook()
        self.balance_book = BalanceBook()
        self.reservations = Reservations()
        self.positions = PositionsView(self.position_book, self._mid, self.venue)
        self.balances = BalancesView(self.balance_book, self.venue, self.reservations)

    def _mid(self, venue: str, symbol: Symbol) -> Decimal | None:
        account = self.accounts.get(venue)
        return None if account is None else account.mid(symbol)

    def add(self, service: OrderService) -> None:
        self.venues[service.venue] = service

    def changed(self) -> None:
        """Some order changed: wake everything waiting in :meth:`OrdersView.wait`."""
        self._changed.set()
        self._changed = trio.Event()

    async def next_change(self) -> None:
        await self._changed.wait()

    def venue(self, venue: str) -> OrderService:
        """The order service of ``venue``.

        Raises:
            ConfigError: the venue is not configured, or has no credentials.
        """
        service = self.venues.get(venue)
        if service is None:
            trading = ", ".join(self.venues) or "none"
            raise ConfigError(
                f"venue {venue!r} does not trade here: it is not enabled or has no "
                f"credentials (trading venues: {trading})"
            )
        return service

    async def place_order(
        self,
        venue: str,
        symbol: Symbol | str,
        side: Side | str,
        type: OrderType | str,
        qty: Number,
        price: Number | None = None,
        *,
        time_in_force: TimeInForce | str = TimeInForce.GTC,
        reduce_only: bool = False,
        client_order_id: str | None = None,
    ) -> Order:
        service = self.venue(venue)
        if client_order_id is not None:
            used = self._order_venue(client_order_id)
            if used is not None:
                raise id_in_use(client_order_id, used)
        return await service.place(
            _symbol(symbol),
            side,
            type,
            qty,
            price,
            time_in_force=time_in_force,
            reduce_only=reduce_only,
            client_order_id=client_order_id,
        )

    async def amend_order(
        self,
        venue: str,
        symbol: Symbol | str,
        client_order_id: str,
        *,
        qty: Number | None = None,
        price: Number | None = None,
    ) -> Order:
        return await self.venue(venue).amend(_symbol(symbol), client_order_id, qty=qty, price=price)

    async def cancel_order(self, venue: str, symbol: Symbol | str, client_order_id: str) -> Order:
        return await self.venue(venue).cancel(_symbol(symbol), client_order_id)

    async def cancel_all(
        self, venue: str | None = None, symbol: Symbol | str | None = None
    ) -> list[Order]:
        sym = None if symbol is None else _symbol(symbol)
        services = [self.venue(venue)] if venue is not None else list(self.venues.values())
        if sym is not None:
            services = [service for service in services if _lists(service, sym)]
            if not services:  # a typo, most likely: say so rather than cancel nothing
                raise UnknownInstrument(
                    f"{venue} does not list {sym}"
                    if venue is not None
                    else f"no trading venue lists {sym}"
                )
        results: dict[str, list[Order]] = {}
        failures: dict[str, str] = {}

        async def one(service: OrderService) -> None:
            try:
                results[service.venue] = await service.cancel_all(sym)
            except CancelAllIncomplete as incomplete:  # the other venues go on
                results[service.venue] = incomplete.orders
                failures.update(incomplete.failures)

        async with trio.open_nursery() as nursery:
            for service in services:
                nursery.start_soon(one, service)
        orders = [o for s in services for o in results[s.venue]]
        if failures:
            raise CancelAllIncomplete(orders, failures)
        return orders

    async def reconcile(
        self,
        venue: str | None = None,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109 (the public API names it)
    ) -> dict[str, ReconcileReport]:
        if not (
            isinstance(timeout, int | float)
            and not isinstance(timeout, bool)
            and math.isfinite(timeout)
            and timeout > 0
        ):
            raise ValueError(f"timeout: {timeout!r} is not a number of seconds > 0")
        if venue is not None:
            names = [self.venue(venue).venue]
        elif self.venues:
            names = list(self.venues)
        else:
            raise ConfigError("no venue trades here: none is enabled with credentials")
        reports: dict[str, ReconcileReport] = {}
        failures: dict[str, str] = {}

        async def one(account: AccountService) -> None:
            try:
                reports[account.venue] = await account.reconcile_now(timeout)
            except ReconcileIncomplete as incomplete:  # the other venues go on
                failures.update(incomplete.failures)

        async with trio.open_nursery() as nursery:
            for name in names:
                nursery.start_soon(one, self.accounts[name])
        done = {name: reports[name] for name in names if name in reports}
        if failures:
            raise ReconcileIncomplete(done, {n: failures[n] for n in names if n in failures})
        return done

    def fills(
        self,
        venue: str | None = None,
        symbol: Symbol | str | None = None,
        *,
        since: Since | None = None,
    ) -> list[Fill]:
        sym = None if symbol is None else _symbol(symbol)
        if since is not None:
            if venue is not None:
                self.venue(venue)  # a clear error for a venue that does not trade
            return [
                f
                for f in self._history().fills_since(since_ns(since))
                if (venue is None or f.venue == venue) and (sym is None or f.symbol == sym)
            ]
        services = [self.venue(venue)] if venue is not None else list(self.venues.values())
        return [f for s in services for f in s.state.fills(sym)]

    def _order_venue(self, client_order_id: str) -> str | None:
        """The venue of an order with that id: one this process knows, or (a trading
        venue this process does not run, a finished order it forgot) the event store."""
        for name, service in self.venues.items():
            if service.state.book.get(name, client_order_id) is not None:
                return name
        if self.history is None:
            return None
        return self.history.order_venue(client_order_id, sorted(TRADERS))

    def _history(self) -> Persistence:
        if self.history is None:
            raise ConfigError("no event store is attached to this connector")
        return self.history


def _lists(service: OrderService, symbol: Symbol) -> bool:
    """Whether the service's venue lists ``symbol`` (before its instruments are
    loaded: whether it has the symbol's market)."""
    try:
        service.state.instrument(symbol)
    except ConfigError:
        return False  # no such market there
    except UnknownInstrument:
        return not service.ready.is_set()
    return True


class OrdersView:
    """``c.orders``: every order of every trading venue, read-only."""

    def __init__(self, trading: Trading) -> None:
        self._trading = trading

    def get(self, client_order_id: str) -> Order | None:
        """The order with that client order id (on whichever venue), or ``None``."""
        for service in self._trading.venues.values():
            order = service.state.book.get(service.venue, client_order_id)
            if order is not None:
                return order
        return None

    def open(self, venue: str | None = None, symbol: Symbol | str | None = None) -> list[Order]:
        """Orders not finished yet (``unknown`` ones included).

        Raises:
            ConfigError: ``venue`` does not trade here.
        """
        if venue is not None:
            self._trading.venue(venue)
        sym = None if symbol is None else _symbol(symbol)
        return [
            o
            for name, s in self._trading.venues.items()
            if venue is None or name == venue
            for o in s.state.book.open(name, sym)
        ]

    def all(self, *, since: Since | None = None) -> list[Order]:
        """Every order kept, finished ones included.

        Args:
            since: Only orders updated at or after this time (a timezone-aware
                ``datetime`` or int ns since the epoch), read from the event store's
                projection (every durable order, from every run), oldest first.

        Raises:
            StoreError: ``since`` given and the store cannot be read now.
        """
        if since is not None:
            return self._trading._history().orders_since(since_ns(since))
        return [o for name, s in self._trading.venues.items() for o in s.state.book.all()]

    def __iter__(self) -> Iterator[Order]:
        return iter(self.all())

    def __len__(self) -> int:
        return sum(len(s.state.book) for s in self._trading.venues.values())

    async def wait(
        self,
        client_order_id: str,
        status: OrderStatus | str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the public API names it)
    ) -> Order:
        """Wait until the order reaches ``status`` (or a later one), or any terminal status.

        Statuses are ranked (``submitted < unknown < new < partially_filled <``
        terminal): waiting for ``new`` returns on ``partially_filled`` too.

        Args:
            client_order_id: The order's id (it may not be known yet).
            status: The status to wait for; ``None``: a terminal one.
            timeout: Seconds to wait at most (``None``: no limit).

        Raises:
            trio.TooSlowError: ``timeout`` passed first; its message names the order,
                what was waited for and its status then.
        """
        target = None if status is None else _status(status)
        if timeout is not None and not (
            isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout >= 0
        ):
            raise ValueError(f"timeout: {timeout!r} is not a number of seconds >= 0 (or None)")
        with trio.move_on_after(timeout) if timeout is not None else trio.CancelScope():
            while True:
                order = self.get(client_order_id)
                if order is not None and (
                    order.status.is_terminal
                    or (target is not None and RANK[order.status] >= RANK[target])
                ):
                    return order
                await self._trading.next_change()
        order = self.get(client_order_id)
        wanted = "a terminal status" if target is None else f"{target.value} or later"
        now = "not known" if order is None else f"still {order.status.value}"
        raise trio.TooSlowError(
            f"order {client_order_id}: {wanted} not reached within {timeout:g} s ({now})"
        )


class RiskView:
    """``c.risk``: the kill switch and the risk state."""

    def __init__(self, risk: RiskService) -> None:
        self._risk = risk

    async def kill(self, reason: str) -> RiskState:
        """Refuse new orders (reduce-only ones pass) and cancel every open order everywhere."""
        return await self._risk.kill(reason)

    def resume(self) -> RiskState:
        """Allow new orders again."""
        return self._risk.resume()

    @property
    def state(self) -> RiskState:
        return self._risk.state


Since = int | datetime
"""A point in time: int ns since the epoch, or a timezone-aware ``datetime``."""


def since_ns(since: Since) -> int:
    """``since`` as int ns since the epoch.

    Raises:
        ValueError: a naive ``datetime`` (its time zone would be a guess), or neither a
            ``datetime`` nor an int.
    """
    if isinstance(since, datetime):
        if since.tzinfo is None:
            raise ValueError(f"since: {since.isoformat()} has no time zone; pass an aware datetime")
        delta = since - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    if isinstance(since, int) and not isinstance(since, bool):
        return since
    raise ValueError(
        f"since: {since!r} is neither a timezone-aware datetime nor int ns since the epoch"
    )


def _status(status: OrderStatus | str) -> OrderStatus:
    """``status`` as a member, its value in any case (``"FILLED"``) too.

    Raises:
        ValueError: no such status (the message lists them).
    """
    if isinstance(status, OrderStatus):
        return status
    try:
        return OrderStatus(str(status).lower())
    except ValueError:
        names = ", ".join(s.value for s in OrderStatus)
        raise ValueError(f"status: {status!r} is not one of {names}") from None


def trading_credentials(venue: VenueConfig) -> Credentials | None:
    """The credentials ``venue`` trades with, or ``None`` when it does not trade (no
    credentials, or no trading adapter for it yet). On the built-in simulator the
    facade has filled in the default account's demo keys already."""
    if venue.name not in TRADERS:
        return None
    return venue.credentials


def client_order_ids(storage: StorageConfig) -> ClientOrderIds:
    """This session's client order ids, with the install's prefix.

    The prefix is ``storage.client_id_prefix``, or one derived from where the event
    log lives (the same for every run of one install, nothing to store): the
    PostgreSQL DSN and schema, else the SQLite file's absolute path.
    """
    prefix = storage.client_id_prefix
    if prefix is None:
        if storage.store == "postgres":
            place = f"{storage.postgres_dsn}\0{storage.postgres_schema}"
        else:
            place = str(storage.sqlite_path.resolve())
        digest = hashlib.sha256(place.encode()).digest()
        prefix = new_prefix(int.from_bytes(digest[:8], "big"))
    return ClientOrderIds(prefix, start_ns=time.time_ns(), salt=secrets.randbits(24))


def attach_trading(
    trading: Trading,
    session: VenueSession,
    *,
    bus: Bus,
    event_log: EventLog,
    ids: ClientOrderIds,
    health_allows: Callable[[str], bool],
    reconcile_interval: float = 60.0,
    order_entry: str = "rest",
    forget_finished_after: float | None = None,
) -> None:
    """Give a venue session that can trade its ``orders``, ``order_state`` and
    ``account`` children, and its ``order_socket`` when ``order_entry`` is
    ``websocket``. ``forget_finished_after``: see :class:`OrderStateService`."""
    adapter = session.driver.trading
    if adapter is None:
        return
    state = OrderStateService(
        session,
        adapter,
        bus=bus,
        event_log=event_log,
        on_change=trading.changed,
        forget_finished_after=forget_finished_after,
    )
    sockets: list[ChildSpec] = []
    if order_entry == "websocket":
        if not isinstance(adapter, OrderSocketEntry):
            raise ConfigError(f"{session.name}: order_entry websocket is not supported")
        planned = adapter.order_sockets(session.markets())
        for plan in planned:
            socket = OrderSocket(session, adapter, plan)
            state.order_sockets.update(dict.fromkeys(plan.markets, socket))
            name = "order_socket" if len(planned) == 1 else f"order_socket_{plan.key}"
            sockets.append(ChildSpec(name, socket, restart=Restart.TRANSIENT))
    account = AccountService(
        session,
        state,
        bus=bus,
        positions=trading.position_book,
        balances=trading.balance_book,
        reservations=trading.reservations,
        reconcile_interval=reconcile_interval,
    )
    state.order_listeners.append(trading.reservations.order_changed)
    orders = OrderService(
        state,
        ids=ids,
        next_change=trading.next_change,
        risk=trading.risk,
        health_allows=health_allows,
        unreconciled=lambda: account.unreconciled,
        position=account.position_qty,
        reservations=trading.reservations,
    )
    venue = session.name
    trading.risk.register_available(venue, lambda asset: trading.balances.available(venue, asset))
    session.add_children(
        [
            # The account reconciles with the venue before ``orders`` starts.
            ChildSpec("order_state", state, restart=Restart.TRANSIENT),
            ChildSpec("account", account, restart=Restart.TRANSIENT),
            *sockets,
            ChildSpec("orders", orders, restart=Restart.TRANSIENT),
        ]
    )
    trading.add(orders)
    trading.accounts[session.name] = account
    trading.states[session.name] = state
