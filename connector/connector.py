"""The ``Connector`` facade: one object a program opens to reach every venue.

It owns the bus and the root of the supervision tree (design.md section 3) and
routes calls to the venue subtrees (the seed's CoordinatorActor)::

    async with Connector(load_config("connector.toml")) as c:
        async for tick in c.subscribe("ticker.binance.*"):
            ...
"""

from __future__ import annotations

import contextlib
import functools
import math
import ssl
import tempfile
import time
from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import attrs
import structlog
import trio

from connector._groups import sole_error
from connector.account.service import AccountStatistics, ReconcileReport
from connector.account.views import BalancesView, PositionsView
from connector.aggregator import Aggregator
from connector.book.keeper import BookKeeper
from connector.book.view import BookView
from connector.bus import Bus, BusStatistics, Overflow, Subscription
from connector.capture import CaptureWriter
from connector.config import Config, SimConfig, VenueConfig, load_config
from connector.errors import ConfigError, ConnectorError, UnknownInstrument
from connector.health import HealthService, HealthStatistics, VenueHealth
from connector.metrics.exposition import render as render_metrics
from connector.metrics.histogram import Histogram, LatencyStatistics
from connector.metrics.service import MetricsService
from connector.model import (
    ConsolidatedBook,
    Fill,
    Instrument,
    Order,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
)
from connector.model.credentials import Credentials
from connector.oms.service import base_units
from connector.oms.tracking import OrderStateServiceStatistics
from connector.oms.validate import Number
from connector.risk.service import RiskService, RiskState
from connector.store.log import EventLog
from connector.store.service import Persistence, StoreStatus
from connector.supervision import (
    ChildSpec,
    Restart,
    Strategy,
    Supervisor,
    SupervisorSnapshot,
    render_tree,
)
from connector.topics import check_published
from connector.trading import (
    OrdersView,
    RiskView,
    Since,
    Trading,
    attach_trading,
    client_order_ids,
    trading_credentials,
)
from connector.venues.driver import VenueDriver
from connector.venues.registry import driver_for
from connector.venues.session import VenueSession, VenueStatistics

if TYPE_CHECKING:
    from connector.sim import SimRun, Truth
    from connector.sim.server import ServerTls

__all__ = ["Connector", "ConnectorStatistics", "ConnectorStatus", "SimulatorService"]

T = TypeVar("T")

BOOK_AGE_EVERY = 16
"""One frame with book updates in this many is timed into the book-age histogram."""

log = structlog.get_logger(__name__)


_ACCOUNT_STATE = {
    True: "; account reconciled",
    False: "; account not reconciled yet: new orders refused",
    None: "",  # no trading on the venue
}


@attrs.frozen(kw_only=True)
class ConnectorStatus:
    """What ``Connector.status()`` returns: the supervision tree and venue health."""

    tree: SupervisorSnapshot
    venues: dict[str, VenueHealth]
    store: StoreStatus | None = None
    reconciled: dict[str, bool] = attrs.field(factory=dict)
    """Per trading venue: whether its account has reconciled with the venue since the
    start (until then new orders are refused)."""
    unreconciled: dict[str, str] = attrs.field(factory=dict)
    """Per trading venue not reconciled yet: why (``"the last attempt failed: 50113
    Invalid signature."``): its orders, positions and balances are not known."""
    unlisted: dict[str, tuple[Symbol, ...]] = attrs.field(factory=dict)
    """Per venue, the configured symbols it does not list (no book, no orders)."""

    def render(self) -> str:
        """A plain-text tree, the event store's line, then one health line per venue
        (its breaker, then its status: healthy, degraded or down, and why)."""
        lines = [render_tree(self.tree)]
        if self.store is not None:
            lines.append(self.store.render())
        for name, health in self.venues.items():
            lines.append(
                f"venue {name}: breaker {health.state.value}, {health.connected} connected, "
                f"{health.consecutive_failures} consecutive failures"
                + (f", last: {health.last_reason}" if health.last_reason else "")
                + f"; {health.status.value}"
                + (f" ({health.status_reason})" if health.status_reason else "")
                + _ACCOUNT_STATE[self.reconciled.get(name)]
                + (f" ({why})" if (why := self.unreconciled.get(name)) else "")
                + (
                    f"; does not list {', '.join(map(str, missing))}"
                    if (missing := self.unlisted.get(name))
                    else ""
                )
            )
        return "\n".join(lines)


