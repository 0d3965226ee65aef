"""The order state machine: one transition table, fed by events and venue reports (sans-I/O).

The query path of the order CQRS (design.md section 6; docs/trading.md has the
full rules). Every status has a rank, and an order's rank only moves forward::

    submitted(0) < unknown(1) < new(2) < partially_filled(3) < filled|canceled|rejected|expired(4)

:data:`TRANSITIONS` is the whole machine: ``(current, reported) -> next``; a pair
it does not list changes nothing (a stale, repeated or backward update), and
the terminal states absorb everything. In front of the table
(:func:`next_status`): the cumulative filled quantity (the larger of the
venue's reported one and the sum of distinct fills; it never decreases, even
after a terminal state) turns a non-terminal status into ``partially_filled``
or ``filled``, and a rejection after fills into a cancel. Fills are
deduplicated by ``Fill.key`` (venue, symbol, trade id, side); a fill for an order not known
yet is kept and counted in when the order appears.

Inputs are :class:`~connector.model.OrderEvent` values (command path, private
stream parsers) and :class:`~connector.model.OrderReport` snapshots (REST
queries, stream order updates), in any order and any number of times. A
report for an order we do not know creates it (a venue-generated order with no
client id is keyed ``"#" + venue_order_id``). ``unknown`` (the placement
answer was lost) is resolved by any later input, or by
:meth:`OrderBookkeeping.not_found` after the caller's query window.

Decide, don't act: :meth:`OrderBookkeeping.apply` returns the events to log
and publish: the input itself when it changed something, ``OrderAccepted``
first when the order leaves ``submitted``/``unknown`` for a venue state, and
the terminal event a report implies. A report's progress without a fill
changes the order but publishes nothing (the fill comes as ``OrderFilled``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal

import attrs

from connector.model.symbols import Symbol
from connector.model.trading import (
    Fill,
    FillKey,
    Order,
    OrderAccepted,
    OrderAmended,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderReport,
    OrderStatus,
    OrderStatusUnknown,
    OrderSubmitted,
    OrderType,
    Side,
    TimeInForce,
)

__all__ = [
    "RANK",
    "TRANSITIONS",
    "OrderBookkeeping",
    "OrderStateStatistics",
    "next_status",
    "order_key",
]

_ZERO = Decimal(0)

_SUB = OrderStatus.SUBMITTED
_UNK = OrderStatus.UNKNOWN
_NEW = OrderStatus.NEW
_PF = OrderStatus.PARTIALLY_FILLED
_FIL = OrderStatus.FILLED
_CXL = OrderStatus.CANCELED
_REJ = OrderStatus.REJECTED
_EXP = OrderStatus.EXPIRED

RANK: Mapping[OrderStatus, int] = {
    _SUB: 0,
    _UNK: 1,
    _NEW: 2,
    _PF: 3,
    _FIL: 4,
    _CXL: 4,
    _REJ: 4,
    _EXP: 4,
}
"""Each status's rank; an order's rank never decreases."""

TRANSITIONS: Mapping[tuple[OrderStatus, OrderStatus], OrderStatus] = {
    # sent, no answer yet
    (_SUB, _UNK): _UNK,
    (_SUB, _NEW): _NEW,
    (_SUB, _PF): _PF,
    (_SUB, _FIL): _FIL,
    (_SUB, _CXL): _CXL,
    (_SUB, _REJ): _REJ,
    (_SUB, _EXP): _EXP,
    # the answer was lost: anything the venue says resolves it
    (_UNK, _NEW): _NEW,
    (_UNK, _PF): _PF,
    (_UNK, _FIL): _FIL,
    (_UNK, _CXL): _CXL,
    (_UNK, _REJ): _REJ,
    (_UNK, _EXP): _EXP,
    # resting at the venue
    (_NEW, _PF): _PF,
    (_NEW, _FIL): _FIL,
    (_NEW, _CXL): _CXL,
    (_NEW, _REJ): _REJ,
    (_NEW, _EXP): _EXP,
    # partly filled (a refusal here has become a cancel before the lookup)
    (_PF, _FIL): _FIL,
    (_PF, _CXL): _CXL,
    (_PF, _EXP): _EXP,
    # filled, canceled, rejected, expired: terminal, absent, absorbing
}
"""The whole state machine: ``(current, reported) -> next``; absent pairs change nothing."""

_PRE_VENUE = frozenset({_SUB, _UNK})
_ACCEPTED_BY_VENUE = frozenset({_NEW, _PF, _FIL, _CXL, _EXP})
_TERMINAL = frozenset({_FIL, _CXL, _REJ, _EXP})

NOT_FOUND_REASON = "not found at the venue"


def order_key(client_order_id: str, venue_order_id: str | None) -> str:
    """The id an order is kept under: its client id, or ``#`` + the venue's id when it has none."""
    if client_order_id:
        return client_order_id
    return "#" + (venue_order_id or "")


