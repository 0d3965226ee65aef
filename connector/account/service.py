"""The account service: child ``account`` of a trading venue's subtree (design.md section 6).

One :class:`AccountService` per venue that trades. It runs:

* **the private streams**: one socket per :class:`~connector.venues.driver.PrivateStream`
  the adapter declares (Binance: spot and USDⓈ-M apart; Bybit and OKX: one for
  every market), each a :class:`~connector.net.ws.WsConnection` driven by a
  :class:`~connector.account.stream.PrivateHandler` that logs in, waits for the
  ack and subscribes again, as one unit, after every reconnect. A listenKey
  stream (Binance USDⓈ-M) gets its key from REST first, keeps it alive every
  30 minutes (the adapter's ``listen_key_keepalive_s``), and takes a new key
  and a new socket on ``listenKeyExpired`` or a keepalive answered -1125;
* **the events**: order reports and fills go to the venue's
  :class:`~connector.oms.tracking.OrderStateService` (which logs and publishes
  them once); every distinct fill it publishes comes back here
  (``fill_listeners``) and moves the :class:`~connector.account.positions.PositionBook`
  (derivatives) and the :class:`~connector.account.balances.BalanceBook` (spot);
  the stream's positions and balances correct them. Changes are published on
  ``position.{venue}.{symbol}`` and ``balance.{venue}.{asset}``;
* **reconciliation**: (after reading the account's settings, where the adapter
  is an :class:`~connector.venues.driver.AccountSetup`: OKX's account and position
  mode) at start, after every private-stream (re)connect (what
  happened while a socket was down is only known from REST), after a fill gap
  (a venue report shows an order more filled than its fills add up to for
  ``fill_gap_grace`` seconds: the fill's push was lost, and Bybit's and OKX's
  pushes carry no sequence to show it), and every ``reconcile_interval``
  seconds: the order state reconciles open orders and fills (since the last
  listing, and of each order missing some); positions and balances are read
  over REST and compared by :mod:`connector.oms.reconcile`; what it emits
  (``source="reconcile"``) is applied, and every discrepancy counted and logged.
  A caller may ask for one (:meth:`AccountService.reconcile_now`, behind
  ``Connector.reconcile``): it waits for the next reconciliation that starts
  after the request (one running then may have read the venue too early) and
  gets its :class:`ReconcileReport`; callers asking together share that run.

Balances are one wallet per venue: Binance spot and USDⓈ-M keep separate
wallets, so the account service follows the wallet of the venue's first
private stream (spot when spot is traded) and ignores the other's balance
events.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs
import structlog
import trio

from connector.account.balances import BalanceBook
from connector.account.positions import PositionBook
from connector.account.reservations import Reservations
from connector.account.stream import PrivateHandler, PrivateStreamStatistics
from connector.bus import Bus
from connector.errors import (
    AuthenticationFailed,
    ConnectorError,
    ExchangeRejected,
    ReconcileIncomplete,
    StoreError,
)
from connector.model import Balance, Fill, Market, Position, Symbol
from connector.model.trading import OrderReport
from connector.net.http import RestResponse
from connector.net.ratelimit import Lane
from connector.net.ws import WsConnection
from connector.oms.reconcile import (
    Reconciliation,
    reconcile,
    reconcile_balances,
    reconcile_positions,
)
from connector.oms.tracking import OrderStateService
from connector.supervision import Backoff
from connector.venues.driver import (
    AccountSetup,
    ListenKeyStreams,
    PrivateEvent,
    PrivateStream,
    RestCall,
)
from connector.venues.session import VenueSession

__all__ = ["AccountService", "AccountStatistics", "ReconcileReport"]

log = structlog.get_logger(__name__)

_ZERO = Decimal(0)
_TWO = Decimal(2)
_LISTEN_KEY_GONE = -1125
"""Binance: "This listenKey does not exist." (a keepalive of an expired key)."""


@attrs.frozen(kw_only=True)
class AccountStatistics:
    """Counters of one venue's account service.

    Attributes:
        streams: Each private stream's handshake and event counters.
        reconciliations: Reconciliations completed.
        reconcile_failures: Reconciliations a REST error cut short (retried).
        discrepancies: Differences found, per kind (every reconciliation so far).
        listen_keys: listenKeys created (the first ones and every renewal).
        keepalives: listenKey keepalives answered.
        reconciling: The number (:attr:`ReconcileReport.number`) of the
            reconciliation running now; ``None`` between them.
    """

    streams: tuple[PrivateStreamStatistics, ...]
    reconciliations: int
    reconcile_failures: int
    discrepancies: Mapping[str, int]
    listen_keys: int
    keepalives: int
    reconciling: int | None = None


@attrs.frozen(kw_only=True)
class ReconcileReport:
    """One completed reconciliation of one venue (what ``Connector.reconcile`` returns).

    Attributes:
        venue: The venue.
        number: Which reconciliation of the venue it was since the connector started
            (1: the start-up one; failed attempts are numbered too): a later one has
            a larger number.
        reasons: Why it ran: ``"requested"`` for ``Connector.reconcile``, and what
            else asked for it meanwhile (``"periodic"`` when nothing did).
        discrepancies: What it found different from the local state, and applied,
            per kind: ``order_unknown``, ``order_status``, ``order_filled``,
            ``order_amended``, ``order_not_listed``, ``fill_missing``, ``position``,
            ``balance`` (kinds with none are left out). The start-up reconciliation
            counts no ``position`` or ``balance``: its answers are how the account
            starts.
        completed_ns: When it completed, ns since the epoch (local clock).
    """

    venue: str
    number: int
    reasons: tuple[str, ...]
    discrepancies: Mapping[str, int]
    completed_ns: int

    @property
    def total(self) -> int:
        """Every discrepancy found, of any kind."""
        return sum(self.discrepancies.values())


@attrs.define
class _Waiter:
    """A caller of :meth:`AccountService.reconcile_now`: any reconciliation numbered
    above ``after`` answers it (a report, or why it failed)."""

    after: int
    done: trio.Event = attrs.field(factory=trio.Event)
    outcome: ReconcileReport | str | None = None


class AccountService:
    """Service ``account`` of one venue (see the module docstring).

    Args:
        session: The venue (context, symbols, markets, feed).
        state: The venue's order-state service (reports and fills go there).
        bus: Where positions and balances are published.
        positions: The positions of every venue (shared with the views).
        balances: The balances of every venue (shared with the views).
        reservations: What our spot orders hold that the venue's balance does not
            show yet: each venue balance applied (stream or REST) shows the orders
            the venue acknowledged before it.
        reconcile_interval: Seconds between periodic reconciliations.
        retry_after: Seconds before a failed reconciliation is tried again.
        ack_timeout: Seconds to wait for each login or subscribe acknowledgement.
        listen_key_keepalive: Seconds between listenKey keepalives (``None``: the
            adapter's, 30 minutes on Binance).
        start_timeout: Seconds the service waits at start for its private streams
            to log in before it reports ready without them (a stream the venue
            refused, a wrong key for instance, is not waited for).
        fill_gap_grace: Seconds an order may show more filled than its fills add
            up to (the fill's push may come after the report) before a
            reconciliation is asked for.
    """

    def __init__(
        self,
        session: VenueSession,
        state: OrderStateService,
        *,
        bus: Bus,
        positions: PositionBook,
        balances: BalanceBook,
        reservations: Reservations | None = None,
        reconcile_interval: float = 60.0,
        retry_after: float = 5.0,
        ack_timeout: float = 10.0,
        listen_key_keepalive: float | None = None,
        start_timeout: float = 15.0,
        fill_gap_grace: float = 3.0,
    ) -> None:
        self.venue = session.name
        self.session = session
        self.state = state
        self.adapter = state.adapter
        self.positions = positions
        self.balances = balances
        self.reservations = reservations
        self._bus = bus
        self._interval = reconcile_interval
        self._retry_after = min(retry_after, reconcile_interval)
        self._ack_timeout = ack_timeout
        self._keepalive = listen_key_keepalive
        self._start_timeout = start_timeout
        self._gap_grace = fill_gap_grace
        self._gaps: dict[str, float] = {}
        self._gap_seen = trio.Event()
        self._settled: dict[str, trio.Event] = {}
        self._refused: dict[str, str] = {}
        self.ready = trio.Event()
        self.handlers: dict[str, PrivateHandler] = {}
        self.connections: dict[str, WsConnection] = {}
        self._listen_keys: dict[str, str] = {}
        self._expired: dict[str, trio.Event] = {}
        self._requested = trio.Event()
        self._reasons: list[str] = []
        self._reconciled = trio.Event()
        self._reconciliations = self._failures = self._keys = self._keepalives = 0
        self._discrepancies: dict[str, int] = {}
        self._loaded = False
        self._reconcile_error: str | None = None
        self._started = 0
        self._running: int | None = None
        self._waiters: list[_Waiter] = []
        self._send, self._receive = trio.open_memory_channel[tuple[str, Sequence[PrivateEvent]]](
            math.inf
        )
        state.fill_listeners.append(self._on_fill)
        state.gap_listeners.append(self._on_fill_gap)

    # -- reading -----------------------------------------------------------------

    def private_streams(self) -> list[PrivateStream]:
        """The private sockets that carry the venue's traded markets."""
        return self.adapter.private_streams(self.session.markets())

    def position_qty(self, symbol: Symbol) -> Decimal:
        """The signed position of ``symbol`` (0 when flat or never traded)."""
        position = self.positions.get(self.venue, symbol)
        return _ZERO if position is None else position.qty

    def mid(self, symbol: Symbol) -> Decimal | None:
        """The mid of ``symbol``'s book when it is valid, else ``None``."""
        found = self.session.feed.book(symbol)
        if found is None or not found.state.valid:
            return None
        bid, ask, crossed = found.book.top()
        if bid is None or ask is None or crossed:
            return None
        return (bid.price + ask.price) / _TWO

    def statistics(self) -> AccountStatistics:
        return AccountStatistics(
            streams=tuple(h.statistics() for h in self.handlers.values()),
            reconciliations=self._reconciliations,
            reconcile_failures=self._failures,
            discrepancies=dict(self._discrepancies),
            listen_keys=self._keys,
            keepalives=self._keepalives,
            reconciling=self._running,
        )

    # -- applying ----------------------------------------------------------------

    def _on_fill(self, fill: Fill) -> None:
        """A distinct fill the order state published: positions and balances move."""
        position = self.positions.apply_fill(fill)
        if position is not None:
            self._bus.publish(f"position.{self.venue}.{position.symbol}", position)
        before = {
            asset: self.balances.get(fill.venue, asset)
            for asset in (fill.symbol.base, fill.symbol.quote, fill.fee_asset)
        }
        for balance in self.balances.apply_fill(fill):
            if balance != before.get(balance.asset):
                self._bus.publish(f"balance.{self.venue}.{balance.asset}", balance)

    def apply_position(self, position: Position) -> bool:
        """A venue position (stream or REST); the venue wins over older values. Whether
        it changed the local position.

        Venues stamp positions with their last change: one older than the last
        fill applied is stale and ignored.
        """
        before = self.positions.get(position.venue, position.symbol)
        discrepancy = self.positions.apply_snapshot(position)
        if discrepancy is not None:
            log.info("account.position_corrected", venue=self.venue, symbol=str(position.symbol),
                     local=str(discrepancy.local_qty), venue_qty=str(discrepancy.venue_qty),
                     source=position.source)  # fmt: skip
        after = self.positions.get(position.venue, position.symbol)
        if after is None or after == before:
            return False
        self._bus.publish(f"position.{self.venue}.{position.symbol}", after)
        return True

    def apply_balance(self, balance: Balance, *, pushed: bool = True) -> bool:
        """A venue balance (a push, or with ``pushed=False`` a REST read); the venue wins
        over older values. Whether it changed the local balance.

        A push shows the locks of the orders the venue acknowledged before it (their
        reservations end); a REST read shows those acknowledged before it was asked
        for, which the reconciliation tells the reservations itself.
        """
        before = self.balances.get(balance.venue, balance.asset)
        after = self.balances.apply(balance)
        if after is not None and pushed and self.reservations is not None:
            self.reservations.balance_applied(self.venue, balance.asset)
        if after is None or after == before:
            return False
        self._bus.publish(f"balance.{self.venue}.{balance.asset}", after)
        return True

    async def _consume(self) -> None:
        """Apply the private streams' events in the order they came."""
        wallet = self._wallet_stream()
        async for key, events in self._receive:
            orders = [e for e in events if isinstance(e, OrderReport | Fill)]
            values = [
                e
                for e in events
                if isinstance(e, Position) or (isinstance(e, Balance) and key == wallet)
            ]
            try:
                if orders:
                    await self.state.apply(orders)
                if values:
                    # Durable before they are applied and published.
                    await self.state.log(values)
            except StoreError as exc:
                # Not applied: once the store is back, its state is replayed and a
                # reconciliation brings what the stream said.
                log.warning("account.store_failed", venue=self.venue, error=str(exc))
                self.request_reconcile("the event store could not write")
                continue
            for event in values:
                if isinstance(event, Position):
                    self.apply_position(event)
                else:
                    self.apply_balance(event)

    def _wallet_stream(self) -> str | None:
        streams = self.private_streams()
        return streams[0].key if streams else None

    # -- reconciliation ----------------------------------------------------------

    def request_reconcile(self, reason: str) -> None:
        """Reconcile as soon as the running one (if any) ends."""
        self._reasons.append(reason)
        self._requested.set()

    async def reconcile(self) -> Reconciliation:
        """One reconciliation of every traded market: orders and fills (the order
        state's half), then positions and balances; what differs is applied.

        Raises:
            ConnectorError: a REST request failed (what was applied stays applied).
        """
        markets = self.session.markets()
        if isinstance(self.adapter, AccountSetup) and markets:
            # The account's settings first: one the adapter cannot trade with fails the
            # reconciliation, and new orders are refused naming it.
            response = await self._read(markets[0], self.adapter.account_setup_call())
            self.adapter.apply_account_setup(response.body)
        orders = await self.state.reconcile(markets)
        # REST values keep the venue's own stamps (their last change): one older than
        # what the stream already brought yields to it. Only a value the venue no
        # longer lists (reconciled to zero) takes the venue's time of the request.
        ts = self.session.context.clock.venue_time_ns()
        position_diff = None
        venue_positions: list[Position] = []
        position_markets: list[Market] = []
        for market in markets:
            call = self.adapter.positions_call(market)
            if call is None:
                continue
            response = await self._read(market, call)
            position_markets.append(market)
            venue_positions.extend(
                self.adapter.parse_positions(
                    market, self.session.symbols, response.body, response.received_ns
                )
            )
        if position_markets:
            market_of = self.session.adapter.market_for
            position_diff = reconcile_positions(
                self.venue,
                {p.symbol: p for p in self.positions.all() if p.venue == self.venue},
                venue_positions,
                covers=lambda symbol: market_of(symbol) in position_markets,
                ts_ns=ts,
            )
        balance_diff = None
        streams = self.private_streams()
        wallet_mark = None
        if streams:
            market = streams[0].markets[0]
            if self.reservations is not None:
                wallet_mark = self.reservations.mark()
            response = await self._read(market, self.adapter.balances_call(market))
            balance_diff = reconcile_balances(
                self.venue,
                {b.asset: b for b in self.balances.all(self.venue)},
                self.adapter.parse_balances(market, response.body, response.received_ns),
                ts_ns=ts,
            )
        rest = reconcile(None, None, position_diff, balance_diff)
        values = [e for e in rest.events if isinstance(e, Position | Balance)]
        if values:
            await self.state.log(values)  # durable before applied and published
        # What was applied is what differed: a value a newer push overtook while the
        # read was under way is dropped by the books, and is no discrepancy.
        applied = {"position": 0, "balance": 0}
        for value in values:
            if isinstance(value, Position):
                applied["position"] += self.apply_position(value)
            else:
                applied["balance"] += self.apply_balance(value, pushed=False)
        if wallet_mark is not None and self.reservations is not None:
            # The read shows the locks of orders acknowledged before it was asked for,
            # also in the balances it found unchanged (not applied).
            self.reservations.wallet_read(self.venue, wallet_mark)
        counts = dict(orders.discrepancies)
        if self._loaded:
            for kind, n in rest.discrepancies.items():
                n = min(n, applied.get(kind, n))
                if n:
                    counts[kind] = counts.get(kind, 0) + n
        else:
            # The first answers are how the account starts, not differences.
            self._loaded = True
            log.info("account.loaded", venue=self.venue, positions=len(venue_positions),
                     balances=len(self.balances.all(self.venue)))  # fmt: skip
        for kind, n in counts.items():
            self._discrepancies[kind] = self._discrepancies.get(kind, 0) + n
        self._reconciliations += 1
        if counts:
            log.warning("account.reconciled", venue=self.venue, discrepancies=counts)
        else:
            log.debug("account.reconciled", venue=self.venue, discrepancies=counts)
        self._reconciled.set()
        self._reconciled = trio.Event()
        return Reconciliation(
            events=(*orders.events, *rest.events),
            to_query=orders.to_query,
            young=orders.young,
            last_fill_ts_ns=orders.last_fill_ts_ns,
            discrepancies=counts,
        )

    @property
    def reconciled(self) -> bool:
        """Whether a reconciliation has completed since the start: until then the
        venue's open orders, positions and balances are not known (the order service
        refuses new orders)."""
        return self._loaded

    @property
    def unreconciled(self) -> str | None:
        """Why the venue's state is not known yet (``None`` once a reconciliation
        completed): the last attempt's error, for a refusal to name."""
        if self._loaded:
            return None
        error = self._reconcile_error
        return (
            "no reconciliation finished yet"
            if error is None
            else f"the last attempt failed: {error}"
        )

    async def next_reconciliation(self) -> None:
        """Return when the next reconciliation completes (tests and tools)."""
        await self._reconciled.wait()

    async def _read(self, market: Market, call: RestCall) -> RestResponse:
        return await self.session.context.send_signed(
            market, call, self.adapter.sign, lane=Lane.DEFAULT, check=True
        )

    async def reconcile_now(self, timeout: float) -> ReconcileReport:  # noqa: ASYNC109
        """Ask for a reconciliation and return the report of the next one that starts
        after this call (callers asking meanwhile share it). It never runs beside the
        service's own: a reconciliation running now is let finish, then the next
        starts at once.

        Args:
            timeout: Seconds to wait at most.

        Raises:
            ReconcileIncomplete: that reconciliation failed (a REST error: its
                ``failures`` names this venue and why), or none completed within
                ``timeout`` seconds.
        """
        waiter = _Waiter(after=self._started)
        self._waiters.append(waiter)
        self.request_reconcile("requested")
        with trio.move_on_after(timeout):
            await waiter.done.wait()
        outcome = waiter.outcome
        if outcome is None:
            self._waiters.remove(waiter)
            running = (
                ""
                if self._running is None
                else f"; reconciliation {self._running} is still running"
            )
            outcome = f"no reconciliation completed within {timeout:g} s{running}"
        if isinstance(outcome, str):
            raise ReconcileIncomplete({}, {self.venue: outcome})
        return outcome

    def _answer(self, number: int, outcome: ReconcileReport | str) -> None:
        """Give reconciliation ``number``'s outcome to the callers it answers."""
        waiting = []
        for waiter in self._waiters:
            if number > waiter.after:
                waiter.outcome = outcome
                waiter.done.set()
            else:
                waiting.append(waiter)
        self._waiters = waiting

    async def _reconcile_once(self) -> bool:
        reasons, self._reasons = self._reasons, []
        self._started += 1
        number = self._running = self._started
        try:
            result = await self.reconcile()
        except ConnectorError as exc:
            self._failures += 1
            self._reconcile_error = str(exc).removeprefix(f"{self.venue}: ")
            log.warning("account.reconcile_failed", venue=self.venue, reasons=reasons,
                        error=str(exc))  # fmt: skip
            self._answer(number, self._reconcile_error)
            return False
        finally:
            self._running = None
        self._reconcile_error = None
        log.info("account.reconcile", venue=self.venue, reasons=reasons or ["periodic"],
                 discrepancies=result.total)  # fmt: skip
        report = ReconcileReport(
            venue=self.venue,
            number=number,
            reasons=tuple(dict.fromkeys(reasons or ["periodic"])),
            discrepancies={kind: n for kind, n in result.discrepancies.items() if n},
            completed_ns=time.time_ns(),
        )
        self._answer(number, report)
        return True

    async def _reconciler(self) -> None:
        ok = True
        while True:
            with trio.move_on_after(self._interval if ok else self._retry_after):
                await self._requested.wait()
            self._requested = trio.Event()
            ok = await self._reconcile_once()

    def _on_fill_gap(self, key: str) -> None:
        self._gaps.setdefault(key, trio.current_time())
        self._gap_seen.set()

    async def _watch_fill_gaps(self) -> None:
        """Reconcile when a fill gap outlasts the grace time (once per report that
        showed it: a gap reconciliation cannot close stays for the periodic one)."""
        while True:
            await self._gap_seen.wait()
            self._gap_seen = trio.Event()
            while self._gaps:
                await trio.sleep(max(0.0, min(self._gaps.values()) + self._gap_grace
                                     - trio.current_time()))  # fmt: skip
                now = trio.current_time()
                due = [k for k, t in self._gaps.items() if now - t >= self._gap_grace]
                for key in due:
                    del self._gaps[key]
                due = [key for key in due if self.state.fill_gap(key)]
                if due:
                    log.info("account.fill_gap", venue=self.venue, orders=due)
                    self.request_reconcile("fill_gap")

    # -- private streams ---------------------------------------------------------

    async def _run_stream(
        self,
        stream: PrivateStream,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        session = self.session
        context = session.context
        handler = PrivateHandler(
            venue=self.venue,
            stream=stream,
            adapter=self.adapter,
            symbols=session.symbols,
            venue_time_ns=context.clock.venue_time_ns,
            on_events=lambda events: self._send.send_nowait((stream.key, events)),
            on_ready=lambda: self._on_login(stream),
            on_expired=lambda _reason: self._expired_event(stream).set(),
            on_refused=lambda reason: self._on_refused(stream, reason),
            ack_timeout=self._ack_timeout,
        )
        self.handlers[stream.key] = handler
        key = await self._create_listen_key(stream) if stream.listen_key else None
        conn = session.signed_socket(
            f"{self.venue}-private-{stream.key}",
            self.adapter.private_url(stream, context.urls(), key),
            handler,
            self.adapter.private_heartbeat(stream),
        )
        self.connections[stream.key] = conn
        async with trio.open_nursery() as nursery:
            if stream.listen_key:
                nursery.start_soon(self._keep_listen_key, stream, conn)
            await nursery.start(conn.run)
            task_status.started()

    def _on_login(self, stream: PrivateStream) -> None:
        self._refused.pop(stream.key, None)
        self._settled[stream.key].set()
        self.request_reconcile(f"private stream {stream.key} connected")

    def _on_refused(self, stream: PrivateStream, reason: str) -> None:
        # A refusal (a wrong key, a missing permission) is not waited out at start:
        # the stream keeps trying in the background, as after the start timeout.
        self._refused[stream.key] = reason
        self._settled[stream.key].set()

    def _expired_event(self, stream: PrivateStream) -> trio.Event:
        event = self._expired.get(stream.key)
        if event is None:
            event = self._expired[stream.key] = trio.Event()
        return event

    async def _listen_key_request(self, stream: PrivateStream, action: str, key: str | None) -> str:
        adapter = self.adapter
        if not isinstance(adapter, ListenKeyStreams):
            raise ConnectorError(f"{self.venue}: stream {stream.key} needs a listenKey the "
                                 "adapter cannot create")  # fmt: skip
        market = stream.markets[0]
        call = adapter.listen_key_call(stream, action, key)
        response = await self.session.context.send_signed(
            market, call, adapter.sign, lane=Lane.DEFAULT
        )
        return adapter.parse_listen_key(response.body)

    async def _create_listen_key(self, stream: PrivateStream) -> str:
        """A new listenKey; REST failures are retried with backoff until one is made.
        A refused key (-2014, -2015) is a refusal of the stream, as a refused login
        is: the start does not wait for it."""
        backoff = Backoff(initial=0.5, maximum=30.0, jitter=0.25)
        rng = random.Random()
        failures = 0
        while True:
            try:
                key = await self._listen_key_request(stream, "create", None)
            except ConnectorError as exc:
                if isinstance(exc, AuthenticationFailed):
                    self._on_refused(stream, str(exc))
                failures += 1
                delay = backoff.delay(failures, rng)
                log.warning("account.listen_key_failed", venue=self.venue, stream=stream.key,
                            error=str(exc), retry_in=round(delay, 3))  # fmt: skip
                await trio.sleep(delay)
                continue
            self._keys += 1
            self._listen_keys[stream.key] = key
            return key

    async def _renew_listen_key(self, stream: PrivateStream, conn: WsConnection, why: str) -> None:
        key = await self._create_listen_key(stream)
        conn.url = self.adapter.private_url(stream, self.session.context.urls(), key)
        log.info("account.listen_key_renewed", venue=self.venue, stream=stream.key, why=why)
        conn.reconnect(f"listenKey renewed ({why})", planned=True)

    async def _keep_listen_key(self, stream: PrivateStream, conn: WsConnection) -> None:
        """Keep the stream's key alive; a new key (and socket) when it expired."""
        adapter = self.adapter
        assert isinstance(adapter, ListenKeyStreams)
        every = self._keepalive or adapter.listen_key_keepalive_s(stream)
        while True:
            expired = self._expired_event(stream)
            with trio.move_on_after(every):
                await expired.wait()
            if expired.is_set():
                self._expired[stream.key] = trio.Event()
                await self._renew_listen_key(stream, conn, "listenKeyExpired")
                continue
            try:
                await self._listen_key_request(stream, "keepalive", self._listen_keys[stream.key])
            except ExchangeRejected as exc:
                if exc.code in (_LISTEN_KEY_GONE, str(_LISTEN_KEY_GONE)):
                    await self._renew_listen_key(stream, conn, str(exc.code))
                else:
                    log.warning("account.keepalive_refused", venue=self.venue,
                                stream=stream.key, error=str(exc))  # fmt: skip
            except ConnectorError as exc:
                log.warning("account.keepalive_failed", venue=self.venue, stream=stream.key,
                            error=str(exc))  # fmt: skip
            else:
                self._keepalives += 1

    # -- service -----------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Open the private streams, reconcile once, report ready, then keep at it.

        Ready once every stream logged in or was refused by the venue (or after
        ``start_timeout`` seconds, when one cannot: it keeps trying in the
        background, and the connector starts).
        """
        self.handlers = {}
        self.connections = {}
        self._expired = {}
        streams = self.private_streams()
        self._settled = {stream.key: trio.Event() for stream in streams}
        self._refused = {}
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._consume)
            for stream in streams:
                nursery.start_soon(self._run_stream, stream)
            with trio.move_on_after(self._start_timeout):
                for event in self._settled.values():
                    await event.wait()
            if self._refused:
                log.warning("account.started_with_refused_private_streams", venue=self.venue,
                            refused=dict(self._refused))  # fmt: skip
            waiting = [key for key, event in self._settled.items() if not event.is_set()]
            if waiting:
                log.warning("account.started_without_private_streams", venue=self.venue,
                            streams=waiting, waited=self._start_timeout)  # fmt: skip
            # The first reconciliation covers what the logins asked for.
            self._requested = trio.Event()
            ok = await self._reconcile_once()
            if not ok:
                self._requested.set()
            self.ready.set()
            task_status.started()
            nursery.start_soon(self._reconciler)
            nursery.start_soon(self._watch_fill_gaps)
