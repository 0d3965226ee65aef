"""The rounding rules of simulated accounts.

Every amount an account books (a hold, a cost, a margin, a P&L) is rounded
half-even to :data:`QUANTUM` (1e-10) once, where it is computed; a fee to
:data:`FEE_QUANTUM` (1e-8), the precision the venues report fees in (Binance's
``commission``, Bybit's ``execFee``), so the amount booked is the amount told.
Sums of booked amounts are then exact, so balances reconcile to the last digit
with the fills that made them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["FEE_QUANTUM", "QUANTUM", "ZERO", "fee_amount", "money"]

QUANTUM = Decimal("1e-10")
FEE_QUANTUM = Decimal("1e-8")
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    """``value`` rounded half-even to :data:`QUANTUM`."""
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def fee_amount(value: Decimal) -> Decimal:
    """A fee: ``value`` rounded half-even to :data:`FEE_QUANTUM`."""
    return value.quantize(FEE_QUANTUM, rounding=ROUND_HALF_EVEN)
