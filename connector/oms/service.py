"""The command path: child ``orders`` of a trading venue's subtree (design.md section 6).

One :meth:`OrderService.place` call:

1. normalise and validate against the instrument (``oms/validate.py``; the
   quantity is in base units everywhere, so contract-sized instruments are
   checked in base units too) -> ``InvalidOrder`` naming the filter;
2. the health breaker must allow the venue (else ``ServiceUnavailable``), and
   pre-trade risk (``RiskService``) -> ``RiskRejected`` naming the limit;
3. client order id (``oms/ids.py``; a caller's id is checked against the
   venue's rule and must be new);
4. write-ahead: ``OrderSubmitted`` is appended to the event log and awaited,
   then applied to the order state and published;
5-6. the request waits in the order lane of the host's limiter, is signed with
   the clock's venue time at that moment, and sent;
7. the outcome: an answer -> the venue's report is applied (accepted, filled,
   ...); a definite refusal -> ``OrderRejected`` (raised with the venue's code);
   a timeout, disconnect, 5xx, a venue "unknown" code, an unreadable answer or
   a cancellation after sending -> ``OrderStatusUnknown``: the order-state
   service resolves it by querying its client order id, and the caller gets
   ``OrderOutcomeUnknown``. A placement is never resent. A timestamp
   rejection (the venue did not act) starts the clock's estimate over from a
   fresh reading, awaited, and the same order is sent once more, never a
   third time;
8. the order's snapshot is returned.

Each answered request is timed from the call entering this service to the
venue's answer (:attr:`OrderService.latency`, per action): one
``perf_counter_ns`` read at entry and one at the answer, and a bucket increment.

Amend and cancel follow the same path (no write-ahead: they create nothing),
a timestamp rejection included; a lost answer leaves the order as it was and
queues a query. An amend or cancel the venue refuses ("no such order", "already
filled or canceled") reads the order back: a cancel of a finished order returns
it, an amend of one raises ``InvalidOrder`` naming its status. Where the venue
answers with a bare acknowledgement (Bybit, OKX: "accepted, not done"), the
change is read back by a few quick queries (a cancel until the order is
finished, an amend until it shows the new values, a market/IOC/FOK placement
until it ended).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import attrs
import structlog
import trio

from connector.account.reservations import Reservations
from connector.errors import (
    AuthenticationFailed,
    CancelAllIncomplete,
    ConnectorError,
    ExchangeRejected,
    InvalidOrder,
    MalformedMessage,
    OrderNotFound,
    OrderOutcomeUnknown,
    RateLimited,
    ServiceUnavailable,
    StoreError,
    TimestampRejected,
    TransientError,
    UnknownInstrument,
)
from connector.errors import OrderRejected as OrderRefused
from connector.metrics.histogram import Histogram
from connector.model import (
    AmendOrder,
    Instrument,
    Market,
    Order,
    OrderRejected,
    OrderStatus,
    OrderStatusUnknown,
    OrderSubmitted,
    OrderType,
    PlaceOrder,
    Side,
    Symbol,
    TimeInForce,
)
from connector.model.trading import OrderReport
from connector.oms.ids import ClientOrderIds, check_client_order_id, id_in_use
from connector.oms.state import order_key
from connector.oms.tracking import OrderStateService
from connector.oms.validate import Number, as_decimal, normalize_amend
from connector.oms.validate import place_order as build_order
from connector.risk.service import RiskService, VenueRisk
from connector.venues.driver import CancelAllCalls, RestCall

__all__ = ["OrderService", "base_units"]

log = structlog.get_logger(__name__)

_ZERO = Decimal(0)
_TWO = Decimal(2)


def base_units(instrument: Instrument) -> Instrument:
    """``instrument`` with its quantity filters in base units (qty is always base units).

    OKX swaps count contracts of ``ctVal`` base units: a lot of 1 contract of
    0.01 BTC is a step of 0.01 BTC. The adapter converts back and refuses a
    quantity that is not a whole number of contracts. An inverse contract has no
    base quantity (``Instrument.base_per_unit`` is 1): it is returned as it is,
    and validation refuses its orders.
    """
    size = instrument.base_per_unit
    if size == 1:
        return instrument
    return attrs.evolve(
        instrument,
        lot_step=instrument.lot_step * size,
        min_qty=instrument.min_qty * size,
        max_qty=None if instrument.max_qty is None else instrument.max_qty * size,
        max_market_qty=None
        if instrument.max_market_qty is None
        else instrument.max_market_qty * size,
        max_post_only_qty=None
        if instrument.max_post_only_qty is None
        else instrument.max_post_only_qty * size,
        contract_size=Decimal(1),
    )


class OrderService:
    """Service ``orders`` of one venue: place, amend and cancel orders.

    Args:
        state: The venue's order-state service (the query path; it carries the
            session, the adapter and the event log).
        ids: This session's client order ids.
        next_change: Returns at the next change of the order state (any venue's:
            ``Trading.next_change``, which the order-state services' ``on_change`` sets).
        risk: The risk service (``None``: no pre-trade checks).
        health_allows: Whether the venue's circuit breaker lets requests through.
        unreconciled: Why the venue's state is not known yet, ``None`` once a
            reconciliation with the venue completed since the start (the account
            service's): new orders are refused until then, with that reason.
        position: The signed position of a symbol (risk), 0 until an account
            service says otherwise.
        reservations: Where a spot order's funds are reserved once it passed the
            checks, until the venue's balance shows them locked or it ends
            (``None``: nothing is reserved).
        confirm_attempts: Queries at most to read back an acknowledged change.
        confirm_first: Seconds before the first of them (doubling after each).
        wall_clock_ns: Wall-clock time for events.
    """

    def __init__(
        self,
        state: OrderStateService,
        *,
        ids: ClientOrderIds,
        next_change: Callable[[], Awaitable[None]],
        risk: RiskService | None = None,
        health_allows: Callable[[str], bool] = lambda _venue: True,
        unreconciled: Callable[[], str | None] = lambda: None,
        position: Callable[[Symbol], Decimal] = lambda _symbol: _ZERO,
        reservations: Reservations | None = None,
        confirm_attempts: int = 6,
        confirm_first: float = 0.02,
        wall_clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.venue = state.venue
        self.state = state
        self.ids = ids
        self._next_change = next_change
        self.risk = risk
        self._allows = health_allows
        self._unreconciled = unreconciled
        self._now = wall_clock_ns
        #: The signed position of a symbol, for the risk checks; the account
        #: service replaces it with its position book's.
        self.position = position
        self.reservations = reservations
        self._confirm_attempts = confirm_attempts
        self._confirm_first = confirm_first
        self.ready = trio.Event()
        #: Per action (``place``, ``amend``, ``cancel``): call entry to the venue's
        #: answer, answered requests only (a timestamp rejection's resend is a second
        #: answer, timed from the same entry).
        self.latency: dict[str, Histogram] = {
            "place": Histogram(),
            "amend": Histogram(),
            "cancel": Histogram(),
        }
        # Bound once: recording an answer allocates nothing.
        self._answered = {action: h.observe for action, h in self.latency.items()}
        if risk is not None:
            risk.register(
                self.venue,
                VenueRisk(
                    open_orders=lambda: state.book.open(self.venue),
                    # What the fills built, and what the venue reported filled that
                    # no fill has brought yet (Binance answers a market order filled).
                    position=lambda symbol: (
                        self.position(symbol) + state.book.filled_beyond_fills(self.venue, symbol)
                    ),
                    mid=self.mid,
                    cancel_all=self.cancel_all,
                ),
            )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Ready once the venue's instruments are loaded (market data started first)."""
        self.ready.set()
        task_status.started()
        await trio.sleep_forever()

    def mid(self, symbol: Symbol) -> Decimal | None:
        """The mid of ``symbol``'s book when it is valid, else ``None``."""
        found = self.state.session.feed.book(symbol)
        if found is None or not found.state.valid:
            return None
        bid, ask, crossed = found.book.top()
        if bid is None or ask is None or crossed:
            return None
        return (bid.price + ask.price) / _TWO

    def _instrument(self, symbol: Symbol) -> tuple[Market, Instrument]:
        try:
            return self.state.instrument(symbol)
        except UnknownInstrument:
            if not self.ready.is_set():
                raise UnknownInstrument(
                    f"{self.venue}: instruments are not loaded yet; retry once connected"
                ) from None
            market = self.state.session.adapter.market_for(symbol)
            if market not in self.state.session.symbols.markets():
                raise UnknownInstrument(
                    f"{self.venue}: {symbol} is on its {market.value} market, which no configured"
                    f" symbol uses, so its instruments are not loaded: add {symbol} to"
                    f" [venues.{self.venue}] symbols"
                ) from None
            raise

    # -- place -------------------------------------------------------------------

    async def place(
        self,
        symbol: Symbol,
        side: Side | str,
        type: OrderType | str,
        qty: Number,
        price: Number | None = None,
        *,
        time_in_force: TimeInForce | str = TimeInForce.GTC,
        reduce_only: bool = False,
        client_order_id: str | None = None,
    ) -> Order:
        """Place one order; returns once the venue answered (see the module docstring).

        Raises:
            InvalidOrder, RiskRejected, ServiceUnavailable (breaker open),
            OrderRejected (the venue refused it), OrderOutcomeUnknown (the answer
            was lost: follow the order with ``c.orders.wait``), RateLimited,
            AuthenticationFailed, TimestampRejected (nothing was placed).
        """
        entered_ns = time.perf_counter_ns()
        market, instrument = self._instrument(symbol)
        venue = self.venue
        if client_order_id is None:
            cid = self.ids.next()
        else:
            cid = check_client_order_id(client_order_id, venue, market)
            if self.state.book.get(venue, cid) is not None:
                raise id_in_use(cid, venue)
        reference = self.mid(symbol) if price is None or _market(type) else None
        order = build_order(
            base_units(instrument),
            side=side,
            type=type,
            qty=qty,
            price=price,
            time_in_force=time_in_force,
            reduce_only=reduce_only,
            client_order_id=cid,
            # The book is read only where validation uses it: a market order's notional.
            reference_price=reference,
        )
        if not self._allows(venue):
            raise ServiceUnavailable(f"{venue}: circuit breaker open; no orders are sent")
        unreconciled = self._unreconciled()
        if unreconciled is not None:
            # Its open orders, positions and balances are not known: the risk checks
            # would count against a state that may be far from the venue's.
            raise ServiceUnavailable(
                f"{venue}: not reconciled with the venue since the start, no new orders"
                f" until it is (retried every few seconds); {unreconciled}"
            )
        if self.risk is not None:
            self.risk.check(order)
        adapter = self.state.adapter
        call = adapter.place_order_call(market, instrument, order)
        now = self._now()
        submitted = OrderSubmitted(
            venue=venue,
            symbol=order.symbol,
            client_order_id=cid,
            order=_as_order(order, now),
            ts_event_ns=now,
            ts_recv_ns=now,
        )
        reservations = self.reservations
        if reservations is not None:
            # Before the first await: an order placed meanwhile is checked against it.
            reservations.reserve(order, reference)
        # Write-ahead: the intent is durable before anything goes on the wire.
        try:
            await self.state.log([submitted])
        except BaseException:
            if reservations is not None:
                reservations.release(venue, cid)  # never sent
            raise
        self.state.publish(self.state.book.apply(submitted))
        if self.risk is not None:
            self.risk.record_order(venue)
        sent = False
        answered = self._answered["place"]

        async def send() -> OrderReport:
            nonlocal sent
            sent = False
            response = await self.state.send_order(market, order.symbol, call)
            sent = True
            if response.status < 500:  # a 5xx is the venue failing, not its answer
                answered(time.perf_counter_ns() - entered_ns)
            return self.state.read_answer(market, response, action="place", client_order_id=cid)

        what = f"place {cid}"
        try:
            # Refused for its timestamp or its rate limit, the venue did not act: the
            # same order goes again, signed anew, after the clock's resync or the wait.
            report = await self.state.again_on_rate_limit(
                lambda: self.state.once_more_on_timestamp(send, what), what
            )
        except OrderRefused as exc:
            await self._rejected(order, str(exc.code), exc.reason)
            raise
        except (RateLimited, AuthenticationFailed, TimestampRejected) as exc:
            # Refused before the venue acted on it: nothing was placed.
            await self._rejected(order, _code(exc), str(exc))
            raise
        except ConnectorError as exc:
            # Timeout, disconnect, 5xx, an "unknown" code, an unreadable answer.
            await self._unknown(order, str(exc))
            raise OrderOutcomeUnknown(cid, str(exc), venue=venue) from exc
        except BaseException as exc:
            # Cancelled (or a bug) with the request possibly on the wire.
            if isinstance(exc, trio.Cancelled):
                reason = "cancelled after sending" if sent else "cancelled while sending"
            else:
                reason = f"{exc.__class__.__name__} after sending: {exc}"
            with trio.CancelScope(shield=True):
                await self._unknown(order, reason)
            raise
        try:
            await self.state.apply([report])
        except StoreError as exc:
            # Placed, but its outcome is not durable: once the store is back the order
            # is queried by its client order id (the persistence subtree's reconciler).
            raise OrderOutcomeUnknown(
                cid, f"placed, but the outcome could not be written: {exc}", venue=venue
            ) from exc
        if not report.status.is_terminal and (
            order.type is OrderType.MARKET
            or order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK)
        ):
            # An order that ends at once, answered by a bare acknowledgement (Bybit,
            # OKX): read how it ended.
            await self._confirm(order.symbol, cid, lambda r: r.status.is_terminal)
        return self._snapshot(cid)

    async def _confirm(
        self, symbol: Symbol, client_order_id: str, done: Callable[[OrderReport], bool]
    ) -> None:
        """Query an order until ``done`` says its report shows what was asked (bounded).

        Venues that answer a request with a bare acknowledgement (Bybit, OKX:
        "accepted, not done") are read back this way until the private stream
        takes over; a query that fails leaves the order to the stream and to
        reconciliation.
        """
        delay = self._confirm_first
        for _ in range(self._confirm_attempts):
            await trio.sleep(delay)
            delay *= 2
            try:
                report = await self.state.query(symbol, client_order_id)
            except ConnectorError as exc:
                log.info("orders.confirm_failed", venue=self.venue, order=client_order_id,
                         error=str(exc))  # fmt: skip
                return
            await self.state.apply([report])
            if done(report):
                return

    async def _rejected(self, order: PlaceOrder, code: str | None, reason: str) -> None:
        now = self._now()
        await self.state.apply(
            [
                OrderRejected(
                    venue=order.venue,
                    symbol=order.symbol,
                    client_order_id=order.client_order_id,
                    reason=reason,
                    code=code,
                    ts_event_ns=now,
                    ts_recv_ns=now,
                )
            ]
        )

    async def _unknown(self, order: PlaceOrder, reason: str) -> None:
        now = self._now()
        log.warning(
            "orders.outcome_unknown", venue=order.venue, order=order.client_order_id, reason=reason
        )
        await self.state.apply(
            [
                OrderStatusUnknown(
                    venue=order.venue,
                    symbol=order.symbol,
                    client_order_id=order.client_order_id,
                    reason=reason,
                    ts_event_ns=now,
                    ts_recv_ns=now,
                )
            ]
        )

    def _snapshot(self, key: str) -> Order:
        order = self.state.book.get(self.venue, key)
        assert order is not None, f"order {key} vanished from the state"
        return order

    # -- amend and cancel --------------------------------------------------------

    async def amend(
        self,
        symbol: Symbol,
        client_order_id: str,
        *,
        qty: Number | None = None,
        price: Number | None = None,
    ) -> Order:
        """Change an open order's quantity and/or price; returns the order as amended.

        An order this process does not know is read from the venue first (placed
        by another process since the start-up reconciliation, or ended before it).

        An amend the venue refuses (Binance -2013/-2011 and Bybit 110001/170213 "no
        such order", OKX 51503 "filled or canceled": the order may have just ended)
        reads the order back: a finished one is refused as one known finished here is.

        Raises:
            InvalidOrder (finished, ``status: order X is filled``, or the new values
            break a filter), OrderNotFound (the venue never had it, or not under
            ``symbol``), ExchangeRejected (the venue refused the change, the order
            still open), a TransientError (the answer was lost: the order is queried).
        """
        entered_ns = time.perf_counter_ns()
        market, instrument = self._instrument(symbol)
        current = self.state.book.get(self.venue, client_order_id)
        if current is None:
            current = await self._read_unknown(symbol, client_order_id)
        self._check_symbol(current, symbol)
        command = AmendOrder(
            venue=self.venue,
            symbol=symbol,
            client_order_id=client_order_id,
            qty=None if qty is None else as_decimal(qty, "qty"),
            price=None if price is None else as_decimal(price, "price"),
        )
        amend = normalize_amend(command, base_units(instrument), current)
        wanted = (
            current.qty if amend.qty is None else amend.qty,
            current.price if amend.price is None else amend.price,
        )
        in_flight: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
        if self.risk is not None:
            before = _as_request(current)
            after = attrs.evolve(before, qty=wanted[0], price=wanted[1])
            self.risk.check_amend(before, after)
            in_flight = self.risk.amending(after)  # taken before anything can interleave

        def amended(r: OrderReport) -> bool:
            return r.status.is_terminal or (r.qty, r.price) == wanted

        with in_flight:
            call = self.state.adapter.amend_order_call(market, instrument, amend, current)
            try:
                report = await self._exchange(
                    market, call, "amend", client_order_id, symbol=symbol, entered_ns=entered_ns
                )
            except ExchangeRejected as refused:
                # Read back (OrderNotFound if the venue has no such order at all): a
                # finished order is refused naming its status, as normalize_amend
                # refuses one known finished before the request, and the venue's word
                # (a post-only amend that would cross ends the order on Binance USDⓈ-M).
                read = await self.state.query(symbol, client_order_id)
                await self.state.apply([read])
                order = self._snapshot(client_order_id)
                if order.status.is_terminal and read.symbol == symbol:
                    problem = f"status: order {client_order_id} is {order.status.value}"
                    raise InvalidOrder(
                        f"invalid order: {problem} (the venue: {refused})", (problem,)
                    ) from refused
                raise
            if amended(report):
                await self.state.apply([report])
            else:
                # A bare acknowledgement, its values not yet the new ones: not applied
                # (its fresh time would "amend" the order back), read back instead.
                await self._confirm(symbol, client_order_id, amended)
        return self._snapshot(client_order_id)

    def _check_symbol(self, order: Order, symbol: Symbol) -> None:
        """Refuse to act on ``order`` under another symbol than its own.

        Raises:
            OrderNotFound: ``symbol`` has no such order (it is ``order.symbol``'s).
        """
        if order.symbol != symbol:
            key = order_key(order.client_order_id, order.venue_order_id)
            raise OrderNotFound(
                "",
                f"not on {symbol}: the order is {order.symbol}'s",
                client_order_id=key,
                venue=self.venue,
            )

    async def _read_unknown(self, symbol: Symbol, client_order_id: str) -> Order:
        """An order this process does not know (placed by another one since the
        start-up reconciliation, or ended before it), as the venue reports it.

        Raises:
            OrderNotFound: the venue has no such order.
        """
        report = await self.state.query(symbol, client_order_id)
        await self.state.apply([report])
        return self._snapshot(client_order_id)

    async def cancel(self, symbol: Symbol, client_order_id: str) -> Order:
        """Cancel one order; returns it as the venue then reports it.

        ``client_order_id`` may be ``#`` + the venue's order id: an order placed
        elsewhere without a client id is kept under that key, and is canceled by
        the venue's id. An order the venue no longer has open (filled, or canceled
        meanwhile) is read back by a query and returned as it is.

        Raises:
            OrderNotFound (the venue never had it), ExchangeRejected (refused and
            still open), a TransientError (the answer was lost: the order is queried).
        """
        entered_ns = time.perf_counter_ns()
        market, instrument = self._instrument(symbol)
        current = self.state.book.get(self.venue, client_order_id)
        if current is not None:
            self._check_symbol(current, symbol)
            if current.status.is_terminal:
                return current
        adapter = self.state.adapter
        if client_order_id.startswith("#"):
            by_venue_id = adapter.cancel_order_by_venue_id_call
            call = by_venue_id(market, instrument, client_order_id[1:], current)
        else:
            call = adapter.cancel_order_call(market, instrument, client_order_id, current)
        try:
            report = await self._exchange(
                market, call, "cancel", client_order_id, symbol=symbol, entered_ns=entered_ns
            )
        except MalformedMessage:
            # An acknowledgement the adapter cannot read (Bybit, OKX: an order it did not
            # place itself, placed before a restart): read the order back.
            await self._confirm(symbol, client_order_id, lambda r: r.status.is_terminal)
            return self._snapshot(client_order_id)
        except ExchangeRejected:
            # Not found, or "already filled, canceled or gone" (OKX 51400): read it back.
            # Still open (or another symbol's: a venue that finds an order by its
            # client id alone, as Bybit does, says so): the cancel did not happen.
            report = await self.state.query(symbol, client_order_id)
            await self.state.apply([report])
            if not report.status.is_terminal or report.symbol != symbol:
                raise
            return self._snapshot(client_order_id)
        if report.status.is_terminal:
            await self.state.apply([report])
        else:
            # A bare acknowledgement ("accepted, not done"): read the order back.
            await self._confirm(symbol, client_order_id, lambda r: r.status.is_terminal)
        return self._snapshot(client_order_id)

    async def _exchange(
        self,
        market: Market,
        call: RestCall,
        action: str,
        client_order_id: str,
        *,
        symbol: Symbol,
        entered_ns: int,
    ) -> OrderReport:
        """Send an amend or cancel and read its answer (it draws on ``symbol``'s
        order-count buckets that count ``action``); ``entered_ns`` (``perf_counter_ns``
        when the call entered the service) times the answer into :attr:`latency`.

        When the answer is lost (or unreadable) the change may or may not have
        been made: the order is queried in the background, and the error raised.
        """

        answered = self._answered[action]

        async def send() -> OrderReport:
            response = await self.state.send_order(market, symbol, call, action)
            if response.status < 500:  # a 5xx is the venue failing, not its answer
                answered(time.perf_counter_ns() - entered_ns)
            return self.state.read_answer(
                market, response, action=action, client_order_id=client_order_id
            )

        what = f"{action} {client_order_id}"
        try:
            return await self.state.again_on_rate_limit(
                lambda: self.state.once_more_on_timestamp(send, what), what
            )
        except RateLimited:
            raise  # refused before the venue acted on it (every time it was sent)
        except (TransientError, MalformedMessage):
            self.state.resolve(client_order_id)
            raise
        except BaseException as exc:
            if not isinstance(exc, ConnectorError):
                self.state.resolve(client_order_id)  # cancelled with the request in flight
            raise

    async def cancel_all(self, symbol: Symbol | None = None) -> list[Order]:
        """Cancel every open order of the venue (or of one symbol).

        The venue's open-orders listing is read first (orders placed elsewhere,
        or whose placement answer was lost, are canceled too). Where the venue
        cancels a whole symbol in one request (``CancelAllCalls``) and more than
        one order of it is open, that request goes first and the private stream
        gets a moment to tell each order's end; whatever is still open then is
        canceled one by one. Orders whose cancel fails are returned as they are
        (still open); the error is logged.

        Raises:
            CancelAllIncomplete: the venue's listing failed: the orders known here
                were canceled (the exception carries them), others may be open.
        """
        markets = [self.state.session.adapter.market_for(symbol)] if symbol else None
        unlisted: ConnectorError | None = None
        try:
            await self.state.reconcile(markets, fills=False)
        except ConnectorError as exc:
            log.warning("orders.cancel_all_listing_failed", venue=self.venue, error=str(exc))
            unlisted = exc
        # Keyed as the order state keeps them: an order placed elsewhere without a
        # client id is canceled by the venue's id.
        targets = {
            order_key(o.client_order_id, o.venue_order_id): o
            for o in self.state.book.open(self.venue, symbol)
        }
        by_symbol: dict[Symbol, dict[str, Order]] = {}
        for key, order in targets.items():
            by_symbol.setdefault(order.symbol, {})[key] = order
        async with trio.open_nursery() as nursery:
            for listed in by_symbol.values():
                if len(listed) > 1:
                    nursery.start_soon(self._cancel_symbol_at_once, listed)
        results: dict[str, Order] = {}

        async def cancel_one(key: str, order: Order) -> None:
            await self._placed(key)
            try:
                results[key] = await self.cancel(order.symbol, key)
            except ConnectorError as exc:
                log.warning("orders.cancel_failed", venue=self.venue, order=key, error=str(exc))
                results[key] = self._snapshot(key)

        async with trio.open_nursery() as nursery:
            for key, order in targets.items():
                nursery.start_soon(cancel_one, key, order)  # a finished one returns at once
        done = [results[key] for key in targets]
        if unlisted is not None:
            why = f"its open orders could not be listed ({unlisted})"
            raise CancelAllIncomplete(done, {self.venue: why})
        return done

    async def _placed(self, key: str) -> None:
        """Until the placement of order ``key`` is answered (the venue may not know the
        order before: a cancel sent then would find nothing, and the order would rest
        once placed), at most the venue's request timeout."""
        with trio.move_on_after(self.state.session.context.request_timeout):
            while (order := self.state.book.get(self.venue, key)) is not None and (
                order.status is OrderStatus.SUBMITTED
            ):
                await self._next_change()

    async def _cancel_symbol_at_once(self, orders: dict[str, Order]) -> None:
        """Send the venue's few requests that cancel these open orders of one symbol
        (where it has them), then give the private stream a read-back's budget to tell
        each order's end. A failure is logged: the caller cancels what is still open
        one by one."""
        adapter = self.state.adapter
        if not isinstance(adapter, CancelAllCalls):
            return
        symbol = next(iter(orders.values())).symbol
        try:
            market, instrument = self._instrument(symbol)
            for call, count in adapter.cancel_all_calls(market, instrument, list(orders)):
                response = await self.state.send_order(
                    market, symbol, call, "cancel_all", orders=count
                )
                try:
                    reports = adapter.parse_cancel_all_answer(
                        market,
                        self.state.session.symbols,
                        response.status,
                        response.body,
                        response.received_ns,
                    )
                except ConnectorError as exc:
                    self.state.answered(response, exc)
                    raise
                self.state.answered(response, None)
                await self.state.apply(reports)
        except OrderNotFound:
            return  # nothing open there any more: the orders are read back one by one
        except ConnectorError as exc:
            if isinstance(exc, TimestampRejected):
                self.state.session.context.timestamp_rejected()
            log.warning("orders.cancel_all_request_failed", venue=self.venue,
                        symbol=str(symbol), error=str(exc))  # fmt: skip
            return
        # A short wait for the stream saves a request per order: at most the
        # read-back's budget (the first delay, doubled each time), ending as soon as
        # the stream has told every order's end.
        waiting = list(orders)
        with trio.move_on_after(self._confirm_first * (2**self._confirm_attempts - 1)):
            while waiting := [cid for cid in waiting if self.state.is_open(cid)]:
                await self._next_change()


def _as_order(order: PlaceOrder, now: int) -> Order:
    return Order(
        venue=order.venue,
        symbol=order.symbol,
        client_order_id=order.client_order_id,
        side=order.side,
        type=order.type,
        qty=order.qty,
        price=order.price,
        time_in_force=order.time_in_force,
        reduce_only=order.reduce_only,
        ts_created_ns=now,
        ts_updated_ns=now,
    )


def _as_request(order: Order) -> PlaceOrder:
    """An open order as the request that would place it as it stands (for the risk checks)."""
    return PlaceOrder(
        venue=order.venue,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        qty=order.qty,
        client_order_id=order.client_order_id,
        price=order.price,
        time_in_force=order.time_in_force,
        reduce_only=order.reduce_only,
    )


def _market(type: OrderType | str) -> bool:
    return type is OrderType.MARKET or (isinstance(type, str) and type.lower() == "market")


def _code(exc: ConnectorError) -> str | None:
    code = getattr(exc, "code", None)
    return None if code is None else str(code)
