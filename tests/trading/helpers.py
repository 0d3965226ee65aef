"""Test helpers: local order state against the simulated venue's truth."""

from __future__ import annotations

from connector import Connector, OrderStatus


def assert_agrees_with_venue(c: Connector, venue: str) -> None:
    """Every order the simulated venue holds for the default account is known locally with
    the same status and filled quantity, and every order open locally is open there."""
    assert c.simulator is not None, "the connector does not run the built-in simulator"
    truth = c.simulator.truth(venue)
    venue_orders = truth.orders(truth.default_account())
    by_id = {o.client_order_id: o for o in venue_orders}
    for theirs in venue_orders:
        ours = c.orders.get(theirs.client_order_id)
        assert ours is not None, f"{venue} holds {theirs.client_order_id}, unknown here"
        assert OrderStatus(theirs.state.value) == ours.status, (theirs, ours)
        # Venue quantities are in its own units (OKX swap: contracts); ours in base units.
        assert theirs.filled_qty * ours.qty == ours.filled_qty * theirs.qty, (theirs, ours)
    for ours in c.orders.open(venue):
        theirs = by_id.get(ours.client_order_id)
        assert theirs is not None and theirs.state.is_open, (ours, theirs)