def next_status(
    current: OrderStatus, reported: OrderStatus, filled: Decimal, qty: Decimal
) -> OrderStatus:
    """The status after ``reported`` arrives for an order in ``current``.

    Args:
        current: The order's status now.
        reported: The status the input says (an event's or a report's).
        filled: Cumulative filled quantity after the input.
        qty: The order's total quantity.

    Returns:
        The next status; ``current`` when the table has no move.
    """
    if reported is _REJ:
        if filled > _ZERO:
            reported = _CXL
    elif reported not in _TERMINAL and filled > _ZERO:
        # A stale status ("new") with news of fills still moves the order.
        reported = _FIL if filled >= qty else _PF
    target = TRANSITIONS.get((current, reported))
    return current if target is None else target


@attrs.frozen(kw_only=True)
class OrderStateStatistics:
    """Counters of an :class:`OrderBookkeeping`."""

    orders: int
    open: int
    unknown: int
    fills: int
    duplicate_fills: int
    """Fills dropped because their trade id was seen before."""
    orphan_fills: int
    """Fills kept for an order not known yet."""
    ignored: int
    """Inputs that changed nothing (stale, repeated, or for an order we cannot create)."""
    forgotten: int = 0
    """Finished orders dropped from memory (:meth:`OrderBookkeeping.forget`)."""


def _time_in_force(type_: OrderType, asked: TimeInForce) -> TimeInForce:
    """A market order never rests: recorded as IOC whatever its source said (placed
    with the default GTC; read back from Binance as GTC, from Bybit as IOC), so that
    it reads the same on every venue and after a restart (no venue runs one as FOK)."""
    return TimeInForce.IOC if type_ is OrderType.MARKET else asked


@attrs.define(slots=True)
class _Record:
    """One order's mutable state (owned by its :class:`OrderBookkeeping`)."""

    venue: str
    symbol: Symbol
    client_order_id: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    time_in_force: TimeInForce
    reduce_only: bool
    venue_order_id: str | None
    status: OrderStatus = _SUB
    reported_qty: Decimal = _ZERO
    reported_avg: Decimal | None = None
    fill_qty: Decimal = _ZERO
    fill_notional: Decimal = _ZERO
    ts_created_ns: int = 0
    ts_updated_ns: int = 0
    ts_amended_ns: int = 0
    snapshot: Order | None = None

    @property
    def filled(self) -> Decimal:
        return self.reported_qty if self.reported_qty > self.fill_qty else self.fill_qty

    def order(self) -> Order:
        if self.snapshot is None:
            # The average comes with whichever source knows more of the fills.
            if self.reported_qty >= self.fill_qty and self.reported_avg is not None:
                avg: Decimal | None = self.reported_avg
            elif self.fill_qty > _ZERO:
                avg = self.fill_notional / self.fill_qty
            else:
                avg = self.reported_avg
            self.snapshot = Order(
                venue=self.venue,
                symbol=self.symbol,
                client_order_id=self.client_order_id,
                side=self.side,
                type=self.type,
                qty=self.qty,
                price=self.price,
                time_in_force=self.time_in_force,
                reduce_only=self.reduce_only,
                venue_order_id=self.venue_order_id,
                status=self.status,
                filled_qty=self.filled,
                avg_fill_price=avg,
                ts_created_ns=self.ts_created_ns,
                ts_updated_ns=self.ts_updated_ns,
            )
        return self.snapshot


_Input = OrderEvent | OrderReport
_Events = tuple[OrderEvent, ...]
_NOTHING: _Events = ()


