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
query window, is the order ended (:meth:`OrderBookkeeping.not_found`). A
placement is never resent.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import cast

import attrs
import structlog
import trio

from connector.bus import Bus
from connector.errors import ConnectorError, OrderNotFound, TimestampRejected
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
from connector.model.trading import OrderReport
from connector.net.http import RestResponse
from connector.net.ratelimit import Lane, RateLimiter, WindowBucket
from connector.oms.reconcile import (
    RECONCILE,
    Reconciliation,
    reconcile,
    reconcile_fills,
    reconcile_orders,
)
from connector.oms.state import OrderBookkeeping, OrderStateStatistics, order_key
from connector.store.log import EventLog, Logged
from connector.venues.driver import RestCall, TradingAdapter
from connector.venues.session import VenueSession

__all__ = ["EVENT_NAMES", "OrderStateService", "OrderStateServiceStatistics"]

log = structlog.get_logger(__name__)
_ZERO = Decimal(0)

_WINDOW_MARGIN = 1.05
"""Order-count windows are kept 5 % longer than the venue's: its count starts when a
request arrives, which can be later than the answer that settles our grant says when
several requests race over separate connections, and its clock ticks in steps."""

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
        discrepancies: Differences reconciliation found, per kind.
        book: The order state machine's counters (orders, open, unknown, fills,
            duplicate and orphan fills, inputs that changed nothing).
    """

    queries: int
    resolved: int
    not_found: int
    unresolved: int
    discrepancies: dict[str, int]
    book: OrderStateStatistics


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
        self._now = wall_clock_ns
        self._fills: list[Fill] = []
        self._trades: set[tuple[str, Symbol, str]] = set()
        self._resolving: set[str] = set()
        self._fills_since: dict[tuple[Market, Symbol | None], int] = {}
        self._send, self._receive = trio.open_memory_channel[str](math.inf)
        self._order_limiters: dict[tuple[Market, Symbol | None], RateLimiter] = {}
        self._limiters_by_action: dict[
            tuple[Market, Symbol, str], list[tuple[RateLimiter, tuple[str, ...]]]
        ] = {}
        self._queries = self._resolved = self._not_found = self._unresolved = 0
        self._discrepancies: dict[str, int] = {}
        self.fill_listeners: list[Callable[[Fill], None]] = []
        """Told every distinct fill once, as it is published (the account service's
        positions and balances)."""
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
                item = _filled(item)
            elif isinstance(item, OrderReport) and item.filled_qty:
                reported.append(order_key(item.client_order_id, item.venue_order_id))
            before = self._order_of(item) if isinstance(item, OrderReport) else None
            made = self.book.apply(item)
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
        self._fills = list(fills)
        self._trades = {(f.venue, f.symbol, f.trade_id) for f in fills}
        self._on_change()

    def publish(self, events: Sequence[OrderEvent]) -> None:
        """Publish events already applied and logged (and wake waiters)."""
        for event in events:
            self._bus.publish(f"order.{self.venue}.{EVENT_NAMES[type(event)]}", event)
            if isinstance(event, OrderFilled):
                self._fills.append(event.fill)
                self._trades.add((event.venue, event.fill.symbol, event.fill.trade_id))
                self._bus.publish(f"fill.{self.venue}.{event.fill.symbol}", event.fill)
                for listener in self.fill_listeners:
                    listener(event.fill)
            elif isinstance(event, OrderStatusUnknown):
                self.resolve(event.client_order_id)
        self._on_change()

    @property
    def resolving(self) -> frozenset[str]:
        """Orders being queried now (unknown outcomes, orders the venue stopped listing)."""
        return frozenset(self._resolving)

    def fills(self, symbol: Symbol | None = None) -> list[Fill]:
        """Distinct fills seen on this venue, in arrival order."""
        return [f for f in self._fills if symbol is None or f.symbol == symbol]

    def statistics(self) -> OrderStateServiceStatistics:
        return OrderStateServiceStatistics(
            queries=self._queries,
            resolved=self._resolved,
            not_found=self._not_found,
            unresolved=self._unresolved,
            discrepancies=dict(self._discrepancies),
            book=self.book.statistics(),
        )

    # -- venue requests ----------------------------------------------------------

    def instrument(self, symbol: Symbol) -> tuple[Market, Instrument]:
        """The venue market and instrument of ``symbol`` (UnknownInstrument if not loaded)."""
        market = self.session.adapter.market_for(symbol)
        return market, self.session.symbols.by_symbol(market, symbol)

    async def send(self, market: Market, call: RestCall, *, lane: Lane) -> RestResponse:
        """One signed order-endpoint request; the answer comes back unread."""
        return await self.session.context.send_signed(market, call, self.adapter.sign, lane=lane)

    async def send_order(
        self, market: Market, symbol: Symbol, call: RestCall, action: str = "place"
    ) -> RestResponse:
        """A placement or amendment: it takes one order of each of the venue's order-count
        buckets (account-wide, and per instrument where the venue counts so: OKX),
        waiting in the order lane, and the answer's headers correct those buckets."""
        limiters = self._order_limiters_of(market, symbol, action)
        for limiter, names in limiters:
            await limiter.acquire(dict.fromkeys(names, 1.0), Lane.ORDER)
        try:
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
                )
            names = tuple(limit.name for limit in mine if action in limit.actions)
            if names:
                out.append((limiter, names))
        return out

    def read_answer(
        self, market: Market, response: RestResponse, *, action: str, client_order_id: str
    ) -> OrderReport:
        """The order an answer reports (raises as the adapter's parser says).

        A timestamp rejection makes the clock resync at once.
        """
        try:
            return self.adapter.parse_order_answer(
                market,
                self.session.symbols,
                response.status,
                response.body,
                response.received_ns,
                action=action,
                client_order_id=client_order_id,
            )
        except TimestampRejected:
            self.session.context.timestamp_rejected()
            raise

    async def query(self, symbol: Symbol, client_order_id: str) -> OrderReport:
        """The venue's report of one order, by client order id.

        Raises:
            OrderNotFound: the venue does not know it; or any mapped error.
        """
        market, instrument = self.instrument(symbol)
        self._queries += 1
        call = self.adapter.query_order_call(market, instrument, client_order_id)
        response = await self.send(market, call, lane=Lane.DEFAULT)
        return self.read_answer(market, response, action="query", client_order_id=client_order_id)

    # -- resolution --------------------------------------------------------------

    def resolve(self, key: str) -> None:
        """Query one order in the background until the venue says how it is."""
        if key.startswith("#") or key in self._resolving:
            return  # no client id to query by, or already being resolved
        self._resolving.add(key)
        self._send.send_nowait(key)

    async def _resolve(self, key: str) -> None:
        try:
            await self._resolve_one(key)
        finally:
            self._resolving.discard(key)

    async def _resolve_one(self, key: str) -> None:
        started = trio.current_time()
        delay = self._first
        not_found = 0
        for _ in range(self._attempts):
            await trio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)
            order = self.book.get(self.venue, key)
            if order is None or order.status.is_terminal:
                return
            try:
                report = await self.query(order.symbol, key)
            except OrderNotFound:
                not_found += 1
                waited = trio.current_time() - started
                if not_found >= self._not_found_after and waited >= self._window:
                    events = self.book.not_found(self.venue, key, now_ns=self._now())
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
                await self.apply([report])
                log.info("orders.resolved", venue=self.venue, order=key, status=report.status)
                return
        self._unresolved += 1
        log.error("orders.unresolved", venue=self.venue, order=key, attempts=self._attempts)

    # -- reconciliation ------------------------------------------------------------

    async def reconcile(
        self, markets: Sequence[Market] | None = None, *, fills: bool = True
    ) -> Reconciliation:
        """Open orders and recent fills of ``markets`` (default: the venue's) against ours.

        In order: the venue's open orders are compared and what differs applied;
        each open order of ours the venue no longer lists is queried once (its
        answer applied; a failed or "no such order" query leaves it to the
        background resolution); then the fills since the last one seen are
        compared and applied (after the queries, so fills listed without a
        client order id find their order by its venue id). Everything applied
        is tagged ``source="reconcile"``. ``fills=False`` skips the fills (a
        cancel-all only needs the open orders).
        """
        markets = list(markets if markets is not None else self.session.markets())
        reports: list[OrderReport] = []
        for market in markets:
            response = await self._read(market, self.adapter.open_orders_call(market))
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
        listed: list[Fill] = []
        for market in markets if fills else ():
            listed.extend(await self._recent_fills(market))
        found = reconcile_fills(
            self.venue, listed, seen=self._trades.__contains__, client_id_of=self._client_id_of
        )
        await self.apply(found.events)
        result = reconcile(orders, found)
        for kind, n in result.discrepancies.items():
            self._discrepancies[kind] = self._discrepancies.get(kind, 0) + n
        if result.total:
            log.warning(
                "orders.reconciled", venue=self.venue, discrepancies=dict(result.discrepancies)
            )
        return result

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

    async def _read(self, market: Market, call: RestCall) -> RestResponse:
        return await self.session.context.send_signed(
            market, call, self.adapter.sign, lane=Lane.DEFAULT, check=True
        )

    async def _recent_fills(self, market: Market) -> list[Fill]:
        """The fills since the last one seen: per market, or per symbol where the venue
        lists fills only by symbol (Binance)."""
        targets: list[Instrument | None] = [None]
        try:
            self.adapter.fills_call(market, None, None)
        except ValueError:
            symbols = {o.symbol for o in self.book.all()} | set(self.session.wanted)
            targets = [
                self.session.symbols.by_symbol(market, s)
                for s in sorted(symbols, key=str)
                if self.session.adapter.market_for(s) is market
            ]
        out: list[Fill] = []
        for instrument in targets:
            key = (market, instrument.symbol if instrument is not None else None)
            call = self.adapter.fills_call(market, instrument, self._fills_since.get(key))
            response = await self._read(market, call)
            fills = self.adapter.parse_fills(
                market, self.session.symbols, response.body, response.received_ns
            )
            if fills:
                self._fills_since[key] = max(f.ts_event_ns for f in fills)
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
            task_status.started()
            async for key in self._receive:
                nursery.start_soon(self._resolve, key)


def _filled(fill: Fill) -> OrderFilled:
    return OrderFilled(
        venue=fill.venue,
        symbol=fill.symbol,
        client_order_id=fill.client_order_id,
        venue_order_id=fill.venue_order_id,
        fill=fill,
        ts_event_ns=fill.ts_event_ns,
        ts_recv_ns=fill.ts_recv_ns,
        source=fill.source,
    )
