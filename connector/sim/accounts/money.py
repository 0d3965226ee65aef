"""The one rounding rule of simulated accounts.

Every amount an account books (a hold, a cost, a fee, a margin, a P&L) is
rounded half-even to :data:`QUANTUM` (1e-10) once, where it is computed; sums
of booked amounts are then exact, so balances reconcile to the last digit with
the fills that made them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["QUANTUM", "ZERO", "money"]

QUANTUM = Decimal("1e-10")
ZERO = Decimal(0)


def money(value: Decimal) -> Decimal:
    """``value`` rounded half-even to :data:`QUANTUM`."""
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