@attrs.frozen(kw_only=True)
class ConnectorStatistics:
    """What ``Connector.statistics()`` returns: one frozen tree of every counter.

    Attributes:
        bus: Subscriptions, events published, cached topics.
        venues: Per enabled venue: feed, books, websockets, REST limiters, clock.
        health: The circuit breakers and what fed them.
        orders: Per trading venue: order queries, resolutions, reconciliation
            discrepancies and the order state's counters.
        risk: The kill switch and the risk checks' counts.
        accounts: Per trading venue: private streams (handshakes, events),
            reconciliations and the discrepancies they found.
        latency: Histograms of order round trips (per venue and action) and of
            book update age (per venue).
    """

    bus: BusStatistics
    venues: Mapping[str, VenueStatistics]
    health: HealthStatistics
    orders: Mapping[str, OrderStateServiceStatistics] = attrs.field(factory=dict)
    risk: RiskState | None = None
    accounts: Mapping[str, AccountStatistics] = attrs.field(factory=dict)
    latency: LatencyStatistics = attrs.field(factory=LatencyStatistics)


class SimulatorService:
    """Service: the built-in simulator, for venues whose endpoint is ``sim``.

    It keeps its ports across restarts so the venue sessions' URLs stay right.
    While it runs, :attr:`running` is the :class:`~connector.sim.SimRun` (hooks,
    desks, the venues' truth); ``None`` before it starts and after it stops.
    """

    def __init__(self, config: SimConfig, venues: Sequence[str]) -> None:
        self._config = config
        self._venues = tuple(venues)
        self._ports: dict[str, int] | None = None
        self._tls: ServerTls | None = None
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self._client_ssl: ssl.SSLContext | None = None
        self.urls: dict[str, dict[str, str]] = {}
        self.running: SimRun | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        from connector import sim

        async with sim.run(
            venues=self._venues,
            seed=self._config.seed,
            rate=self._config.rate,
            okx_checksum=self._config.okx_checksum,
            ports=self._ports,
            tls=self._server_tls(),
        ) as running:
            self.urls = {venue: dict(urls) for venue, urls in running.urls.items()}
            self._ports = {
                f"{venue}.{key.split('.')[0]}": int(urlsplit(url).port or 0)
                for venue, urls in running.urls.items()
                for key, url in urls.items()
                if key.endswith(".rest")
            }
            log.info("connector.simulator", urls=self.urls)
            self.running = running
            try:
                task_status.started()
                await trio.sleep_forever()
            finally:
                self.running = None

    def _server_tls(self) -> ServerTls | bool:
        """Under ``[sim] tls``, one certificate authority for the life of the service."""
        if not self._config.tls:
            return False
        if self._tls is None:
            from connector.sim.server import make_server_tls

            self._tls_dir = tempfile.TemporaryDirectory(prefix="connector-sim-tls-")
            self._tls = make_server_tls(self._tls_dir.name)
            self._client_ssl = ssl.create_default_context(cafile=self._tls.ca_file)
        return self._tls

    def ssl_context(self) -> ssl.SSLContext | None:
        """The client TLS context that trusts the simulator (``None`` without ``tls``)."""
        return self._client_ssl

    def close(self) -> None:
        """Remove the certificate authority's files (``[sim] tls``)."""
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = self._tls = self._client_ssl = None

    def truth(self, venue: str) -> Truth:
        """What the simulated ``venue`` knows: orders, fills, balances, positions.

        Raises:
            ConnectorError: the simulator is not running or does not serve ``venue``.
        """
        running = self.running
        if running is None or venue not in running.venues:
            raise ConnectorError(f"the built-in simulator does not run {venue!r} now")
        return running.truth(venue)