class OrderBookkeeping:
    """Every order of every venue, as the events and venue reports say it is.

    One owner (the order-state service) feeds it; readers get frozen
    :class:`~connector.model.Order` snapshots. Memory grows with the orders and
    fills seen; :meth:`forget` drops finished orders last changed before a time.
    """

    def __init__(self) -> None:
        self._orders: dict[tuple[str, str], _Record] = {}
        self._open: dict[tuple[str, str], _Record] = {}
        self._by_venue_id: dict[tuple[str, str], str] = {}
        self._fills: dict[tuple[str, str], list[Fill]] = {}
        self._trade_ids: set[FillKey] = set()
        self._finished: deque[_Record] = deque()
        """Orders in the order they finished, for :meth:`forget` (stale entries skipped)."""
        self._forgotten = 0
        self._gaps: dict[tuple[str, str], _Record] = {}
        """Orders a report showed more filled than their fills added up to then (some
        since caught up: :meth:`gaps` looks)."""
        self._fill_count = 0
        self._duplicate_fills = 0
        self._orphan_fills = 0
        self._ignored = 0
        self._handlers: dict[type, Callable[[_Record | None, _Input], _Events]] = {
            OrderSubmitted: self._submitted,  # type: ignore[dict-item]
            OrderAccepted: self._status_event,  # type: ignore[dict-item]
            OrderStatusUnknown: self._status_event,  # type: ignore[dict-item]
            OrderCanceled: self._status_event,  # type: ignore[dict-item]
            OrderRejected: self._status_event,  # type: ignore[dict-item]
            OrderExpired: self._status_event,  # type: ignore[dict-item]
            OrderFilled: self._filled,  # type: ignore[dict-item]
            OrderAmended: self._amended,  # type: ignore[dict-item]
            OrderReport: self._report,  # type: ignore[dict-item]
        }

    # -- inputs ----------------------------------------------------------------

    def apply(self, item: OrderEvent | OrderReport) -> tuple[OrderEvent, ...]:
        """Apply one event or venue report; return the events to log and publish.

        Returns:
            The events this input makes true, in order; empty when it changed
            nothing (a repeat, a stale update, or an event for an order we do
            not know and cannot create).
        """
        handler = self._handlers.get(type(item))
        if handler is None:
            raise TypeError(f"cannot apply {type(item).__name__} to the order state")
        record = self._orders.get(
            (item.venue, order_key(item.client_order_id, item.venue_order_id))
        )
        if record is None and not item.client_order_id and item.venue_order_id:
            # No client id (a cancel event that names only the venue's id): try that id.
            known = self._by_venue_id.get((item.venue, item.venue_order_id))
            if known is not None:
                record = self._orders.get((item.venue, known))
        events = handler(record, item)
        if not events:
            self._ignored += 1
        return events

    def not_found(
        self,
        venue: str,
        client_order_id: str,
        *,
        now_ns: int,
        min_age_ns: int = 0,
        source: str | None = None,
    ) -> tuple[OrderEvent, ...]:
        """The venue says it has no such order: end it, unless it is too young to tell.

        Args:
            venue: The order's venue.
            client_order_id: The order's key (see :func:`order_key`).
            now_ns: The caller's time, on the clock of the order's ``ts_created_ns``.
            min_age_ns: The query window: younger orders are left alone (the
                venue may not show them yet).
            source: The event's ``source`` (``"reconcile"`` when the queries
                that found nothing were the caller's reconciliation).

        Returns:
            ``OrderRejected`` for an order never seen at the venue with nothing
            filled, ``OrderExpired`` for one that was open or traded; nothing for
            a finished, unknown-to-us or too young order.
        """
        record = self._orders.get((venue, client_order_id))
        if record is None or record.status in _TERMINAL:
            return _NOTHING
        if now_ns - record.ts_created_ns < min_age_ns:
            return _NOTHING
        cls: type[OrderEvent]
        if record.status in _PRE_VENUE and record.filled == _ZERO:
            status, cls = _REJ, OrderRejected
        else:
            status, cls = _EXP, OrderExpired
        self._move(record, status, now_ns)
        event = self._derive(cls, record, None, now_ns, NOT_FOUND_REASON, origin=source)
        return (event,)

    def forget(self, before_ns: int) -> list[Fill]:
        """Drop finished orders last updated before ``before_ns``, with their fills.

        Orders are looked at in the order they finished, and the look stops at the
        first one updated since ``before_ns``: the cost is that of the orders
        dropped, and one finished earlier but changed later (a late fill) waits
        for it. Their trade ids are dropped too: a fill repeated after this is
        counted again, so pick ``before_ns`` well outside any replay or query
        window (the order-state service ignores fills listed from before it).

        Returns:
            The fills dropped with the orders.
        """
        dropped: list[Fill] = []
        finished = self._finished
        while finished:
            record = finished[0]
            key = (record.venue, order_key(record.client_order_id, record.venue_order_id))
            if self._orders.get(key) is record and record.ts_updated_ns >= before_ns:
                break
            finished.popleft()
            if self._orders.get(key) is not record:
                continue  # dropped already
            del self._orders[key]
            self._forgotten += 1
            if record.venue_order_id is not None:
                self._by_venue_id.pop((record.venue, record.venue_order_id), None)
            fills = self._fills.pop(key, ())
            for fill in fills:
                self._trade_ids.discard(fill.key)
            dropped.extend(fills)
        return dropped

    # -- queries ---------------------------------------------------------------

    def get(self, venue: str, client_order_id: str) -> Order | None:
        """The order with that client id (or ``#`` + venue order id), or ``None``."""
        record = self._orders.get((venue, client_order_id))
        return None if record is None else record.order()

    def get_by_venue_id(self, venue: str, venue_order_id: str) -> Order | None:
        """The order the venue knows by ``venue_order_id``, or ``None``."""
        key = self._by_venue_id.get((venue, venue_order_id))
        return None if key is None else self.get(venue, key)

    def open(self, venue: str | None = None, symbol: Symbol | None = None) -> list[Order]:
        """Orders not yet finished (``unknown`` included), optionally of one venue and symbol."""
        return [
            r.order()
            for r in self._open.values()
            if (venue is None or r.venue == venue) and (symbol is None or r.symbol == symbol)
        ]

    def unknown(self) -> list[Order]:
        """Orders whose outcome is lost: the service queries each by client order id."""
        return [r.order() for r in self._open.values() if r.status is _UNK]

    def all(self) -> list[Order]:
        """Every order kept, finished ones included."""
        return [r.order() for r in self._orders.values()]

    def gaps(self, venue: str) -> list[Order]:
        """Orders of ``venue`` a report shows more filled than their fills add up to (a
        fill not seen yet): what is looked at costs what has had a gap, not every order."""
        found = []
        for key, record in list(self._gaps.items()):
            if self._orders.get(key) is not record or record.reported_qty <= record.fill_qty:
                del self._gaps[key]  # caught up, or forgotten
            elif key[0] == venue:
                found.append(record.order())
        return found

    def filled_beyond_fills(self, venue: str, symbol: Symbol) -> Decimal:
        """The signed quantity ``venue``'s orders of ``symbol`` are reported filled beyond
        the fills seen (bought minus sold): what a position built from fills does not
        hold yet (a venue answers "filled" before its fills arrive)."""
        total = _ZERO
        for key, record in self._gaps.items():
            if key[0] == venue and record.symbol == symbol and self._orders.get(key) is record:
                missing = record.reported_qty - record.fill_qty
                if missing > _ZERO:
                    total += missing if record.side is Side.BUY else -missing
        return total

    def fills(self, venue: str, client_order_id: str) -> list[Fill]:
        """The distinct fills of one order, in arrival order (kept also before the order is)."""
        return list(self._fills.get((venue, client_order_id), ()))

    def __iter__(self) -> Iterator[Order]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._orders)

    def statistics(self) -> OrderStateStatistics:
        """A frozen snapshot of the counters."""
        return OrderStateStatistics(
            orders=len(self._orders),
            open=len(self._open),
            unknown=sum(1 for r in self._open.values() if r.status is _UNK),
            fills=self._fill_count,
            duplicate_fills=self._duplicate_fills,
            orphan_fills=self._orphan_fills,
            ignored=self._ignored,
            forgotten=self._forgotten,
        )

    # -- handlers ----------------------------------------------------------------

    def _create(self, item: _Input, spec: Order | OrderReport, ts_created_ns: int) -> _Record:
        """A new record for ``item``'s order, shaped as ``spec`` says; early fills folded in."""
        key = order_key(item.client_order_id, item.venue_order_id)
        record = _Record(
            venue=item.venue,
            symbol=item.symbol,
            client_order_id=item.client_order_id,
            side=spec.side,
            type=spec.type,
            qty=spec.qty,
            price=spec.price,
            time_in_force=_time_in_force(spec.type, spec.time_in_force),
            reduce_only=spec.reduce_only,
            venue_order_id=item.venue_order_id,
            ts_created_ns=ts_created_ns,
            ts_updated_ns=ts_created_ns,
        )
        self._orders[(item.venue, key)] = record
        self._open[(item.venue, key)] = record
        if item.venue_order_id:
            self._by_venue_id[(item.venue, item.venue_order_id)] = key
        for fill in self._fills.get((item.venue, key), ()):
            record.fill_qty += fill.qty
            record.fill_notional += fill.qty * fill.price
        self._adopt_fills(record)
        return record

    def _submitted(self, record: _Record | None, event: OrderSubmitted) -> _Events:
        if record is not None:
            return _NOTHING
        record = self._create(event, event.order, event.order.ts_created_ns or event.ts_event_ns)
        if record.filled > _ZERO:
            # Fills reached us before the order did (a replay, or a stream ahead of the log).
            return (event, *self._advance(record, _SUB, event))
        return (event,)

    def _status_event(self, record: _Record | None, event: OrderEvent) -> _Events:
        if record is None:
            return _NOTHING
        self._learn_venue_id(record, event.venue_order_id)
        return self._advance(record, _EVENT_STATUS[type(event)], event)

    def _filled(self, record: _Record | None, event: OrderFilled) -> _Events:
        fill = event.fill
        if fill.qty <= _ZERO:
            return _NOTHING
        trade = fill.key
        if trade in self._trade_ids:
            self._duplicate_fills += 1
            return _NOTHING
        self._trade_ids.add(trade)
        self._fill_count += 1
        if record is None:
            key = order_key(event.client_order_id, event.venue_order_id)
            self._fills.setdefault((event.venue, key), []).append(fill)
            self._orphan_fills += 1
            return (event,)
        key = order_key(record.client_order_id, record.venue_order_id)
        self._fills.setdefault((record.venue, key), []).append(fill)
        record.fill_qty += fill.qty
        record.fill_notional += fill.qty * fill.price
        self._touch(record, event.ts_event_ns)  # a late fill changes a finished order too
        self._learn_venue_id(record, event.venue_order_id)
        moved = self._advance(record, _PF, None, ts_ns=event.ts_event_ns, origin=event.source)
        if not moved:
            return (event,)
        return (*moved, event)

    def _amended(self, record: _Record | None, event: OrderAmended) -> _Events:
        if record is None or record.status in _TERMINAL:
            return _NOTHING
        if event.ts_event_ns < record.ts_amended_ns:
            return _NOTHING
        price = record.price if event.price is None else event.price
        if event.qty == record.qty and price == record.price:
            return _NOTHING
        record.qty = event.qty
        record.price = price
        record.ts_amended_ns = event.ts_event_ns
        self._touch(record, event.ts_event_ns)
        return (
            event,
            *self._advance(
                record, record.status, None, ts_ns=event.ts_event_ns, origin=event.source
            ),
        )

    def _report(self, record: _Record | None, report: OrderReport) -> _Events:
        if report.status in _PRE_VENUE:
            return _NOTHING
        if record is None:
            record = self._create(report, report, report.ts_event_ns)
        self._learn_venue_id(record, report.venue_order_id)
        changed = False
        if report.filled_qty > record.reported_qty or (
            report.filled_qty == record.reported_qty
            and record.reported_avg is None
            and report.avg_fill_price is not None
        ):
            record.reported_qty = report.filled_qty
            record.reported_avg = report.avg_fill_price
            changed = True
            if record.reported_qty > record.fill_qty:
                key = (record.venue, order_key(record.client_order_id, record.venue_order_id))
                self._gaps[key] = record
        events: _Events = _NOTHING
        if (
            record.status not in _TERMINAL
            and report.ts_event_ns > record.ts_amended_ns
            and (report.qty != record.qty or report.price != record.price)
        ):
            record.qty = report.qty
            record.price = report.price
            record.ts_amended_ns = report.ts_event_ns
            changed = True
            events = (
                OrderAmended(
                    venue=record.venue,
                    symbol=record.symbol,
                    client_order_id=record.client_order_id,
                    venue_order_id=record.venue_order_id,
                    qty=report.qty,
                    price=report.price,
                    ts_event_ns=report.ts_event_ns,
                    ts_recv_ns=report.ts_recv_ns,
                    source=report.source,
                ),
            )
        if changed:
            self._touch(record, report.ts_event_ns)
        return events + self._advance(record, report.status, report)

    # -- helpers ----------------------------------------------------------------

    def _advance(
        self,
        record: _Record,
        reported: OrderStatus,
        source: _Input | None,
        *,
        ts_ns: int | None = None,
        origin: str | None = None,
    ) -> _Events:
        """Move ``record`` as ``reported`` says; the events the move makes true (their
        ``source`` is the input's, or ``origin`` when the input is not ``source``)."""
        old = record.status
        new = next_status(old, reported, record.filled, record.qty)
        if new is old:
            return _NOTHING
        ts = source.ts_event_ns if source is not None else ts_ns or 0
        self._move(record, new, ts)
        events: list[OrderEvent] = []
        if old in _PRE_VENUE and new in _ACCEPTED_BY_VENUE:
            if type(source) is OrderAccepted:
                return (source,)
            events.append(self._derive(OrderAccepted, record, source, ts, origin=origin))
        if new is _UNK or new is _CXL or new is _REJ or new is _EXP:
            if source is not None and type(source) is _STATUS_EVENT[new]:
                events.append(source)
            else:
                events.append(self._derive(_STATUS_EVENT[new], record, source, ts, origin=origin))
        return tuple(events)

    @staticmethod
    def _derive(
        cls: type[OrderEvent],
        record: _Record,
        source: _Input | None,
        ts: int,
        reason: str | None = None,
        *,
        origin: str | None = None,
    ) -> OrderEvent:
        """An event for ``record``'s move, with the input's ``source`` tag: what a
        reconciliation's report makes true is tagged ``"reconcile"`` as the report is."""
        reason = reason or getattr(source, "reason", None)
        kwargs: dict[str, object] = {
            "source": source.source if source is not None else origin,
            "venue": record.venue,
            "symbol": record.symbol,
            "client_order_id": record.client_order_id,
            "venue_order_id": record.venue_order_id,
            "ts_event_ns": ts,
            "ts_recv_ns": source.ts_recv_ns if source is not None else ts,
        }
        if cls is OrderRejected:
            kwargs["reason"] = reason or "rejected by the venue"
            kwargs["code"] = getattr(source, "code", None)
        elif cls is OrderCanceled or cls is OrderExpired:
            kwargs["reason"] = reason
        elif cls is OrderStatusUnknown:
            kwargs["reason"] = reason or "outcome lost"
        return cls(**kwargs)  # type: ignore[arg-type]

    def _move(self, record: _Record, status: OrderStatus, ts_ns: int) -> None:
        finishing = status in _TERMINAL and record.status not in _TERMINAL
        record.status = status
        self._touch(record, ts_ns)
        if finishing:
            key = (record.venue, order_key(record.client_order_id, record.venue_order_id))
            self._open.pop(key, None)
            self._finished.append(record)

    @staticmethod
    def _touch(record: _Record, ts_ns: int) -> None:
        record.snapshot = None
        if ts_ns > record.ts_updated_ns:
            record.ts_updated_ns = ts_ns

    def _learn_venue_id(self, record: _Record, venue_order_id: str | None) -> None:
        if venue_order_id and record.venue_order_id is None:
            record.venue_order_id = venue_order_id
            record.snapshot = None
            self._by_venue_id[(record.venue, venue_order_id)] = record.client_order_id
            self._adopt_fills(record)

    def _adopt_fills(self, record: _Record) -> None:
        """Fills kept under ``#`` + the venue's order id (they came before we could tell
        whose they were: Binance REST fills name only ``orderId``) join the order that
        turned out to have that id. Each counted once: they were deduplicated when kept."""
        if not record.client_order_id or not record.venue_order_id:
            return
        orphans = self._fills.pop((record.venue, "#" + record.venue_order_id), None)
        if not orphans:
            return
        orphans = [attrs.evolve(f, client_order_id=record.client_order_id) for f in orphans]
        self._fills.setdefault((record.venue, record.client_order_id), []).extend(orphans)
        for fill in orphans:
            record.fill_qty += fill.qty
            record.fill_notional += fill.qty * fill.price
        record.snapshot = None


_EVENT_STATUS: Mapping[type, OrderStatus] = {
    OrderAccepted: _NEW,
    OrderStatusUnknown: _UNK,
    OrderCanceled: _CXL,
    OrderRejected: _REJ,
    OrderExpired: _EXP,
}
"""The status each lifecycle event reports."""

_STATUS_EVENT: Mapping[OrderStatus, type[OrderEvent]] = {
    _UNK: OrderStatusUnknown,
    _CXL: OrderCanceled,
    _REJ: OrderRejected,
    _EXP: OrderExpired,
}
"""The event that announces each status a report can end in (and ``unknown``)."""
