"""Reconciliation: the venue's account state against ours, and what closes each difference.

Sans-I/O.

Run at start, after every private-stream (re)connect or gap, and periodically
(design.md section 6; the account service drives it, the order-state service
runs the order half on its own after an unknown outcome). The trio side reads
the venue over REST (open orders, fills since the last listing and of orders
missing some, positions, balances) and passes the answers here with our local
state; this module only compares:

* **open orders**: each order the venue lists as open that we do not know,
  or know with another status, filled quantity, quantity or price, comes
  back as that venue report (tagged ``source="reconcile"``) to apply to the
  order state (which only moves orders forward and creates unknown ones);
  each order we hold open that the venue does not list, and that is older
  than the query window, is named in :attr:`OrderDiff.to_query`: it finished
  while we were not looking (or never reached the venue), and only a query
  by client order id can say which; one younger than the window (the venue
  may not list it yet) is named in :attr:`OrderDiff.young` with the time
  left until it is that old, for the caller to query it then;
* **fills**: each venue fill whose ``key`` (venue, symbol, trade id, side) we have not
  seen comes back as an :class:`~connector.model.OrderFilled` (tagged), its
  client order id filled in from the venue order id when the venue's list
  omits it (Binance ``myTrades``);
* **positions** and **balances**: each one that differs from ours comes back
  as the venue's value (tagged); one we hold that the venue no longer lists
  comes back as zero.

Every difference is counted by kind in :attr:`Reconciliation.discrepancies`
(the caller logs and exposes them): ``order_unknown``, ``order_status``,
``order_filled``, ``order_amended``, ``order_not_listed``, ``fill_missing``,
``position``, ``balance``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from connector.account.positions import same_price
from connector.model.symbols import Symbol
from connector.model.trading import (
    Balance,
    Fill,
    FillKey,
    Order,
    OrderFilled,
    OrderReport,
    OrderStatus,
    Position,
)

__all__ = [
    "RECONCILE",
    "BalanceDiff",
    "FillDiff",
    "OrderDiff",
    "PositionDiff",
    "Reconciliation",
    "reconcile",
    "reconcile_balances",
    "reconcile_fills",
    "reconcile_orders",
    "reconcile_positions",
]

RECONCILE = "reconcile"
"""The ``source`` of every value reconciliation emits."""

_ZERO = Decimal(0)

TradeKey = FillKey
"""``Fill.key``: what makes a fill distinct."""


def _add(counts: dict[str, int], kind: str, n: int = 1) -> None:
    counts[kind] = counts.get(kind, 0) + n


@attrs.frozen(kw_only=True)
class OrderDiff:
    """What the open-orders comparison found.

    Attributes:
        reports: Venue reports to apply (tagged ``source="reconcile"``).
        to_query: Client order ids (or ``#`` + venue id) we hold open that the
            venue did not list: query each one.
        young: ``(key, ns)`` of each order we hold open that the venue did not
            list but that was too young to judge: ``ns`` until it is as old as
            the window (query it then, if it is still open).
        discrepancies: Count per kind (the young ones are not counted).
    """

    reports: tuple[OrderReport, ...] = ()
    to_query: tuple[str, ...] = ()
    young: tuple[tuple[str, int], ...] = ()
    discrepancies: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class FillDiff:
    """What the fills comparison found.

    Attributes:
        events: One tagged ``OrderFilled`` per fill we had not seen, oldest first.
        last_ts_ns: The newest venue fill time in the answer (the next
            ``since``), or ``None`` when the answer held no fill.
        discrepancies: Count per kind.
    """

    events: tuple[OrderFilled, ...] = ()
    last_ts_ns: int | None = None
    discrepancies: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class PositionDiff:
    """Venue positions that differ from ours (tagged), zero for those it dropped."""

    positions: tuple[Position, ...] = ()
    discrepancies: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class BalanceDiff:
    """Venue balances that differ from ours (tagged), zero for assets it dropped."""

    balances: tuple[Balance, ...] = ()
    discrepancies: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Reconciliation:
    """The whole result: everything to apply, in order, and what to query.

    Attributes:
        events: Order reports, then fill events, then positions, then balances.
        to_query: Orders to query by client order id (see :class:`OrderDiff`).
        young: Orders to query once they are old enough (see :class:`OrderDiff`).
        last_fill_ts_ns: The next fills cursor (``None``: keep the old one).
        discrepancies: Count per kind, over every part.
    """

    events: tuple[OrderReport | OrderFilled | Position | Balance, ...] = ()
    to_query: tuple[str, ...] = ()
    young: tuple[tuple[str, int], ...] = ()
    last_fill_ts_ns: int | None = None
    discrepancies: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def total(self) -> int:
        """Differences found, all kinds together."""
        return sum(self.discrepancies.values())


def _key(client_order_id: str, venue_order_id: str | None) -> str:
    return client_order_id or "#" + (venue_order_id or "")


def reconcile_orders(
    venue: str,
    local: Iterable[Order],
    venue_open: Sequence[OrderReport],
    *,
    known: Callable[[str], Order | None],
    covers: Callable[[Symbol], bool] = lambda _symbol: True,
    now_ns: int,
    min_age_ns: int = 0,
) -> OrderDiff:
    """Compare our open orders with the venue's open-orders listing.

    Args:
        venue: The venue compared.
        local: Our open orders of that venue (``unknown`` ones included).
        venue_open: The venue's open orders (one listing, or several markets').
        known: Our order by key (client order id, or ``#`` + venue order id),
            finished ones included; ``None`` when we do not know it.
        covers: Whether the listing covers a symbol (only those markets were
            listed); local orders of other symbols are not judged.
        now_ns: The time of the listing, on the orders' ``ts_created_ns`` clock.
        min_age_ns: Orders younger than this are not judged missing (the venue
            may not list them yet): each unlisted one is named in
            :attr:`OrderDiff.young` with the time until it is that old (at most
            ``min_age_ns``, whatever its creation time says).
    """
    local = [o for o in local if o.venue == venue]
    counts: dict[str, int] = {}
    reports: list[OrderReport] = []
    listed: set[str] = set()
    for report in venue_open:
        if report.venue != venue:
            continue
        key = _key(report.client_order_id, report.venue_order_id)
        listed.add(key)
        ours = known(key)
        if ours is None and report.venue_order_id:
            # An order we know by its client id, listed by the venue without one.
            ours = next(
                (o for o in local if o.venue_order_id == report.venue_order_id),
                None,
            )
            if ours is not None:
                listed.add(ours.client_order_id)
        kinds = _order_differences(ours, report)
        if kinds:
            for kind in kinds:
                _add(counts, kind)
            reports.append(attrs.evolve(report, source=RECONCILE))
    to_query: list[str] = []
    young: list[tuple[str, int]] = []
    for o in local:
        key = _key(o.client_order_id, o.venue_order_id)
        if o.status.is_terminal or not covers(o.symbol) or key in listed:
            continue
        age = now_ns - o.ts_created_ns
        if age >= min_age_ns:
            to_query.append(key)
        else:
            young.append((key, min(min_age_ns - age, min_age_ns)))
    if to_query:
        _add(counts, "order_not_listed", len(to_query))
    return OrderDiff(
        reports=tuple(reports),
        to_query=tuple(to_query),
        young=tuple(young),
        discrepancies=counts,
    )


def _order_differences(ours: Order | None, report: OrderReport) -> list[str]:
    if ours is None:
        return ["order_unknown"]
    kinds = []
    if report.filled_qty > ours.filled_qty:
        kinds.append("order_filled")
    venue_status = report.status
    if venue_status is OrderStatus.NEW and report.filled_qty > _ZERO:
        venue_status = OrderStatus.PARTIALLY_FILLED
    if ours.status is not venue_status and not ours.status.is_terminal:
        kinds.append("order_status")
    if not ours.status.is_terminal and (report.qty != ours.qty or report.price != ours.price):
        kinds.append("order_amended")
    return kinds


def reconcile_fills(
    venue: str,
    venue_fills: Sequence[Fill],
    *,
    seen: Callable[[TradeKey], bool],
    client_id_of: Callable[[str], str | None],
) -> FillDiff:
    """The venue's recent fills we have not seen, as events to apply.

    Args:
        venue: The venue compared.
        venue_fills: The venue's fills answer, in any order of time, but fills of one
            time in the order they happened (an order that sweeps the book fills at
            several prices in one millisecond: applied in another order, other fills
            close a position that flips, and the realised P&L differs).
        seen: Whether a fill's ``key`` was counted already.
        client_id_of: Our client order id of a venue order id (``None``: not ours
            or not known), for fills listed without one.
    """
    counts: dict[str, int] = {}
    events: list[OrderFilled] = []
    last: int | None = None
    fresh: set[TradeKey] = set()
    for fill in venue_fills:
        if fill.venue != venue:
            continue
        if last is None or fill.ts_event_ns > last:
            last = fill.ts_event_ns
        trade = fill.key
        if trade in fresh or seen(trade):
            continue
        fresh.add(trade)
        client_id = fill.client_order_id or client_id_of(fill.venue_order_id) or ""
        fill = attrs.evolve(fill, client_order_id=client_id, source=RECONCILE)
        events.append(
            OrderFilled(
                venue=fill.venue,
                symbol=fill.symbol,
                client_order_id=client_id,
                venue_order_id=fill.venue_order_id,
                fill=fill,
                ts_event_ns=fill.ts_event_ns,
                ts_recv_ns=fill.ts_recv_ns,
                source=RECONCILE,
            )
        )
    if events:
        _add(counts, "fill_missing", len(events))
    events.sort(key=lambda e: e.ts_event_ns)  # stable: fills of one time keep their order
    return FillDiff(events=tuple(events), last_ts_ns=last, discrepancies=counts)


def reconcile_positions(
    venue: str,
    local: Mapping[Symbol, Position],
    venue_positions: Sequence[Position],
    *,
    covers: Callable[[Symbol], bool] = lambda _symbol: True,
    ts_ns: int = 0,
) -> PositionDiff:
    """Venue positions that differ from ours in quantity or entry price.

    A position we hold (non-zero) of a covered symbol that the venue does not
    list comes back flat, at ``ts_ns``.
    """
    counts: dict[str, int] = {}
    out: list[Position] = []
    listed: set[Symbol] = set()
    for pos in venue_positions:
        if pos.venue != venue:
            continue
        listed.add(pos.symbol)
        ours = local.get(pos.symbol)
        same = ours is not None and ours.qty == pos.qty
        if same and pos.qty != _ZERO and ours is not None:
            # The venue sends its entry rounded (Bybit's 10 digits); ours has every digit.
            same = same_price(ours.avg_entry_price, pos.avg_entry_price)
        if ours is None and pos.qty == _ZERO:
            same = True
        if not same:
            _add(counts, "position")
            out.append(attrs.evolve(pos, source=RECONCILE))
    for symbol, ours in local.items():
        if symbol not in listed and ours.qty != _ZERO and covers(symbol):
            _add(counts, "position")
            out.append(
                Position(venue=venue, symbol=symbol, qty=_ZERO, ts_event_ns=ts_ns, source=RECONCILE)
            )
    return PositionDiff(positions=tuple(out), discrepancies=counts)


def reconcile_balances(
    venue: str,
    local: Mapping[str, Balance],
    venue_balances: Sequence[Balance],
    *,
    ts_ns: int = 0,
) -> BalanceDiff:
    """Venue balances that differ from ours in free or locked amount.

    An asset we hold (non-zero) that the venue no longer lists comes back as
    zero, at ``ts_ns``.
    """
    counts: dict[str, int] = {}
    out: list[Balance] = []
    listed: set[str] = set()
    for bal in venue_balances:
        if bal.venue != venue:
            continue
        listed.add(bal.asset)
        ours = local.get(bal.asset)
        if ours is None:
            same = bal.total == _ZERO
        else:
            same = ours.free == bal.free and ours.locked == bal.locked
        if not same:
            _add(counts, "balance")
            out.append(attrs.evolve(bal, source=RECONCILE))
    for asset, ours in local.items():
        if asset not in listed and ours.total != _ZERO:
            _add(counts, "balance")
            out.append(
                Balance(venue=venue, asset=asset, free=_ZERO, ts_event_ns=ts_ns, source=RECONCILE)
            )
    return BalanceDiff(balances=tuple(out), discrepancies=counts)


def reconcile(
    orders: OrderDiff | None = None,
    fills: FillDiff | None = None,
    positions: PositionDiff | None = None,
    balances: BalanceDiff | None = None,
) -> Reconciliation:
    """The parts' results as one: events in apply order, counts summed."""
    counts: dict[str, int] = {}
    events: list[OrderReport | OrderFilled | Position | Balance] = []
    for part in (orders, fills, positions, balances):
        if part is not None:
            for kind, n in part.discrepancies.items():
                _add(counts, kind, n)
    if orders is not None:
        events.extend(orders.reports)
    if fills is not None:
        events.extend(fills.events)
    if positions is not None:
        events.extend(positions.positions)
    if balances is not None:
        events.extend(balances.balances)
    return Reconciliation(
        events=tuple(events),
        to_query=orders.to_query if orders is not None else (),
        young=orders.young if orders is not None else (),
        last_fill_ts_ns=fills.last_ts_ns if fills is not None else None,
        discrepancies=counts,
    )
