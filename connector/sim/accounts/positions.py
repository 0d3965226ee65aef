"""One-way linear positions (USDT-margined perpetuals): size, average entry, P&L.

Pure arithmetic on :class:`Position` values. Quantities are in base units
(the OKX front-end converts contracts with ``ctVal`` before it gets here);
money is in the settle asset. ``size`` is signed: positive long, negative
short (Binance ``positionAmt`` and OKX net ``pos`` are signed; Bybit sends the
absolute value and a side).

A fill in the position's direction (or on a flat position) averages the entry
price by notional; a fill against it realises ``closed × (price − entry)`` (for
a long; the opposite for a short) and, past zero, opens the other way at the
fill price. ``realised_pnl`` counts fees in (as Bybit's ``cumRealisedPnl`` and
OKX's ``realizedPnl`` do); ``fees`` is their sum on its own.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from connector.sim.accounts.money import ZERO, money

__all__ = ["Position", "PositionChange", "apply_fill", "unrealised_pnl"]


@attrs.frozen(kw_only=True)
class Position:
    """A one-way position on one symbol.

    Attributes:
        symbol: The venue's symbol.
        settle: The asset P&L and margin are paid in (USDT).
        size: Signed base quantity (0 when flat).
        entry_price: Average entry price (0 when flat).
        margin: Initial margin held for it, in the settle asset (the margin
            its opening orders reserved, released pro rata as it shrinks).
        realised_pnl: Realised P&L, fees included (negative fees are rebates).
        fees: Fees paid on this symbol's fills.
    """

    symbol: str
    settle: str
    size: Decimal = ZERO
    entry_price: Decimal = ZERO
    margin: Decimal = ZERO
    realised_pnl: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def side(self) -> str:
        """``long``, ``short`` or ``flat``."""
        return "long" if self.size > 0 else "short" if self.size < 0 else "flat"


@attrs.frozen(kw_only=True)
class PositionChange:
    """What one fill did to a position.

    Attributes:
        position: The position after the fill.
        opened: Base quantity that opened or grew the position.
        closed: Base quantity that reduced it.
        gross_pnl: P&L realised by ``closed``, before the fee.
        margin_released: Margin freed by ``closed``.
    """

    position: Position
    opened: Decimal
    closed: Decimal
    gross_pnl: Decimal
    margin_released: Decimal


def apply_fill(
    position: Position, *, signed_qty: Decimal, price: Decimal, fee: Decimal, margin_in: Decimal
) -> PositionChange:
    """The position after a fill of ``signed_qty`` (buy > 0, sell < 0) at ``price``.

    Args:
        position: The position before.
        signed_qty: The fill's quantity, positive for a buy.
        price: The fill price.
        fee: The fee charged for the fill (counted into ``realised_pnl``).
        margin_in: Margin the order moves into the position for the part
            that opens (the caller computes it from the order's hold).
    """
    if signed_qty == 0:
        raise ValueError("a fill has a non-zero quantity")
    size = position.size
    same_way = size == 0 or (size > 0) == (signed_qty > 0)
    if same_way:
        new_size = size + signed_qty
        notional = abs(size) * position.entry_price + abs(signed_qty) * price
        entry = money(notional / abs(new_size))
        after = attrs.evolve(
            position,
            size=new_size,
            entry_price=entry,
            margin=position.margin + margin_in,
            realised_pnl=position.realised_pnl - fee,
            fees=position.fees + fee,
        )
        return PositionChange(
            position=after,
            opened=abs(signed_qty),
            closed=ZERO,
            gross_pnl=ZERO,
            margin_released=ZERO,
        )
    closed = min(abs(size), abs(signed_qty))
    direction = 1 if size > 0 else -1
    gross = money(closed * (price - position.entry_price) * direction)
    if closed == abs(size):
        released = position.margin
    else:
        released = money(position.margin * closed / abs(size))
    new_size = size + signed_qty
    opened = abs(signed_qty) - closed
    if new_size == 0:
        entry, margin = ZERO, ZERO
    elif opened > 0:
        entry, margin = price, margin_in
    else:
        entry, margin = position.entry_price, position.margin - released
    after = attrs.evolve(
        position,
        size=new_size,
        entry_price=entry,
        margin=margin,
        realised_pnl=position.realised_pnl + gross - fee,
        fees=position.fees + fee,
    )
    return PositionChange(
        position=after, opened=opened, closed=closed, gross_pnl=gross, margin_released=released
    )


def unrealised_pnl(position: Position, mark_price: Decimal) -> Decimal:
    """``size × (mark − entry)``: the P&L if the position closed at ``mark_price``."""
    if position.size == 0:
        return ZERO
    return money(position.size * (mark_price - position.entry_price))
