"""``connector demo``'s end check: local orders, positions and balances against the
simulator's truth (:class:`connector.sim.Truth`, through the in-process
:class:`~connector.connector.SimulatorService`).

Per trading venue:

* **orders**: every order the simulated venue holds is known locally with the
  same status and the same filled fraction (OKX swap counts contracts, we count
  base units: ``local.filled * venue.qty == venue.filled * local.qty``); every
  local order that is not ``rejected`` is one the venue holds (none invented),
  and no client order id is held twice by the venue (none placed twice);
* **positions**: the signed size of every open position (base units);
* **balances**: the total (free plus locked) of every asset either side lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from connector.errors import ConfigError, ConnectorError
from connector.model import Market, OrderStatus, Symbol

if TYPE_CHECKING:
    from connector.connector import Connector
    from connector.sim import Truth

__all__ = ["truth_differences"]

_ZERO = Decimal(0)
_PERP_MARKET = {"binance": Market.LINEAR, "bybit": Market.LINEAR, "okx": Market.SWAP}


def truth_differences(c: Connector, venues: Iterable[str]) -> list[str]:
    """What differs between the connector's state and the simulator's, one line each.

    Raises:
        ConnectorError: the connector does not run the built-in simulator.
    """
    sim = c.simulator
    if sim is None:
        raise ConnectorError("the truth check needs the built-in simulator (endpoint 'sim')")
    problems: list[str] = []
    for venue in venues:
        truth = sim.truth(venue)
        problems += _orders(c, venue, truth)
        problems += _positions(c, venue, truth)
        problems += _balances(c, venue, truth)
    return problems


def _orders(c: Connector, venue: str, truth: Truth) -> list[str]:
    problems = []
    orders = truth.orders(truth.default_account())
    held = {o.client_order_id: o for o in orders}
    if len(held) < len(orders):
        seen: set[str] = set()
        for order in orders:
            if order.client_order_id in seen:
                problems.append(f"{venue} order {order.client_order_id}: placed twice")
            seen.add(order.client_order_id)
    local = {o.client_order_id: o for o in c.orders.all() if o.venue == venue}
    for cid, theirs in held.items():
        ours = local.get(cid)
        if ours is None:
            problems.append(
                f"{venue} order {cid}: the venue has it ({theirs.state.value}), we do not"
            )
            continue
        if ours.status.value != theirs.state.value:
            problems.append(
                f"{venue} order {cid}: status {ours.status.value} here, "
                f"{theirs.state.value} at the venue"
            )
        if ours.filled_qty * theirs.qty != theirs.filled_qty * ours.qty:
            problems.append(
                f"{venue} order {cid}: filled {ours.filled_qty} of {ours.qty} here, "
                f"{theirs.filled_qty} of {theirs.qty} at the venue"
            )
    for cid, ours in local.items():
        if cid not in held and ours.status is not OrderStatus.REJECTED:
            problems.append(f"{venue} order {cid}: {ours.status.value} here, unknown to the venue")
    return problems


def _positions(c: Connector, venue: str, truth: Truth) -> list[str]:
    from connector.venues.registry import driver_for

    adapter = driver_for(venue).market_data
    theirs: dict[Symbol, Decimal] = {}
    for position in truth.positions():
        if position.size == 0:
            continue
        try:
            instrument = adapter.guess_instrument(_PERP_MARKET[venue], position.symbol)
        except ConfigError:
            instrument = None
        if instrument is None:
            return [f"{venue}: cannot name the venue's position in {position.symbol!r}"]
        theirs[instrument.symbol] = position.size
    ours = {p.symbol: p.qty for p in c.positions.all() if p.venue == venue and p.qty != 0}
    return [
        f"{venue} position {symbol}: {ours.get(symbol, _ZERO)} here, "
        f"{theirs.get(symbol, _ZERO)} at the venue"
        for symbol in sorted(set(theirs) | set(ours), key=str)
        if ours.get(symbol, _ZERO) != theirs.get(symbol, _ZERO)
    ]


def _balances(c: Connector, venue: str, truth: Truth) -> list[str]:
    theirs = {b.asset: b.total for b in truth.balances()}
    ours = {b.asset: b.free + b.locked for b in c.balances.all(venue)}
    return [
        f"{venue} balance {asset}: {ours.get(asset, _ZERO)} here, "
        f"{theirs.get(asset, _ZERO)} at the venue"
        for asset in sorted(set(theirs) | set(ours))
        if ours.get(asset, _ZERO) != theirs.get(asset, _ZERO)
    ]
