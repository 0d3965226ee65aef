"""OKX spot market orders the balance cannot cover: how far ``banAmend=false`` shrinks them.

OKX "POST / Place order" (checked 2026-12-06), ``banAmend``: "Whether to disallow
the system from automatically reducing the order size when account balance is
insufficient for the full SPOT Market Order. [...] If ``true``: the entire order is
rejected when balance is insufficient. If ``false`` (default): the system reduces
sz to fit the available balance and executes the smaller order. Only applicable
to SPOT Market Orders"; and ``tgtCcy``: "If the quantity you enter is greater
than what you can buy or sell, the system will execute the order according to
your maximum buyable or sellable quantity."

The simulator's desk holds a market buy's quote at the worst price its sweep
reaches (``qty × worst``) and a sell's base quantity, so the fitted size of a buy
is the largest whose sweep the free quote covers at its worst price, and that of
a sell is the free base. Pure functions of the book's levels (best first).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from connector.model import BookLevel

__all__ = ["affordable_buy", "lots", "sweep_value"]

_ZERO = Decimal(0)


def lots(qty: Decimal, lot: Decimal) -> Decimal:
    """``qty`` rounded down to a whole number of ``lot``."""
    return (qty / lot).to_integral_value(rounding=ROUND_DOWN) * lot


def affordable_buy(
    asks: Sequence[BookLevel], budget: Decimal, lot: Decimal, most: Decimal
) -> Decimal:
    """The largest buy (whole lots, at most ``most``) whose quantity times the worst
    ask its sweep reaches is at most ``budget``; 0 when not even one lot is.

    Beyond the book's depth the worst price is its farthest ask (the rest of a
    market order is canceled).
    """
    best = _ZERO
    before = _ZERO
    for i, level in enumerate(asks):
        last = i == len(asks) - 1
        upper = most if last else min(most, before + level.qty)
        qty = lots(min(upper, budget / level.price), lot)
        if qty > before:  # it reaches this level: the level's price is its worst
            best = max(best, qty)
        before += level.qty
        if before >= most:
            break
    return best


def sweep_value(levels: Sequence[BookLevel], qty: Decimal) -> Decimal:
    """What sweeping ``qty`` through ``levels`` (best first) trades in the quote asset."""
    left, value = qty, _ZERO
    for level in levels:
        take = min(left, level.qty)
        value += take * level.price
        left -= take
        if left <= 0:
            break
    return value
