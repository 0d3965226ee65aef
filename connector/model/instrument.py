"""Tradable instruments and their order filters."""

from __future__ import annotations

import enum
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

import attrs

from connector.model.symbols import Symbol

__all__ = ["Instrument", "InstrumentStatus", "Market"]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class Market(enum.StrEnum):
    """A venue's market segment (how the venue groups instruments).

    Binance: ``spot``, ``linear`` (USDⓈ-M futures). Bybit: ``spot``, ``linear``.
    OKX: ``spot``, ``swap``, ``futures``.
    """

    SPOT = "spot"
    LINEAR = "linear"
    INVERSE = "inverse"
    SWAP = "swap"
    FUTURES = "futures"


class InstrumentStatus(enum.StrEnum):
    """Whether the venue accepts orders for the instrument."""

    TRADING = "trading"
    HALTED = "halted"
    PRE_TRADING = "pre_trading"
    DELISTED = "delisted"


@attrs.frozen(kw_only=True)
class Instrument:
    """One instrument on one venue, with the filters an order must pass.

    Attributes:
        venue: ``binance``, ``bybit`` or ``okx``.
        symbol: Canonical symbol.
        native_id: The venue's own id (``BTCUSDT``, ``BTC-USDT-SWAP``).
        market: The venue market segment.
        tick_size: Price increment.
        lot_step: Quantity increment.
        min_qty: Smallest order quantity.
        min_notional: Smallest price * qty * contract_size; 0 when the venue has none.
        reduce_only_exempt_from_min_notional: A reduce-only order may be below
            ``min_notional`` (the venue's rule: Binance USDⓈ-M).
        max_qty: Largest order quantity, when the venue sets one.
        max_market_qty: Largest market-order quantity, where the venue sets one apart
            from ``max_qty`` (Binance ``MARKET_LOT_SIZE``, Bybit ``maxMktOrderQty``,
            OKX swap ``maxMktSz``).
        max_post_only_qty: Largest post-only order, where the venue allows one larger
            than ``max_qty`` (Bybit spot: five times ``maxLimitOrderQty``).
        min_price: Smallest limit price, where the venue sets one (Binance
            ``PRICE_FILTER.minPrice``, Bybit linear ``priceFilter.minPrice``).
        max_price: Largest limit price, where the venue sets one (``maxPrice``).
        contract_size: Base units per contract (1 for spot and linear coin-quantity
            markets); for an ``inverse`` contract, quote units (USD) per contract.
        status: Trading status.
        venue_code: The venue's integer code of the instrument, where an API takes it
            instead of ``native_id`` (OKX ``instIdCode``: its websocket order ops).
        inverse: A coin-margined contract whose size is in the quote currency
            (OKX ``BTC-USD-SWAP``): its quantities cannot be given in base units
            and stay in contracts.
    """

    venue: str
    symbol: Symbol
    native_id: str
    market: Market
    tick_size: Decimal
    lot_step: Decimal
    min_qty: Decimal
    min_notional: Decimal = _ZERO
    reduce_only_exempt_from_min_notional: bool = False
    max_qty: Decimal | None = None
    max_market_qty: Decimal | None = None
    max_post_only_qty: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    contract_size: Decimal = Decimal(1)
    status: InstrumentStatus = InstrumentStatus.TRADING
    inverse: bool = False
    venue_code: int | None = None

    @property
    def base_per_unit(self) -> Decimal:
        """Base units per unit of the venue's quantity: ``contract_size``, or 1 where the
        venue counts base units or the contract is ``inverse`` (its quantities stay
        in contracts)."""
        return _ONE if self.inverse else self.contract_size

    def quantize_price(self, price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        """Round ``price`` to a multiple of ``tick_size`` (half-even unless told)."""
        return _to_step(price, self.tick_size, rounding)

    def quantize_qty(self, qty: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
        """Round ``qty`` to a multiple of ``lot_step``, down unless told."""
        return _to_step(qty, self.lot_step, rounding)

    def check_order(self, qty: Decimal, price: Decimal | None) -> tuple[str, ...]:
        """Return each filter the order breaks, as a sentence; empty when it passes.

        Args:
            qty: Order quantity in the venue's unit (base or contracts).
            price: Limit price, or ``None`` for a market order (notional not checked).
        """
        problems: list[str] = []
        if self.status is not InstrumentStatus.TRADING:
            problems.append(f"{self.symbol} is {self.status.value} on {self.venue}")
        if qty <= _ZERO:
            problems.append(f"qty {qty} must be positive")
        else:
            if qty < self.min_qty:
                problems.append(f"qty {qty} is below the minimum {self.min_qty}")
            if self.max_qty is not None and qty > self.max_qty:
                problems.append(f"qty {qty} is above the maximum {self.max_qty}")
            if qty % self.lot_step != _ZERO:
                problems.append(f"qty {qty} is not a multiple of the lot step {self.lot_step}")
        if price is not None:
            if price <= _ZERO:
                problems.append(f"price {price} must be positive")
            elif price % self.tick_size != _ZERO:
                problems.append(
                    f"price {price} is not a multiple of the tick size {self.tick_size}"
                )
            notional = price * qty * self.contract_size
            if qty > _ZERO and price > _ZERO and notional < self.min_notional:
                problems.append(f"notional {notional} is below the minimum {self.min_notional}")
        return tuple(problems)


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    units = (value / step).quantize(Decimal(1), rounding=rounding)
    return (units * step).quantize(step) if step.as_tuple().exponent != 0 else units * step
