"""Order checks of the simulator's trading desk: instrument filters and book estimates (pure).

Used by :class:`connector.sim.desk.Desk` before an order reaches the engine:

* :func:`check_filters`: the instrument's tick size, lot step, minimum and
  maximum quantity (and a market order's own maximum) and minimum notional
  (``price × qty × contract_size``; a reduce-only order is spared it where the
  venue says so, :data:`REDUCE_ONLY_SPARED`),
  each failure a :class:`~connector.sim.desk_types.Refusal` naming the filter
  and the values;
* :func:`apply_price_limit`: a limit price against the venue's price limit around
  the mark price: refused (Binance, Bybit spot, OKX) or moved to the limit (Bybit linear);
* :func:`sweep_price`: the worst price a market order of a given size would
  reach against the current book (what a market buy must hold funds for).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from connector.model import BookLevel, Side
from connector.sim.desk_types import Refusal, RefusalReason
from connector.sim.engine import MatchingEngine
from connector.sim.instruments import SimInstrument

__all__ = [
    "MARKET_HOLD_MARGIN",
    "REDUCE_ONLY_SPARED",
    "apply_price_limit",
    "base_for_quote",
    "check_filters",
    "hold_price",
    "sweep_price",
]

MARKET_HOLD_MARGIN = Decimal("0.02")
"""A market order holds funds for its sweep estimate plus this fraction (released after)."""

REDUCE_ONLY_SPARED: frozenset[tuple[str, str]] = frozenset(
    {("binance", "linear"), ("bybit", "linear")}
)
"""The (venue, market) pairs whose minimum notional does not bind a reduce-only order:
Binance USDⓈ-M, -4164 "Order's notional must be no smaller than %s (unless you choose
reduce only)" (USDⓈ-M error codes, checked 2026-12-06); Bybit linear, "Closing orders
are exempt from notional value but still adhere to minimum size" (help center,
"Derivatives Trading Rules", checked 2026-12-06). OKX lists no minimum order value."""


def check_filters(
    instrument: SimInstrument,
    qty: Decimal,
    price: Decimal | None,
    notional_price: Decimal | None,
    *,
    market: bool = False,
    post_only: bool = False,
    reduce_only: bool = False,
) -> Refusal | None:
    """The first filter ``qty`` and ``price`` fail, or ``None`` when they pass.

    Args:
        instrument: The instrument with its filters.
        qty: Order quantity (engine units: contracts on OKX swap).
        price: Limit price (``None`` for market orders: not checked against the tick).
        notional_price: The price the minimum notional is checked at (the
            limit price, or an estimate for a market order; ``None``: not checked).
        market: A market order: its quantity is checked against the instrument's
            market-order maximum too.
        post_only: A post-only order: its maximum is the instrument's post-only
            one where the venue allows more (Bybit spot).
        reduce_only: A reduce-only order: its notional is not checked where the
            venue spares it (:data:`REDUCE_ONLY_SPARED`).
    """
    if not qty.is_finite() or qty <= 0:
        return Refusal(reason=RefusalReason.BAD_PARAMETER, detail=f"quantity {qty} is not positive")
    if price is not None:
        if not price.is_finite() or price <= 0:
            return Refusal(
                reason=RefusalReason.BAD_PARAMETER, detail=f"price {price} is not positive"
            )
        if price % instrument.tick_size != 0:
            return Refusal(
                reason=RefusalReason.TICK_SIZE,
                detail=f"price {price} is not a multiple of the tick size {instrument.tick_size}",
            )
        bounds = instrument.price_bounds
        if bounds is not None and price < bounds[0]:
            return Refusal(
                reason=RefusalReason.PRICE_BELOW_MIN,
                detail=f"price {price} is below the minimum {bounds[0]}",
            )
        if bounds is not None and price > bounds[1]:
            return Refusal(
                reason=RefusalReason.PRICE_ABOVE_MAX,
                detail=f"price {price} is above the maximum {bounds[1]}",
            )
    if qty < instrument.min_qty:
        return Refusal(
            reason=RefusalReason.MIN_QTY,
            detail=f"quantity {qty} is below the minimum {instrument.min_qty}",
        )
    if qty % instrument.lot_step != 0:
        return Refusal(
            reason=RefusalReason.LOT_SIZE,
            detail=f"quantity {qty} is not a multiple of the lot step {instrument.lot_step}",
        )
    cap = instrument.max_qty
    if post_only and instrument.max_post_only_qty is not None:
        cap = instrument.max_post_only_qty
    if qty > cap:
        return Refusal(
            reason=RefusalReason.MAX_QTY, detail=f"quantity {qty} is above the maximum {cap}"
        )
    market_cap = instrument.max_market_qty
    if market and market_cap is not None and qty > market_cap:
        return Refusal(
            reason=RefusalReason.MAX_MARKET_QTY,
            detail=f"quantity {qty} is above the market-order maximum {market_cap}",
        )
    spared = reduce_only and (instrument.venue, instrument.market) in REDUCE_ONLY_SPARED
    if notional_price is not None and instrument.min_notional > 0 and not spared:
        notional = notional_price * qty * instrument.contract_size
        if notional < instrument.min_notional:
            return Refusal(
                reason=RefusalReason.MIN_NOTIONAL,
                detail=f"notional {notional} is below the minimum {instrument.min_notional}",
            )
    return None


def apply_price_limit(
    instrument: SimInstrument, side: Side, price: Decimal, mark: Decimal
) -> Decimal | Refusal:
    """A limit order's price as the venue's price limit around ``mark`` leaves it.

    * Binance refuses a price outside its listing's band: spot
      (``PERCENT_PRICE_BY_SIDE``) at both ends for either side; USDⓈ-M
      (``PERCENT_PRICE``) only "BUY: price <= markPrice * multiplierUp" and
      "SELL: price >= markPrice * multiplierDown" (a buy far under the market or
      a sell far over it rests).
    * OKX refuses a buy above its highest buy price or a sell under its lowest
      sell price (51006), on both markets.
    * Bybit linear moves the price to the limit, as the venue does by default
      (``lpaPerp`` false): a buy at most "Min(Max(Index Price, Mark Price × (1 +
      x%)), Mark Price × (1 + y%))", a sell at least the mirror; Bybit spot
      refuses it (``lpaSpot`` false), a buy above "Min[Max(Index Price, Index
      Price × (1 + x%) + 2-Minute Average Premium), Index Price × (1 + y%)]", a
      sell under the mirror. The simulator's index is its mark and it has no
      premium: both are ``mark × (1 ± x)``.

    Bounds are on the tick grid, inside the limit.
    """
    limit = instrument.price_limit
    tick = instrument.tick_size
    high = (mark * limit.up / tick).to_integral_value(ROUND_DOWN) * tick
    low = (mark * limit.down / tick).to_integral_value(ROUND_CEILING) * tick
    buy = side is Side.BUY
    above = (limit.both_sides or buy) and price > high
    below = (limit.both_sides or not buy) and price < low
    if not (above or below):
        return price
    if limit.moves:
        return high if above else low
    return Refusal(
        reason=RefusalReason.PRICE_ABOVE_LIMIT if above else RefusalReason.PRICE_BELOW_LIMIT,
        detail=f"price {price} is outside the price limit {low} to {high} (mark {mark})",
        limits=(low, high),
    )


def _levels(
    engine: MatchingEngine, side: Side, enough: Callable[[list[BookLevel]], bool]
) -> list[BookLevel]:
    """The opposite side's levels, best first, read only as deep as ``enough`` needs."""
    for limit in (20, 200, None):
        bids, asks = engine.depth(limit)
        levels = list(asks if side is Side.BUY else bids)
        if limit is None or len(levels) < limit or enough(levels):
            return levels
    raise AssertionError("unreachable")


