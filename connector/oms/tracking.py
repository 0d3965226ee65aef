"""The query path's service: child ``order_state`` of a trading venue's subtree.

:class:`OrderStateService` owns the venue's
:class:`~connector.oms.state.OrderBookkeeping`. Every source of order news goes
through :meth:`OrderStateService.apply`: the command path's events and REST
answers, the private stream's reports and fills (the account service), and
reconciliation; what the state machine says changed is appended to the event
log, then published on ``order.{venue}.{event}`` and ``fill.{venue}.{symbol}``.

It resolves what is not known: an order whose placement answer was lost
(``unknown``) or that the venue stopped listing is queried by its client order
id in the background, with bounded retries and exponential backoff; the answer
is applied, and only after repeated "no such order" answers, spread over a
query window, is the order ended (:meth:`OrderBookkeeping.not_found`). An
open order a reconciliation found unlisted but too young to judge (a venue may
not list a new order at once) is queried the moment it is as old as the query
window, if it is still open then. A placement is never resent.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import TypeVar, cast

import attrs
import structlog
import trio

from connector.bus import Bus
from connector.errors import (
    ConnectorError,
    IpBanned,
    OrderNotFound,
    RateLimited,
    TimestampRejected,
    TransientError,
)
from connector.model import (
    Fill,
    Instrument,
    Market,
    Order,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderStatusUnknown,
    OrderSubmitted,
    Symbol,
)
from connector.model.trading import FillKey, OrderReport
from connector.net.http import RestResponse
from connector.net.ratelimit import Lane, RateLimiter, WindowBucket
from connector.oms.order_socket import OrderSocket, OrderSocketStatistics
from connector.oms.reconcile import (
    RECONCILE,
    FillDiff,
    Reconciliation,
    reconcile,
    reconcile_fills,
    reconcile_orders,
)
from connector.oms.state import OrderBookkeeping, OrderStateStatistics, order_key
from connector.store.log import EventLog, Logged
from connector.venues.driver import FillsWindow, PagedListings, RestCall, TradingAdapter
from connector.venues.session import VenueSession

__all__ = ["EVENT_NAMES", "OrderStateService", "OrderStateServiceStatistics"]

log = structlog.get_logger(__name__)
_ZERO = Decimal(0)
_T = TypeVar("_T")

_WINDOW_MARGIN = 1.05
"""Order-count windows are kept 5 % longer than the venue's: its count starts when a
request arrives, which can be later than the answer that settles our grant says when
several requests race over separate connections, and its clock ticks in steps."""
RATE_LIMIT_RETRIES = 2
"""Times an order request the venue refused for its rate limit is sent again at most."""

EVENT_NAMES: dict[type, str] = {
    OrderSubmitted: "submitted",
    OrderAccepted: "accepted",
    OrderRejected: "rejected",
    OrderFilled: "filled",
    OrderCanceled: "canceled",
    OrderAmended: "amended",
    OrderExpired: "expired",
    OrderStatusUnknown: "unknown",
}
"""The ``{event}`` token of ``order.{venue}.{event}`` for each event type."""

_MAX_PAGES = 10
"""Pages of one listing read at most (Bybit: 50 open orders or 100 fills a page; OKX:
100), where the adapter pages (``PagedListings``)."""

_MAX_LOOKUPS = 20
"""Orders read by their venue order id per reconciliation at most: those of new fills
whose order we do not know (by that id, nor by the fill's client order id)."""

_MAX_GAP_ORDERS = 10
"""Orders whose own fills are read per reconciliation at most: those that show more
filled than their fills add up to after the time-window listing."""

_GAP_READS = 2
"""Reads of one order's fills at one filled quantity: a venue that lists fewer fills
than it reports filled (OKX spot market orders may) is not asked forever."""

_MAX_YOUNG = 1000
"""Orders at most waiting to be old enough for their query (unlisted, too young to judge
when a reconciliation ran); more are left to the next reconciliation."""

_FILLS_OVERLAP_NS = 5_000_000_000
"""The fills cursor stays this far behind the newest fill listed: a fill the venue lists
a moment late, older than one it listed already, is still read (dedup drops repeats)."""

_FORGET_EVERY = 60.0
"""Seconds between two drops of finished orders from memory (``forget_finished_after``)."""

_WINDOW_MARGIN_NS = 3_600_000_000_000
"""Where a fills listing spans a fixed time from ``since`` (:class:`FillsWindow`), the
cursor is kept at least this much inside the span: its end stays past the venue's now
even with a clock an hour off."""


def fills_since(since_ns: int | None, now_ns: int, window_ns: int | None) -> int | None:
    """The ``since_ns`` to list fills from: the cursor, moved up where the venue's span
    from it (``window_ns``) would end before ``now_ns``."""
    if since_ns is None or window_ns is None:
        return since_ns
    return max(since_ns, now_ns - window_ns + _WINDOW_MARGIN_NS)


Input = OrderEvent | OrderReport | Fill
"""What :meth:`OrderStateService.apply` takes, from any source."""


@attrs.frozen(kw_only=True)
class OrderStateServiceStatistics:
    """Counters of one venue's order-state service.

    Attributes:
        queries: Order queries sent (unknown outcomes, orders not listed).
        resolved: Orders a query answered.
        not_found: Orders ended because the venue kept saying it has no such order.
        unresolved: Orders whose queries all failed (left for reconciliation).
        rate_limit_retries: Placements, amendments and cancels sent again after the
            venue refused them for its rate limit.
        discrepancies: Differences reconciliation found, per kind.
        book: The order state machine's counters (orders, open, unknown, fills,
            duplicate and orphan fills, inputs that changed nothing).
        order_sockets: The websocket order entry's sockets, by key (empty: orders go
            over REST).
    """

    queries: int
    resolved: int
    not_found: int
    unresolved: int
    rate_limit_retries: int
    discrepancies: dict[str, int]
    book: OrderStateStatistics
    order_sockets: dict[str, OrderSocketStatistics] = attrs.field(factory=dict)


class OrderStateService:
    """Service ``order_state`` of one venue: applies order news, resolves unknowns.

    Args:
        session: The venue (context, symbols, markets).
        adapter: The venue's trading adapter.
        bus: Where events are published.
        event_log: Where events are appended before they are published.
        on_change: Called after every change (``c.orders.wait`` wakes on it).
        query_attempts: Queries of one order at most, per resolution.
        first_query_after: Seconds before the first query (the venue and its
            private stream get a moment to show the order).
        max_backoff: Longest wait between two queries, in seconds.
        not_found_after: "No such order" answers needed before an order is ended...
        query_window: ...at least this many seconds after its resolution began.
        forget_finished_after: Seconds after its last change that a finished order
            and its fills are dropped from memory (``None``: kept for the process's
            life); fills listed from before that are ignored, so a dropped one is
            never counted again. Only where the event store keeps the history.
        wall_clock_ns: Wall-clock time for the log and for events.
    """

    def __init__(
        self,
        session: VenueSession,
        adapter: TradingAdapter,
        *,
        bus: Bus,
        event_log: EventLog,
        on_change: Callable[[], None] = lambda: None,
        query_attempts: int = 8,
        first_query_after: float = 0.5,
        max_backoff: float = 8.0,
        not_found_after: int = 2,
        query_window: float = 2.0,
        forget_finished_after: float | None = None,
        wall_clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = session.name
        self.session = session
        self.adapter = adapter
        self.book = OrderBookkeeping()
        self._bus = bus
        self._log = event_log
        self._on_change = on_change
        self._attempts = query_attempts
        self._first = first_query_after
        self._max_backoff = max_backoff
        self._not_found_after = not_found_after
        self._window = query_window
        self._forget_after = forget_finished_after
        self._now = wall_clock_ns
        self._fills: dict[FillKey, Fill] = {}
        """Distinct fills in arrival order, by trade key (``fills()``)."""
        self._resolving: set[str] = set()
        self._young: dict[str, float] = {}
        self._young_changed = trio.Event()
        self._fills_since: dict[tuple[Market, Symbol | None], int] = {}
        self._gap_reads: dict[str, tuple[Decimal, int]] = {}
        self._send, self._receive = trio.open_memory_channel[tuple[str, float]](math.inf)
        self._order_limiters: dict[tuple[Market, Symbol | None], RateLimiter] = {}
        self._limiters_by_action: dict[
            tuple[Market, Symbol, str], list[tuple[RateLimiter, tuple[str, ...]]]
        ] = {}
        self._queries = self._resolved = self._not_found = self._unresolved = 0
        self._rate_limit_retries = 0
        self._discrepancies: dict[str, int] = {}
        self.order_sockets: dict[Market, OrderSocket] = {}
        """Where places, amends and cancels of a market go while its socket is logged
        in (the venue's websocket order entry, when configured); REST otherwise."""
        self.fill_listeners: list[Callable[[Fill], None]] = []
        """Told every distinct fill once, as it is published (the account service's
        positions and balances)."""
        self.order_listeners: list[Callable[[Order], None]] = []
        """Told an order as it stands after each published event of it, and every order
        of a restored state (the balance reservations: an end releases an order's)."""
        self.gap_listeners: list[Callable[[str], None]] = []
        """Told the key of an order a venue report shows more filled than its fills
        add up to (the fill may still come by stream; the account service waits a
        grace time, then reconciles)."""

    # -- applying --------------------------------------------------------------

    async def apply(self, items: Sequence[Input]) -> tuple[OrderEvent, ...]:
        """Apply order news from any source; log, then publish, what changed.

        Returns:
            The events the inputs made true, in order.
        """
        events: list[OrderEvent] = []
        logged: list[OrderEvent | OrderReport] = []
        reported: list[str] = []
        for item in items:
            if isinstance(item, Fill):
                item = OrderFilled.of(item)
            elif isinstance(item, OrderReport) and item.filled_qty:
                reported.append(order_key(item.client_order_id, item.venue_order_id))
            before = self._order_of(item) if isinstance(item, OrderReport) else None
            orphans = (
                self.book.fills(self.venue, "#" + item.venue_order_id)
                if item.client_order_id and item.venue_order_id
                else None
            )
            made = self.book.apply(item)
            if orphans and not self.book.fills(self.venue, "#" + (item.venue_order_id or "")):
                self._adopted(orphans, item.client_order_id)
            events.extend(made)
            logged.extend(made)
            if isinstance(item, OrderReport) and self._order_of(item) != before:
                # A report may move an order further than the events it yields say (a
                # filled quantity with no fill yet, a fill counted first under the
                # venue's id): the report itself is logged after them, so that a replay
                # comes to the same state.
                logged.append(item)
        # Even with nothing new: a store that cannot write now raises here, since
        # what the state already holds may not be durable yet (an earlier write
        # failed); the caller must not take it as done.
        await self.log(logged)
        if events:
            self.publish(events)
        for key in reported:
            if self.fill_gap(key):
                for gap_listener in self.gap_listeners:
                    gap_listener(key)
        return tuple(events)

    def _adopted(self, fills: Sequence[Fill], client_order_id: str) -> None:
        """Fills kept under their venue order id that the order state has just filed under
        ``client_order_id`` (the order showed that venue id): ``fills()`` names it too."""
        for f in fills:
            trade = f.key
            kept = self._fills.get(trade)
            if kept is not None:
                self._fills[trade] = attrs.evolve(kept, client_order_id=client_order_id)

    def _order_of(self, item: OrderReport) -> Order | None:
        order = self.book.get(self.venue, order_key(item.client_order_id, item.venue_order_id))
        if order is None and item.venue_order_id:
            order = self.book.get_by_venue_id(self.venue, item.venue_order_id)
        return order

    def fill_gap(self, key: str) -> bool:
        """Whether the order (client order id, or ``#`` + venue order id) shows more
        filled than its distinct fills add up to: a fill not seen yet."""
        order = self.book.get(self.venue, key)
        if order is None or not order.filled_qty:
            return False
        return order.filled_qty > sum((f.qty for f in self.book.fills(self.venue, key)), _ZERO)

    async def log(self, events: Sequence[OrderEvent | Logged]) -> None:
        """Append events (order events, venue positions and balances) to the event log;
        returns once they are durable.

        Raises:
            StoreError: the store cannot write (nothing may be sent or published).
        """
        # Every order event type is a logged type (store.log.LOGGED_TYPES).
        await self._log.append(cast("Sequence[Logged]", events), ts_ns=self._now())

    def restore(self, book: OrderBookkeeping, fills: Sequence[Fill]) -> None:
        """Adopt the order state and fills replayed from the event log (the persistence
        service, at start and after the store came back): what was applied but never
        became durable is dropped, and reconciliation with the venue brings it back."""
        self.book = book
        self._fills = {f.key: f for f in fills}
        for listener in self.order_listeners:
            for order in book.all():
                listener(order)
        self._on_change()

    def publish(self, events: Sequence[OrderEvent]) -> None:
        """Publish events already applied and logged (and wake waiters)."""
        for event in events:
            self._bus.publish(f"order.{self.venue}.{EVENT_NAMES[type(event)]}", event)
            if isinstance(event, OrderFilled):
                trade = event.fill.key
                self._fills[trade] = event.fill
                self._bus.publish(f"fill.{self.venue}.{event.fill.symbol}", event.fill)
                for listener in self.fill_listeners:
                    listener(event.fill)
            elif isinstance(event, OrderStatusUnknown):
                self.resolve(event.client_order_id)
            if self.order_listeners and (order := self.book.get(self.venue, event.client_order_id)):
                for order_listener in self.order_listeners:
                    order_listener(order)
        self._on_change()

    @property
    def resolving(self) -> frozenset[str]:
        """Orders being queried now (unknown outcomes, orders the venue stopped listing),
        or to be queried once old enough (unlisted when too young to judge, still open)."""
        waiting = {key for key in self._young if self.is_open(key)}
        return frozenset(self._resolving | waiting)

    def is_open(self, key: str) -> bool:
        """Whether the order (client order id, or ``#`` + venue order id) is known and
        not finished."""
        order = self.book.get(self.venue, key)
        return order is not None and not order.status.is_terminal

    def fills(self, symbol: Symbol | None = None) -> list[Fill]:
        """Distinct fills seen on this venue, in arrival order."""
        return [f for f in self._fills.values() if symbol is None or f.symbol == symbol]

    def statistics(self) -> OrderStateServiceStatistics:
        return OrderStateServiceStatistics(
            queries=self._queries,
            resolved=self._resolved,
            not_found=self._not_found,
            unresolved=self._unresolved,
            rate_limit_retries=self._rate_limit_retries,
            discrepancies=dict(self._discrepancies),
            book=self.book.statistics(),
            order_sockets={
                socket.socket.key: socket.statistics()
                for socket in set(self.order_sockets.values())
            },
        )

    # -- venue requests ----------------------------------------------------------

    def instrument(self, symbol: Symbol) -> tuple[Market, Instrument]:
        """The venue market and instrument of ``symbol`` (UnknownInstrument if not loaded)."""
        market = self.session.adapter.market_for(symbol)
        return market, self.session.symbols.by_symbol(market, symbol)

    async def once_more_on_timestamp(self, request: Callable[[], Awaitable[_T]], what: str) -> _T:
        """``request()``; when the venue refuses its timestamp (Binance -1021, Bybit
        10002, OKX 50102: it did not act on it), the clock is resynced (awaited) and
        ``request()`` made once more, signed anew, never a third time.

        Args:
            request: Sends one signed request and reads its answer.
            what: The request, for the log (``place X``, ``cancel X``, ``listing``).

        Raises:
            TimestampRejected: refused twice, or the venue's clock could not be read.
        """
        try:
            return await request()
        except TimestampRejected as exc:
            log.warning("orders.timestamp_rejected", venue=self.venue, request=what,
                        error=str(exc))  # fmt: skip
            try:
                await self.session.context.clock.resync()
            except ConnectorError:
                raise exc from None
        return await request()

    async def again_on_rate_limit(self, request: Callable[[], Awaitable[_T]], what: str) -> _T:
        """``request()``; when the venue refuses it for its rate limit naming a wait
        (a 429 with ``Retry-After``, Bybit 10006, OKX 50011: it did not act on it),
        that ``retry_after`` is waited out and ``request()`` made again, signed anew,
        at most :data:`RATE_LIMIT_RETRIES` times and only while the time since the
        first try plus the wait stays within the venue's ``request_timeout``.

        Raised at once: our own limiters' refusals (``local``: never sent, they
        waited as long as allowed), an IP ban, and a refusal naming no wait
        (Binance -1015, the account's order count, whose window may be a day).

        Args:
            request: Sends one order request and reads its answer.
            what: The request, for the log (``place X``, ``cancel X``).

        Raises:
            RateLimited: refused every time, or the venue asks for a longer wait.
        """
        deadline = trio.current_time() + self.session.context.request_timeout
        for _ in range(RATE_LIMIT_RETRIES):
            try:
                return await request()
            except RateLimited as exc:
                wait = exc.retry_after
                if (
                    exc.local
                    or isinstance(exc, IpBanned)
                    or wait is None
                    or trio.current_time() + wait > deadline
                ):
                    raise
                self._rate_limit_retries += 1
                log.warning("orders.rate_limited", venue=self.venue, request=what,
                            retry_after=wait, error=str(exc))  # fmt: skip
                await trio.sleep(wait)
        return await request()

    async def send(self, market: Market, call: RestCall, *, lane: Lane) -> RestResponse:
        """One signed order-endpoint request; the answer comes back unread."""
        return await self.session.context.send_signed(market, call, self.adapter.sign, lane=lane)

    async def send_order(
        self,
        market: Market,
        symbol: Symbol,
        call: RestCall,
        action: str = "place",
        *,
        orders: int = 1,
    ) -> RestResponse:
        """A placement, amendment or cancel: it takes ``orders`` orders of each of the
        venue's order-count buckets for ``action`` (account-wide, and per instrument
        where the venue counts so: OKX), waiting in the order lane, and the answer's
        headers correct those buckets. It goes on the order socket when there is one
        and it is logged in, else over REST; an IP ban of the market's REST host holds
        it either way."""
        limiters = self._order_limiters_of(market, symbol, action)
        for limiter, names in limiters:
            await limiter.acquire(dict.fromkeys(names, float(orders)), Lane.ORDER)
        try:
            socket = self.order_sockets.get(market)
            response = None
            if socket is not None:
                # One IP, one ban: the host's REST limiter holds the socket's orders too,
                # and learns from the socket's replies what it learns from REST answers.
                rest = self.session.context.rest(market)
                rest.check_ban()
                response = await socket.send(call, self.session.symbols.by_symbol(market, symbol))
                if response is not None:
                    rest.heed(response)
            if response is None:
                response = await self.send(market, call, lane=Lane.ORDER)
        finally:
            for limiter, names in limiters:
                limiter.settle(names)
        for limiter, names in limiters:
            limiter.on_response(response.status, response.headers, names)
        return response

    def _order_limiters_of(
        self, market: Market, symbol: Symbol, action: str
    ) -> list[tuple[RateLimiter, tuple[str, ...]]]:
        # The same for every order of a symbol and action: worked out once.
        cached = self._limiters_by_action.get((market, symbol, action))
        if cached is None:
            cached = self._limiters_by_action[(market, symbol, action)] = self._limiters_for(
                market, symbol, action
            )
        return cached

    def _limiters_for(
        self, market: Market, symbol: Symbol, action: str
    ) -> list[tuple[RateLimiter, tuple[str, ...]]]:
        out = []
        limits = self.adapter.order_limits(market)
        for scope, key in (("account", (market, None)), ("instrument", (market, symbol))):
            mine = [limit for limit in limits if limit.scope == scope]
            if not mine:
                continue
            limiter = self._order_limiters.get(key)
            if limiter is None:
                limiter = self._order_limiters[key] = RateLimiter(
                    f"{self.venue} {market.value} orders"
                    + (f" {symbol}" if scope == "instrument" else ""),
                    {
                        limit.name: WindowBucket(
                            capacity=limit.capacity, period=limit.period * _WINDOW_MARGIN
                        )
                        for limit in mine
                    },
                    header_parser=functools.partial(self.adapter.read_order_counts, market),
                    venue_time_ns=self.session.context.clock.venue_time_ns,
                )
            names = tuple(limit.name for limit in mine if action in limit.actions)
            if names:
                out.append((limiter, names))
        return out

    def read_answer(
        self, market: Market, response: RestResponse, *, action: str, client_order_id: str
    ) -> OrderReport:
        """The order an answer reports (raises as the adapter's parser says).

        A timestamp rejection makes the clock resync at once. What a REST answer below
        HTTP 500 said goes to the health breaker (a 5xx one went when it arrived; an
        order socket's replies move no breaker), except a query's answer unless it says
        the venue failed: queries resolve lost outcomes, and their answers ("filled",
        "no such order") say nothing of the order endpoint, so they must not clear the
        failures that lost the orders (an endpoint failing every order at a normal pace
        would never trip the breaker).
        """
        try:
            report = self.adapter.parse_order_answer(
                market,
                self.session.symbols,
                response.status,
                response.body,
                response.received_ns,
                action=action,
                client_order_id=client_order_id,
            )
        except ConnectorError as exc:
            if isinstance(exc, TimestampRejected):
                self.session.context.timestamp_rejected()
            if action != "query" or isinstance(exc, TransientError):
                self.answered(response, exc)
            raise
        if action != "query":
            self.answered(response, None)
        return report

    def answered(self, response: RestResponse, error: ConnectorError | None) -> None:
        """Tell the health breaker what a REST answer handed back unread said once read
        (``None``: the venue answered, a refusal included; else the error its code maps
        to). A 5xx answer was told when it arrived, and an order socket's replies move
        no breaker (their URL is the socket's)."""
        if response.status < 500 and response.url.startswith("http"):
            self.session.context.answer_read(error)

    async def query(self, symbol: Symbol, client_order_id: str) -> OrderReport:
        """The venue's report of one order, by client order id (or, for ``#`` + the
        venue's order id, by that id: an order placed elsewhere without one).

        Raises:
            OrderNotFound: the venue does not know it; or any mapped error.
        """
        market, instrument = self.instrument(symbol)
        self._queries += 1
        if client_order_id.startswith("#"):
            venue_order_id = client_order_id[1:]
            call = self.adapter.query_order_by_venue_id_call(market, instrument, venue_order_id)
        else:
            call = self.adapter.query_order_call(market, instrument, client_order_id)

        async def ask() -> OrderReport:
            response = await self.send(market, call, lane=Lane.DEFAULT)
            return self.read_answer(
                market, response, action="query", client_order_id=client_order_id
            )

        return await self.once_more_on_timestamp(ask, f"query {client_order_id}")

    # -- resolution --------------------------------------------------------------

    def resolve(self, key: str, *, after: float | None = None) -> None:
        """Query one order in the background until the venue says how it is: first
        ``after`` seconds from now (default: ``first_query_after``)."""
        if key.startswith("#") or key in self._resolving:
            return  # no client id to query by, or already being resolved
        self._resolving.add(key)
        self._send.send_nowait((key, self._first if after is None else after))

    async def _resolve(self, key: str, first: float) -> None:
        try:
            await self._resolve_one(key, first)
        finally:
            self._resolving.discard(key)

    async def _resolve_one(self, key: str, first: float) -> None:
        started = trio.current_time()
        delay = first
        not_found = 0
        for _ in range(self._attempts):
            await trio.sleep(delay)
            # Doubling, from ``first_query_after`` at least (a first query at once).
            delay = min(max(delay * 2, self._first), self._max_backoff)
            order = self.book.get(self.venue, key)
            if order is None or order.status.is_terminal:
                return
            try:
                report = await self.query(order.symbol, key)
            except OrderNotFound:
                not_found += 1
                waited = trio.current_time() - started
                if not_found >= self._not_found_after and waited >= self._window:
                    events = self.book.not_found(
                        self.venue, key, now_ns=self._now(), source=RECONCILE
                    )
                    if events:
                        self._not_found += 1
                        await self.log(events)
                        self.publish(events)
                        log.warning("orders.not_found", venue=self.venue, order=key)
                    return
                log.info("orders.query_not_found", venue=self.venue, order=key, times=not_found)
            except ConnectorError as exc:
                log.warning("orders.query_failed", venue=self.venue, order=key, error=str(exc))
            else:
                self._resolved += 1
                # What the query says closes a difference with the venue: tagged.
                await self.apply([attrs.evolve(report, source=RECONCILE)])
                log.info("orders.resolved", venue=self.venue, order=key, status=report.status)
                return
        self._unresolved += 1
        log.error("orders.unresolved", venue=self.venue, order=key, attempts=self._attempts)

    def _query_when_old(self, young: Sequence[tuple[str, int]]) -> None:
        """Have each order a reconciliation found unlisted but too young to judge
        (``(key, ns until it is old enough)``) queried once it is old enough.

        Orders being resolved already, or still ``submitted`` (their placement's
        answer, or the resolution a restart starts, says how they are), are left out.
        """
        now = trio.current_time()
        for key, wait_ns in young:
            order = self.book.get(self.venue, key)
            if (
                key.startswith("#")
                or key in self._resolving
                or order is None
                or order.status is OrderStatus.SUBMITTED
            ):
                continue
            due = now + wait_ns / 1e9
            if key in self._young:
                due = min(due, self._young[key])
            elif len(self._young) >= _MAX_YOUNG:
                log.warning("orders.young_left", venue=self.venue, order=key,
                            waiting=len(self._young))  # fmt: skip
                continue
            self._young[key] = due
        self._young_changed.set()

    async def _query_young(self) -> None:
        """Hand each order waiting in :meth:`_query_when_old` to the resolution the
        moment it is old enough, if it is still open then (its first query at once)."""
        while True:
            changed = self._young_changed
            with trio.move_on_at(min(self._young.values(), default=math.inf)):
                await changed.wait()
            if changed.is_set():
                self._young_changed = trio.Event()
            now = trio.current_time()
            for key, due in list(self._young.items()):
                if due > now:
                    continue
                del self._young[key]
                if self.is_open(key):
                    log.info("orders.query_unlisted", venue=self.venue, order=key)
                    self.resolve(key, after=0.0)

    # -- reconciliation ------------------------------------------------------------

    async def reconcile(
        self, markets: Sequence[Market] | None = None, *, fills: bool = True
    ) -> Reconciliation:
        """Open orders and recent fills of ``markets`` (default: the venue's) against ours.

        In order: the venue's open orders (every page, up to :data:`_MAX_PAGES`) are
        compared and what differs applied; each open order of ours the venue no
        longer lists is queried once (its answer applied; a failed or "no such
        order" query leaves it to the background resolution); then the fills since
        the last listing (with :data:`_FILLS_OVERLAP_NS` of overlap): a fill listed
        without a client order id whose order we do not know by its venue id has
        that order read by venue id first (:data:`_MAX_LOOKUPS`), so the fill is
        filed under our client order id; then every order that still shows more
        filled than its fills add up to has its own fills read by venue order id
        (:data:`_MAX_GAP_ORDERS`): a fill lost from the stream is found even when
        the time window missed it (a newer fill moved the cursor, a full page).
        Everything applied is tagged ``source="reconcile"``; fills are deduplicated
        by ``Fill.key``. ``fills=False`` skips the fills (a
        cancel-all only needs the open orders).
        """
        markets = list(markets if markets is not None else self.session.markets())
        reports: list[OrderReport] = []
        for market in markets:
            for response in await self._listing(market, self.adapter.open_orders_call(market)):
                reports.extend(
                    self.adapter.parse_open_orders(
                        market, self.session.symbols, response.body, response.received_ns
                    )
                )
        market_of = self.session.adapter.market_for
        orders = reconcile_orders(
            self.venue,
            self.book.open(self.venue),
            reports,
            known=lambda key: self.book.get(self.venue, key),
            covers=lambda symbol: market_of(symbol) in markets,
            now_ns=self._now(),
            min_age_ns=int(self._window * 1e9),
        )
        await self.apply(orders.reports)
        for key in orders.to_query:
            await self._query_once(key)
        self._query_when_old(orders.young)
        found = FillDiff()
        if fills:
            listed: list[Fill] = []
            cursors: dict[tuple[Market, Symbol | None], int] = {}
            for market in markets:
                listed.extend(await self._recent_fills(market, cursors))
            if self._forget_after is not None:
                horizon = self._forget_horizon_ns(self._forget_after)
                listed = [f for f in listed if not self._forgotten(f, horizon)]
            await self._look_up_orders_of(listed)
            found = self._fill_diff(listed)
            await self.apply(found.events)
            # The cursors move only once what they cover is applied.
            self._fills_since.update(cursors)
            gap = self._fill_diff(await self._gap_fills(markets))
            await self.apply(gap.events)
            found = FillDiff(
                events=found.events + gap.events,
                last_ts_ns=found.last_ts_ns,
                discrepancies={
                    k: found.discrepancies.get(k, 0) + gap.discrepancies.get(k, 0)
                    for k in {*found.discrepancies, *gap.discrepancies}
                },
            )
        result = reconcile(orders, found)
        for kind, n in result.discrepancies.items():
            self._discrepancies[kind] = self._discrepancies.get(kind, 0) + n
        if result.total:
            log.warning(
                "orders.reconciled", venue=self.venue, discrepancies=dict(result.discrepancies)
            )
        return result

    def _forget_horizon_ns(self, after: float) -> int:
        """Finished orders last changed before this leave memory (``after`` seconds ago)."""
        return self._now() - int(after * 1e9)

    def _forget_finished(self, horizon: int) -> None:
        """Drop from memory the finished orders (and their fills) last changed before
        ``horizon``."""
        for fill in self.book.forget(horizon):
            self._fills.pop(fill.key, None)

    def _forgotten(self, fill: Fill, horizon: int) -> bool:
        """Whether a listed fill is from before ``horizon`` and its order is not known
        (dropped from memory, with its fills: it must not be counted again)."""
        if fill.ts_event_ns >= horizon:
            return False
        if fill.client_order_id and self.book.get(self.venue, fill.client_order_id):
            return False
        return not (
            fill.venue_order_id and self.book.get_by_venue_id(self.venue, fill.venue_order_id)
        )

    async def _forget_periodically(self, after: float) -> None:
        while True:
            self._forget_finished(self._forget_horizon_ns(after))
            await trio.sleep(min(after, _FORGET_EVERY))

    def _fill_diff(self, listed: Sequence[Fill]) -> FillDiff:
        return reconcile_fills(
            self.venue, listed, seen=self._fills.__contains__, client_id_of=self._client_id_of
        )

    async def _query_once(self, key: str) -> None:
        """One query of an order the venue stopped listing; on no answer, resolve later."""
        order = self.book.get(self.venue, key)
        if order is None or order.status.is_terminal or key.startswith("#"):
            return
        try:
            report = await self.query(order.symbol, key)
        except ConnectorError as exc:
            log.info("orders.reconcile_query", venue=self.venue, order=key, error=str(exc))
            self.resolve(key)
            return
        self._resolved += 1
        await self.apply([attrs.evolve(report, source=RECONCILE)])

    def _client_id_of(self, venue_order_id: str) -> str | None:
        order = self.book.get_by_venue_id(self.venue, venue_order_id)
        return order.client_order_id if order is not None else None

    async def _look_up_orders_of(self, listed: Sequence[Fill]) -> None:
        """Read by venue order id the orders of new fills whose order we know neither by
        that id nor by the fill's client order id (Binance lists fills without one; our
        order whose placement answer was lost, one placed elsewhere, or one of an
        earlier run whose fills the start reads), and apply them: the fills then find
        their order.

        A read that fails leaves the fill to be kept under ``#`` + the venue's order
        id; the order state moves it to its order once the order shows that id.
        """
        wanted: dict[str, Symbol] = {}
        for fill in listed:
            if (
                fill.venue == self.venue
                and fill.venue_order_id
                and fill.key not in self._fills
                and self.book.get_by_venue_id(self.venue, fill.venue_order_id) is None
                and (
                    not fill.client_order_id
                    or self.book.get(self.venue, fill.client_order_id) is None
                )
            ):
                wanted.setdefault(fill.venue_order_id, fill.symbol)
        for venue_order_id, symbol in list(wanted.items())[:_MAX_LOOKUPS]:
            market, instrument = self.instrument(symbol)
            call = self.adapter.query_order_by_venue_id_call(market, instrument, venue_order_id)
            self._queries += 1
            try:
                response = await self.send(market, call, lane=Lane.DEFAULT)
                report = self.read_answer(
                    market, response, action="query", client_order_id="#" + venue_order_id
                )
            except ConnectorError as exc:
                log.info("orders.lookup_failed", venue=self.venue, venue_order_id=venue_order_id,
                         error=str(exc))  # fmt: skip
                continue
            await self.apply([attrs.evolve(report, source=RECONCILE)])

    async def _gap_fills(self, markets: Sequence[Market]) -> list[Fill]:
        """The fills of each order (of ``markets``) that shows more filled than its fills
        add up to, read by its venue order id: the most recently updated first, at most
        :data:`_MAX_GAP_ORDERS`, each at most :data:`_GAP_READS` times per filled quantity."""
        market_of = self.session.adapter.market_for
        gaps = []
        current = set()
        for order in self.book.gaps(self.venue):
            if not order.venue_order_id:
                continue  # its fills cannot be read by the venue's id
            key = order_key(order.client_order_id, order.venue_order_id)
            current.add(key)
            if market_of(order.symbol) not in markets:
                continue
            filled, reads = self._gap_reads.get(key, (order.filled_qty, 0))
            if filled == order.filled_qty and reads >= _GAP_READS:
                continue
            gaps.append(order)
        self._gap_reads = {k: v for k, v in self._gap_reads.items() if k in current}
        gaps.sort(key=lambda o: o.ts_updated_ns, reverse=True)
        out: list[Fill] = []
        for order in gaps[:_MAX_GAP_ORDERS]:
            assert order.venue_order_id is not None
            key = order_key(order.client_order_id, order.venue_order_id)
            filled, reads = self._gap_reads.get(key, (order.filled_qty, 0))
            reads = reads + 1 if filled == order.filled_qty else 1
            self._gap_reads[key] = (order.filled_qty, reads)
            market, instrument = self.instrument(order.symbol)
            call = self.adapter.order_fills_call(market, instrument, order.venue_order_id)
            out.extend(await self._listed_fills(market, call))
        return out

    async def _read(self, market: Market, call: RestCall) -> RestResponse:
        """One page of a listing (sent once more after a timestamp refusal)."""

        async def read() -> RestResponse:
            return await self.session.context.send_signed(
                market, call, self.adapter.sign, lane=Lane.DEFAULT, check=True
            )

        return await self.once_more_on_timestamp(read, f"listing {call.path}")

    async def _listing(self, market: Market, call: RestCall) -> list[RestResponse]:
        """A listing's answers: every page (up to :data:`_MAX_PAGES`) where the adapter
        pages (``PagedListings``: Bybit ``cursor``, OKX ``after``), else the one answer."""
        responses = [await self._read(market, call)]
        if isinstance(self.adapter, PagedListings):
            while len(responses) < _MAX_PAGES:
                after = self.adapter.next_page_call(market, call, responses[-1].body)
                if after is None:
                    break
                call = after
                responses.append(await self._read(market, call))
        return responses

    async def _listed_fills(self, market: Market, call: RestCall) -> list[Fill]:
        """A fills listing's fills, oldest first: the venues that page (Bybit, OKX) list
        newest first, so their pages are read from the last one."""
        fills: list[Fill] = []
        for response in reversed(await self._listing(market, call)):
            fills.extend(
                self.adapter.parse_fills(
                    market, self.session.symbols, response.body, response.received_ns
                )
            )
        return fills

    async def _recent_fills(
        self, market: Market, cursors: dict[tuple[Market, Symbol | None], int]
    ) -> list[Fill]:
        """The fills since the last listing: per market, or per symbol where the venue
        lists fills only by symbol (Binance). The next cursors go into ``cursors``: the
        newest fill listed less :data:`_FILLS_OVERLAP_NS`, never earlier than before."""
        targets: list[Instrument | None] = [None]
        try:
            self.adapter.fills_call(market, None, None)
        except ValueError:
            # A configured symbol the venue does not list (market data says so) has
            # no fills; it must not stop the reconciliation of the others.
            symbols = {o.symbol for o in self.book.all()} | set(self.session.wanted)
            listed = (self.session.symbols.get(market, s) for s in sorted(symbols, key=str))
            targets = [i for i in listed if i is not None]
        out: list[Fill] = []
        for instrument in targets:
            key = (market, instrument.symbol if instrument is not None else None)
            since = self._fills_since.get(key)
            if isinstance(self.adapter, FillsWindow):
                window = self.adapter.fills_window_ns(market)
                since = fills_since(since, self._now(), window)
            call = self.adapter.fills_call(market, instrument, since)
            fills = await self._listed_fills(market, call)
            if fills:
                newest = max(f.ts_event_ns for f in fills) - _FILLS_OVERLAP_NS
                cursors[key] = newest if since is None else max(since, newest)
            out.extend(fills)
        return out

    # -- service -----------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        # A restart starts over: resolutions of the last run died with it.
        self._resolving.clear()
        for order in self.book.open(self.venue):
            if order.status in (OrderStatus.UNKNOWN, OrderStatus.SUBMITTED):
                self.resolve(order.client_order_id)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._query_young)
            if self._forget_after is not None:
                nursery.start_soon(self._forget_periodically, self._forget_after)
            task_status.started()
            async for key, first in self._receive:
                nursery.start_soon(self._resolve, key, first)
