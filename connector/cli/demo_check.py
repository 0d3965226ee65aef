"""``connector demo``'s end check: local orders, positions and balances against the
simulator's truth (:class:`connector.sim.Truth`, through the in-process
:class:`~connector.connector.SimulatorService`).

Per trading venue:

* **orders**: every order the simulated venue holds is known locally with the
  same status and the same filled fraction (OKX swap counts contracts, we count
  base units: ``local.filled * venue.qty == venue.filled * local.qty``); every
  local order that is not ``rejected`` is one the venue holds (none invented),
  and no client order id is held twice by the venue (none placed twice). Only
  local orders created in this run count: the built-in simulator starts empty
  every run, and a durable event log brings back the orders of earlier runs,
  which no venue of this run ever held;
* **positions**: the signed size of every open position (base units);
* **balances**: the total (free plus locked) of every asset either side lists,
  within the venues' wire precision (:data:`WIRE`: Binance sends balances with
  8 decimals, the simulator keeps 10).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from connector.errors import ConfigError, ConnectorError
from connector.model import Market, Order, OrderStatus, Symbol

if TYPE_CHECKING:
    from connector.connector import Connector
    from connector.sim import Truth

__all__ = [
    "WIRE",
    "VenueOrder",
    "compare_balances",
    "compare_orders",
    "compare_positions",
    "truth_differences",
]

_ZERO = Decimal(0)
WIRE = Decimal("1e-8")
"""Balances agree within this: the finest a venue's wire carries (Binance: 8 decimals)."""
_PERP_MARKET = {"binance": Market.LINEAR, "bybit": Market.LINEAR, "okx": Market.SWAP}


@attrs.frozen(kw_only=True)
class VenueOrder:
    """What the check needs of one order as the venue holds it (quantities in the
    venue's units: contracts on OKX swap)."""

    client_order_id: str
    status: str
    qty: Decimal
    filled_qty: Decimal


def truth_differences(c: Connector, venues: Iterable[str], since_ns: int = 0) -> list[str]:
    """What differs between the connector's state and the simulator's, one line each.

    Args:
        since_ns: When this run's simulator started (wall clock, ns): local orders
            created before it are an earlier run's (kept by a durable event log).

    Raises:
        ConnectorError: the connector does not run the built-in simulator.
    """
    sim = c.simulator
    if sim is None:
        raise ConnectorError("the truth check needs the built-in simulator (endpoint 'sim')")
    problems: list[str] = []
    for venue in venues:
        truth = sim.truth(venue)
        held = [
            VenueOrder(
                client_order_id=o.client_order_id,
                status=o.state.value,
                qty=o.qty,
                filled_qty=o.filled_qty,
            )
            for o in truth.orders(truth.default_account())
        ]
        local = [
            o
            for o in c.orders.all()
            if o.venue == venue and (o.ts_created_ns == 0 or o.ts_created_ns >= since_ns)
        ]
        problems += compare_orders(venue, held, local)
        problems += compare_positions(
            venue,
            _venue_positions(venue, truth),
            {p.symbol: p.qty for p in c.positions.all() if p.venue == venue},
        )
        problems += compare_balances(
            venue,
            {b.asset: b.total for b in truth.balances()},
            {b.asset: b.free + b.locked for b in c.balances.all(venue)},
        )
    return problems


def compare_orders(venue: str, held: Sequence[VenueOrder], local: Sequence[Order]) -> list[str]:
    """Orders: each one the venue holds known here alike; none here the venue lacks
    (``rejected`` ones aside); no client order id held twice."""
    problems = []
    by_id = {o.client_order_id: o for o in held}
    if len(by_id) < len(held):
        seen: set[str] = set()
        for order in held:
            if order.client_order_id in seen:
                problems.append(f"{venue} order {order.client_order_id}: placed twice")
            seen.add(order.client_order_id)
    ours_by_id = {o.client_order_id: o for o in local}
    for cid, theirs in by_id.items():
        ours = ours_by_id.get(cid)
        if ours is None:
            problems.append(f"{venue} order {cid}: the venue has it ({theirs.status}), we do not")
            continue
        if ours.status.value != theirs.status:
            problems.append(
                f"{venue} order {cid}: status {ours.status.value} here, "
                f"{theirs.status} at the venue"
            )
        if ours.filled_qty * theirs.qty != theirs.filled_qty * ours.qty:
            problems.append(
                f"{venue} order {cid}: filled {ours.filled_qty} of {ours.qty} here, "
                f"{theirs.filled_qty} of {theirs.qty} at the venue"
            )
    for cid, ours in ours_by_id.items():
        if cid not in by_id and ours.status is not OrderStatus.REJECTED:
            problems.append(f"{venue} order {cid}: {ours.status.value} here, unknown to the venue")
    return problems


def compare_positions(
    venue: str, theirs: Mapping[Symbol, Decimal], ours: Mapping[Symbol, Decimal]
) -> list[str]:
    """Positions: the same signed size (base units) per symbol, flat ones left out."""
    symbols = {s for s, q in theirs.items() if q != 0} | {s for s, q in ours.items() if q != 0}
    return [
        f"{venue} position {symbol}: {ours.get(symbol, _ZERO)} here, "
        f"{theirs.get(symbol, _ZERO)} at the venue"
        for symbol in sorted(symbols, key=str)
        if ours.get(symbol, _ZERO) != theirs.get(symbol, _ZERO)
    ]


def compare_balances(
    venue: str, theirs: Mapping[str, Decimal], ours: Mapping[str, Decimal]
) -> list[str]:
    """Balances: the same total per asset, within :data:`WIRE`."""
    return [
        f"{venue} balance {asset}: {ours.get(asset, _ZERO)} here, "
        f"{theirs.get(asset, _ZERO)} at the venue"
        for asset in sorted(set(theirs) | set(ours))
        if abs(ours.get(asset, _ZERO) - theirs.get(asset, _ZERO)) > WIRE
    ]


def _venue_positions(venue: str, truth: Truth) -> dict[Symbol, Decimal]:
    """The venue's open positions by canonical symbol (its native ids named here).

    Raises:
        ConnectorError: a position in an instrument that cannot be named.
    """
    from connector.venues.registry import driver_for

    adapter = driver_for(venue).market_data
    out: dict[Symbol, Decimal] = {}
    for position in truth.positions():
        if position.size == 0:
            continue
        try:
            instrument = adapter.guess_instrument(_PERP_MARKET[venue], position.symbol)
        except ConfigError:
            instrument = None
        if instrument is None:
            raise ConnectorError(
                f"{venue}: cannot name the venue's position in {position.symbol!r}"
            )
        out[instrument.symbol] = position.size
    return out