def sweep_price(engine: MatchingEngine, side: Side, qty: Decimal) -> Decimal | None:
    """The worst price an incoming ``side`` order of ``qty`` reaches on the book now.

    When the opposite side holds less than ``qty``, its farthest price.
    ``None`` when the opposite side is empty.
    """
    levels = _levels(engine, side, lambda got: sum(lv.qty for lv in got) >= qty)
    if not levels:
        return None
    total = Decimal(0)
    for level in levels:
        total += level.qty
        if total >= qty:
            return level.price
    return levels[-1].price


def hold_price(worst: Decimal, tick: Decimal, side: Side) -> Decimal:
    """The price a market order holds funds at: ``worst`` plus the margin for a buy.

    Rounded up to the tick grid. A sell holds its base quantity (spot) or the
    margin at the best price it may get, so it takes no margin.
    """
    if side is Side.SELL:
        return worst
    raised = worst * (Decimal(1) + MARKET_HOLD_MARGIN)
    return (raised / tick).to_integral_value(rounding=ROUND_CEILING) * tick


def base_for_quote(
    engine: MatchingEngine, inst: SimInstrument, side: Side, quote_qty: Decimal
) -> Decimal | Refusal:
    """The base quantity a market order for ``quote_qty`` of the quote asset buys or sells
    against the book now (rounded down to the lot step)."""
    if not quote_qty.is_finite() or quote_qty <= 0:
        return Refusal(
            reason=RefusalReason.BAD_PARAMETER,
            detail=f"quote quantity {quote_qty} is not positive",
        )
    levels = _levels(
        engine,
        side,
        lambda got: sum(lv.price * lv.qty for lv in got) * inst.contract_size >= quote_qty,
    )
    if not levels:
        return Refusal(
            reason=RefusalReason.NO_LIQUIDITY, detail="the opposite side of the book is empty"
        )
    left, base = quote_qty, Decimal(0)
    for level in levels:
        value = level.price * level.qty * inst.contract_size
        if value >= left:
            base += left / (level.price * inst.contract_size)
            left = Decimal(0)
            break
        base += level.qty
        left -= value
    lots = (base / inst.lot_step).to_integral_value(rounding=ROUND_DOWN)
    return lots * inst.lot_step