class Connector:
    """Connects one program to the configured venues.

    Use as ``async with Connector(config) as c:``. Entering starts the whole
    supervision tree and returns once every service reports ready; leaving
    cancels every task it started and returns within ``stop_timeout`` seconds
    (services honour cancellation; none is left behind).

    Args:
        config: What to connect to; ``None`` loads the default (simulated venues).
        record: Write every frame sent and received and every REST body used to
            this capture file (``.zst`` compresses), for ``connector replay``.
        stop_timeout: Upper bound on shutdown, in seconds.
        stale_after: Seconds without a message on a book's stream before that book
            is marked invalid and resynced (``None``: 30 s, longer where a venue
            documents longer silences of a healthy book, as OKX's 60 s).
        bus: The event bus to use (tests inject one to publish or inspect events the
            way services do); a new one when ``None``.
        event_log: Where order events are written ahead; ``None``: the store
            ``[storage]`` names (a config file persists to SQLite or PostgreSQL;
            the default config keeps the log in memory). docs/operations.md.
        trading: ``False``: market data only, whatever credentials the config
            holds: no venue trades and the event store is not opened (its one
            writer stays free for the program that trades).

    Venues with credentials (and venues on the built-in simulator, which trade
    with its default account) trade: their subtrees gain ``orders`` and
    ``order_state``, and the root a ``risk`` service.

    With ``[metrics] listen`` set, the root gains a ``metrics`` service serving
    ``GET /metrics`` there (:attr:`metrics_address`; docs/metrics.md).

    Raises:
        ConfigError: ``stale_after`` or ``stop_timeout`` is not a number of seconds > 0;
            ``market_data.reorder_window`` is not a number of seconds >= 0;
            ``metrics.listen`` is not ``host:port``.
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        record: str | Path | None = None,
        stop_timeout: float = 10.0,
        stale_after: float | None = None,
        bus: Bus | None = None,
        event_log: EventLog | None = None,
        trading: bool = True,
    ) -> None:
        self._config = config if config is not None else load_config(None)
        for name, seconds in (("stale_after", stale_after), ("stop_timeout", stop_timeout)):
            if seconds is not None and not (
                isinstance(seconds, int | float)
                and not isinstance(seconds, bool)
                and math.isfinite(seconds)
                and seconds > 0
            ):
                raise ConfigError(f"{name}: {seconds!r} is not a number of seconds > 0")
        window = self._config.market_data.reorder_window
        if not (
            isinstance(window, int | float)
            and not isinstance(window, bool)
            and math.isfinite(window)
            and window >= 0
        ):
            raise ConfigError(
                f"market_data.reorder_window: {window!r} is not a number of seconds >= 0"
            )
        self._stop_timeout = stop_timeout
        self._record_path = record
        self._capture: CaptureWriter | None = None
        self._bus = bus if bus is not None else Bus()
        self._config = (
            _with_sim_credentials(self._config) if trading else _without_credentials(self._config)
        )
        venues = {name: vc for name, vc in self._config.venues.items() if vc.enabled}
        sim_venues = [name for name, vc in venues.items() if vc.endpoint == "sim"]
        self._sim = SimulatorService(self._config.sim, sim_venues) if sim_venues else None
        self._health = HealthService(self._bus, list(venues))
        self._risk = RiskService(self._config.risk, self._bus)
        self._trading = Trading(self._risk)
        storage = self._config.storage
        if not any(trading_credentials(vc) is not None for vc in venues.values()):
            # Nothing trades: there is nothing to persist, and the store's one writer
            # stays free for the program that does trade.
            storage = attrs.evolve(storage, kind="memory")
        self._persistence = Persistence.for_storage(
            storage,
            event_log,
            states=self._trading.states,
            accounts=self._trading.accounts,
            positions=self._trading.position_book,
            balances=self._trading.balance_book,
            on_store=self._health.store_changed,
        )
        self._event_log: EventLog = self._persistence.log
        self._trading.history = self._persistence
        ids = client_order_ids(self._config.storage)
        self._sessions = {}
        for name, vc in venues.items():
            driver = driver_for(
                name,
                vc.book_depth,
                credentials=trading_credentials(vc),
                endpoint=vc.endpoint if vc.endpoint in ("live", "testnet") else "live",
            )
            self._sessions[name] = VenueSession(
                driver,
                symbols=vc.symbols,
                channels=vc.channels,
                bus=self._bus,
                urls=functools.partial(self._urls, vc, driver),
                stale_after=stale_after,
                on_rest_outcome=self._health.record_rest,
                request_timeout=vc.request_timeout,
                reorder_window=self._config.market_data.reorder_window,
                ssl_context=self._sim.ssl_context
                if self._sim is not None and vc.endpoint == "sim"
                else None,
            )
            attach_trading(
                self._trading,
                self._sessions[name],
                bus=self._bus,
                event_log=self._event_log,
                ids=ids,
                health_allows=self._health.allows,
                reconcile_interval=self._config.account.reconcile_interval,
                order_entry=vc.order_entry,
                # Only where the store keeps the history: an in-memory log's is the state.
                forget_finished_after=self._config.account.forget_finished_after
                if self._persistence.keeps_history
                else None,
            )
        self._book_age: dict[str, Histogram] = {}
        for name, session in self._sessions.items():
            # Same clock as the frames' ts_recv_ns (net/ws.py reads time.time_ns);
            # sampled, so that the book path does not pay a clock read per frame.
            self._book_age[name] = histogram = Histogram()
            session.feed.record_book_age(histogram.observe, time.time_ns, every=BOOK_AGE_EVERY)
        self._metrics: MetricsService | None = None
        try:
            address = self._config.metrics.address
        except ValueError as exc:
            raise ConfigError(f"metrics.listen: {exc}") from None
        if address is not None:
            self._metrics = MetricsService(*address, lambda: render_metrics(self.statistics()))
        self._aggregator = Aggregator(self._bus, self._book_state)
        self._root = Supervisor(
            "root",
            self._root_children(),
            strategy=Strategy.ONE_FOR_ONE,
            intensity=5,
            period=10.0,
        )
        self._stack: contextlib.AsyncExitStack | None = None
        self._stopped = False
        self._nursery: trio.Nursery | None = None

    @property
    def config(self) -> Config:
        return self._config

    @property
    def simulator(self) -> SimulatorService | None:
        """The built-in simulator service (venues with ``endpoint = "sim"``), else None.

        While the connector is open, ``simulator.truth("binance")`` is what that
        simulated venue knows: orders, fills, balances, positions.
        """
        return self._sim

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """``(host, port)`` where ``GET /metrics`` is served (``[metrics] listen``; a
        port 0 there is the port picked), or ``None``: not configured, not started,
        or the address could not be bound (logged as ``metrics.listen_failed``)."""
        return self._metrics.address if self._metrics is not None else None

    @property
    def recorded(self) -> int:
        """Records written to the ``record`` capture file so far (0 when not recording)."""
        return self._capture.records if self._capture is not None else 0

    def _root_children(self) -> list[ChildSpec]:
        children = []
        if self._sim is not None:
            children.append(ChildSpec("simulator", self._sim, restart=Restart.PERMANENT))
        children.append(ChildSpec("health", self._health, restart=Restart.PERMANENT))
        children.append(ChildSpec("risk", self._risk, restart=Restart.PERMANENT))
        # Before any venue: the log is replayed into the order state first.
        children.append(
            ChildSpec("persistence", self._persistence.supervisor, restart=Restart.PERMANENT)
        )
        children.append(ChildSpec("aggregator", self._aggregator, restart=Restart.TRANSIENT))
        if self._metrics is not None:
            children.append(ChildSpec("metrics", self._metrics, restart=Restart.TRANSIENT))
        for name, session in self._sessions.items():
            children.append(
                ChildSpec(f"venue:{name}", session.supervisor, restart=Restart.PERMANENT)
            )
        return children

    def _urls(self, venue: VenueConfig, driver: VenueDriver) -> Mapping[str, str]:
        if venue.endpoint == "sim":
            assert self._sim is not None
            return self._sim.urls.get(venue.name, {})
        if venue.endpoint == "custom":
            return venue.urls
        return driver.rest.endpoints(venue.endpoint)

    def _book_state(self, venue: str, symbol: Symbol) -> BookKeeper | None:
        session = self._sessions.get(venue)
        return session.feed.book(symbol) if session is not None else None

    async def __aenter__(self) -> Connector:
        if self._stack is not None:
            raise ConnectorError("this Connector is already open; create a new one")
        if self._stopped:
            # Its bus is closed and its services ended: a connector runs once.
            raise ConnectorError("this Connector has run and stopped; create a new one")
        stack = contextlib.AsyncExitStack()
        if self._record_path is not None:
            self._capture = stack.enter_context(CaptureWriter(self._record_path))
        if self._sim is not None:
            stack.callback(self._sim.close)
        for session in self._sessions.values():
            session.context.capture = self._capture
            stack.push_async_callback(session.context.aclose)
        try:
            # A store that cannot be opened at all fails the start (StoreError).
            await self._persistence.open()
        except BaseException:
            await _unwrapped(stack.aclose())
            raise
        # A store opened but never taken by the writer (the start failed) is closed.
        stack.push_async_callback(self._persistence.discard)
        nursery = await stack.enter_async_context(trio.open_nursery())
        try:
            await nursery.start(self._root.run)
        except BaseException:
            nursery.cancel_scope.cancel()
            await _unwrapped(stack.aclose())
            raise
        self._stack, self._nursery = stack, nursery
        log.info("connector.started", venues=list(self._sessions))
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
        self._stopped = True
        nursery.cancel_scope.deadline = min(
            nursery.cancel_scope.deadline, trio.current_time() + self._stop_timeout
        )
        nursery.cancel_scope.cancel()
        self._bus.close()
        try:
            suppressed = await _unwrapped(stack.__aexit__(exc_type, exc, tb))
        finally:
            # Nothing updates the books any more: views must not go on saying valid.
            for session in self._sessions.values():
                session.feed.invalidate("connector stopped")
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

        Topics: ``orderbook.{venue}.{symbol}`` (:class:`BookUpdate`),
        ``trade.…``, ``ticker.…``, ``quote.…``, ``connection.{venue}``,
        ``health.{venue}``, ``consolidated.bbo.{symbol}``,
        ``consolidated.book.{symbol}``. Usable as ``async with c.subscribe(p) as
        sub`` or ``async for e in c.subscribe(p)``; leaving either unsubscribes.
        ``overflow`` defaults to ``drop_oldest`` for market data and ``fail``
        for orders, positions, balances and risk.

        Raises:
            ValueError: an invalid pattern, or one of a type no topic has (such as
                ``tickr``) or of a venue not enabled (symbols are not checked).
        """
        check_published(pattern, self._sessions)
        return self._bus.subscribe(pattern, buffer=buffer, overflow=overflow)

    def instrument(self, venue: str, symbol: str | Symbol) -> Instrument:
        """``venue``'s instrument of ``symbol`` as orders are checked against it:
        its quantity filters (``lot_step``, ``min_qty``, ``max_qty``...) in base
        units on every market (an OKX swap's lot of 1 contract of 0.01 BTC is a
        ``lot_step`` of 0.01), so that a quantity sized with them is taken.

        Raises:
            UnknownInstrument: the venue is not configured, does not list it, or its
                instruments are not loaded yet.
        """
        sym = symbol if isinstance(symbol, Symbol) else Symbol.parse(symbol)
        session = self._session(venue)
        return base_units(session.symbols.by_symbol(session.adapter.market_for(sym), sym))

    def order_book(self, venue: str, symbol: str | Symbol) -> BookView:
        """A live, read-only view of one venue's book of ``symbol``.

        Raises:
            UnknownInstrument: the venue is not configured or does not stream it.
        """
        sym = symbol if isinstance(symbol, Symbol) else Symbol.parse(symbol)
        session = self._session(venue)
        if sym not in session.wanted or "book" not in session.channels:
            raise UnknownInstrument(f"{venue} does not stream the book of {sym}")
        market = session.adapter.market_for(sym)
        return BookView(session.feed.keeper(market, sym))

    async def add_symbol(self, venue: str, symbol: str | Symbol) -> None:
        """Stream one more symbol of ``venue`` at run time, as if configured: its
        channels (``[venues.<v>] channels``) on an open socket of its market where the
        venue's per-connection limits allow, else on a new one. Returns once subscribed;
        ``order_book(venue, symbol)`` works at once and is valid once synced. Orders on
        it go as on any listed symbol. Adding a symbol streamed already does nothing.
        Reconnects subscribe the current set (docs/architecture.md, market data).

        Raises:
            UnknownInstrument: the venue is not configured or does not list the symbol,
                its instruments are not loaded yet, or the symbol is on a market of the
                venue no configured symbol uses (no instruments, private stream or
                order socket there).
            ConfigError: the venue has no market for the symbol's kind; ``symbol`` is
                not a symbol (``InvalidSymbol``).
        """
        sym = symbol if isinstance(symbol, Symbol) else Symbol.parse(symbol)
        await self._session(venue).add_symbol(sym)

    async def remove_symbol(self, venue: str, symbol: str | Symbol) -> None:
        """Stop streaming a symbol of ``venue``: its streams are unsubscribed (and not
        resubscribed by later reconnects), its book is marked invalid (views held say
        so) and dropped (``order_book`` then raises), its topics stop. Orders on it are
        still taken; the risk checks that need its book refuse them as for an invalid
        book. Removing a symbol not streamed does nothing.

        Raises:
            UnknownInstrument: the venue is not configured.
            ConfigError: the venue has no market for the symbol's kind; ``symbol`` is
                not a symbol.
        """
        sym = symbol if isinstance(symbol, Symbol) else Symbol.parse(symbol)
        await self._session(venue).remove_symbol(sym)

    def _session(self, venue: str) -> VenueSession:
        session = self._sessions.get(venue)
        if session is None:
            raise UnknownInstrument(
                f"venue {venue!r} is not configured (have: {', '.join(self._sessions) or 'none'})"
            )
        return session

    def consolidated_book(self, symbol: str | Symbol, depth: int = 10) -> ConsolidatedBook:
        """The best ``depth`` levels of each valid, fresh venue book, merged."""
        sym = symbol if isinstance(symbol, Symbol) else Symbol.parse(symbol)
        return self._aggregator.book(sym, depth)

    # -- trading (connector/trading.py) ------------------------------------------

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
        """Place an order; returns once the venue accepted it (docs/trading.md).

        ``qty`` is in base-asset units on every venue and market. ``side``,
        ``type`` and ``time_in_force`` take the enums or their values
        (``"buy"``, ``"limit"``, ``"post_only"``).

        Raises:
            InvalidOrder: naming the filter. RiskRejected: naming the limit.
            OrderRejected: the venue's code and message.
            OrderOutcomeUnknown: the answer was lost; the order is tracked as
                ``unknown`` and resolved in the background (``c.orders.wait``).
        """
        return await self._trading.place_order(
            venue,
            symbol,
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
        """Change an open order's quantity and/or price; returns the amended order."""
        return await self._trading.amend_order(venue, symbol, client_order_id, qty=qty, price=price)

    async def cancel_order(self, venue: str, symbol: Symbol | str, client_order_id: str) -> Order:
        """Cancel one order; returns it as the venue reports it."""
        return await self._trading.cancel_order(venue, symbol, client_order_id)

    async def cancel_all(
        self, venue: str | None = None, symbol: Symbol | str | None = None
    ) -> list[Order]:
        """Cancel every open order (of one venue, of one symbol); returns them.

        Each venue's open orders are listed first (orders placed elsewhere are
        canceled too); orders whose cancel failed are returned still open.

        Raises:
            CancelAllIncomplete: a venue's open orders could not be listed: what was
                known was canceled on every venue (``orders``), but that venue may
                still hold others (``failures`` names it and why).
            UnknownInstrument: ``symbol`` is listed by no venue asked (nothing was sent).
        """
        return await self._trading.cancel_all(venue, symbol)

    async def reconcile(
        self,
        venue: str | None = None,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109 (the public API names it)
    ) -> dict[str, ReconcileReport]:
        """Reconcile now: each trading venue's (or ``venue``'s) open orders, fills,
        positions and balances against the local state, what differs applied
        (docs/trading.md). Venues run concurrently; returns once each completed.

        A reconciliation already running when this is called may have read the
        venue before the change the caller wants seen: the next one, started after
        this call, is the one waited for (it never runs beside the service's own;
        concurrent callers share it).

        Args:
            venue: Only this venue (default: every trading venue).
            timeout: Seconds to wait at most (a venue not done by then fails).

        Returns:
            Per venue, its :class:`ReconcileReport`: the discrepancies found and
            applied, by kind, and when it completed.

        Raises:
            ReconcileIncomplete: some venue's reconciliation failed (a REST error) or
                did not complete in time: ``failures`` names each such venue and why;
                ``reports`` holds the others' (they completed).
            ConfigError: ``venue`` does not trade here (not enabled, no credentials).
            ValueError: ``timeout`` is not a number of seconds > 0.
        """
        return await self._trading.reconcile(venue, timeout=timeout)

    @property
    def orders(self) -> OrdersView:
        """Every order: ``get(id)``, ``open(venue, symbol)``, ``all()``, ``await wait(id)``."""
        return self._trading.orders

    def fills(
        self,
        venue: str | None = None,
        symbol: Symbol | str | None = None,
        *,
        since: Since | None = None,
    ) -> list[Fill]:
        """Distinct fills seen, of one venue and/or symbol.

        ``since`` (a timezone-aware ``datetime`` or int ns since the epoch): the
        fills executed since then, read from the event store (every durable fill,
        from every run), oldest first.
        """
        return self._trading.fills(venue, symbol, since=since)

    @property
    def positions(self) -> PositionsView:
        """Derivative positions: ``get(venue, symbol)``, ``all()``, ``unrealized_pnl``."""
        return self._trading.positions

    @property
    def balances(self) -> BalancesView:
        """Balances: ``get(venue, asset)``, ``all(venue=None)``, ``reserved(venue, asset)``,
        ``available(venue, asset)`` (docs/trading.md)."""
        return self._trading.balances

    @property
    def risk(self) -> RiskView:
        """``await kill(reason)``, ``resume()``, ``state``."""
        return self._trading.risk_view

    def statistics(self) -> ConnectorStatistics:
        """Every counter of the running connector, as one frozen tree (metrics and tests
        read this; nothing in it changes afterwards)."""
        return ConnectorStatistics(
            bus=self._bus.statistics(),
            venues={name: session.statistics() for name, session in self._sessions.items()},
            health=self._health.statistics(),
            orders={
                name: service.state.statistics() for name, service in self._trading.venues.items()
            },
            risk=self._risk.state,
            accounts={
                name: account.statistics() for name, account in self._trading.accounts.items()
            },
            latency=LatencyStatistics(
                orders={
                    name: {action: h.snapshot() for action, h in service.latency.items()}
                    for name, service in self._trading.venues.items()
                },
                book_age={name: h.snapshot() for name, h in self._book_age.items()},
            ),
        )

    def status(self) -> ConnectorStatus:
        """The supervision tree snapshot plus per-venue health."""
        return ConnectorStatus(
            tree=self._root.snapshot(),
            venues=self._health.venues(),
            store=self._persistence.status(),
            reconciled={name: a.reconciled for name, a in self._trading.accounts.items()},
            unreconciled={
                name: why
                for name, a in self._trading.accounts.items()
                if (why := a.unreconciled) is not None
            },
            unlisted={
                name: missing
                for name, session in self._sessions.items()
                if (missing := session.unlisted())
            },
        )

    @property
    def event_log(self) -> EventLog:
        """The event log the services write ahead to (durable per ``[storage]``)."""
        return self._event_log

    @property
    def persistence(self) -> Persistence:
        """The persistence subtree (the store's status, its durable log)."""
        return self._persistence


def _with_sim_credentials(config: Config) -> Config:
    """``config`` where each enabled ``sim`` venue without credentials has its default account's.

    The simulator's default accounts have fixed demo keys
    (:data:`connector.sim.accounts.DEFAULT_CREDENTIALS`), so a program on the
    built-in simulator signs without any secret configured.
    """
    missing = [
        name
        for name, vc in config.venues.items()
        if vc.enabled and vc.endpoint == "sim" and vc.credentials is None
    ]
    if not missing:
        return config
    from connector.sim.accounts import DEFAULT_CREDENTIALS

    venues = dict(config.venues)
    for name in missing:
        demo = DEFAULT_CREDENTIALS.get(name)
        if demo is not None:
            venues[name] = attrs.evolve(
                venues[name],
                credentials=Credentials(
                    api_key=demo.api_key,
                    api_secret=demo.secret,
                    passphrase=demo.passphrase or None,
                ),
            )
    return attrs.evolve(config, venues=venues)


def _without_credentials(config: Config) -> Config:
    """``config`` where no venue has credentials: nothing trades."""
    venues = {name: attrs.evolve(vc, credentials=None) for name, vc in config.venues.items()}
    return attrs.evolve(config, venues=venues)


async def _unwrapped(awaitable: Awaitable[T]) -> T:
    """Await, turning an exception group with one real error into that error.

    Trio nurseries wrap errors in groups; a user of ``async with Connector``
    should see ``SupervisorGaveUp`` itself, not a group around it.
    """
    try:
        return await awaitable
    except BaseExceptionGroup as group:
        leaf = sole_error(group)
        if leaf is not None and not isinstance(leaf, trio.Cancelled):
            # Re-raising sets __context__ to the group; keep the leaf's own chain
            # (a user's ``raise ValueError(...) from exc`` must keep its cause).
            chain = (leaf.__context__, leaf.__cause__, leaf.__suppress_context__)
            try:
                raise leaf
            finally:
                leaf.__context__, leaf.__cause__, leaf.__suppress_context__ = chain
        raise
