"""Normalise and validate orders against an instrument's filters (sans-I/O).

Step 1 of the command path (design.md section 6). Enums may come as
themselves or as their string values (``"buy"``, ``"limit"``, ``"post_only"``);
quantities and prices as ``Decimal``, ``int`` or decimal text (never ``float``:
binary fractions are not prices). Then:

- **quantize**: a quantity must be a whole number of lots (of contracts, on a
  contract instrument, in base units): any other is refused, never rounded (an
  order of another size than asked is not the caller's order); it is only
  written at the lot's precision. A limit price rounds to the tick on the
  *passive* side (a buy down, a sell up: never a worse price than asked);
- **check** the filters on the result, each problem named by its filter:
  ``status``, ``inverse`` (a contract sized in USD has no base quantity),
  ``price`` (a limit needs one, a market order takes none),
  ``time_in_force``, ``tick_size``, ``lot_step``, ``min_qty``, ``max_qty`` (a
  post-only order's own maximum where the venue allows more: Bybit spot),
  ``max_market_qty`` (a market order's own maximum, where the venue sets one),
  ``min_notional`` (price x qty x contract size; a market order is checked
  only when the caller passes a reference price; a reduce-only order is not
  checked where the instrument says the venue spares it,
  ``Instrument.reduce_only_exempt_from_min_notional``: Binance USDⓈ-M and Bybit
  linear; OKX lists no minimum order value; checked 2026-12-06).

All problems are collected and raised as one
:class:`~connector.errors.InvalidOrder`: its message names the first filter,
``violations`` lists each as ``"<filter>: <what>"``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, InvalidOperation
from typing import TypeVar

from connector.errors import InvalidOrder
from connector.model.instrument import Instrument, InstrumentStatus
from connector.model.symbols import SymbolKind
from connector.model.trading import AmendOrder, Order, OrderType, PlaceOrder, Side, TimeInForce

__all__ = ["as_decimal", "normalize_amend", "normalize_place", "place_order"]

_ZERO = Decimal(0)

Number = Decimal | int | str
_E = TypeVar("_E", Side, OrderType, TimeInForce)


def as_decimal(value: Number, field: str) -> Decimal:
    """``value`` as a finite Decimal.

    Raises:
        InvalidOrder: a float, or text that is not a finite decimal number.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or not isinstance(value, int | str):
        raise _invalid(f"{field}: {value!r} is not a decimal (pass Decimal, int or text)")
    else:
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise _invalid(f"{field}: {value!r} is not a decimal number") from None
    if not result.is_finite():
        raise _invalid(f"{field}: {value!r} is not a finite number")
    return result


def _enum(cls: type[_E], value: _E | str, field: str) -> _E:
    if isinstance(value, cls):
        return value  # a member already (the enums are str subclasses: no lookup by value)
    try:
        return cls(value.lower() if isinstance(value, str) else value)
    except ValueError:
        allowed = ", ".join(member.value for member in cls)
        raise _invalid(f"{field}: {value!r} is not one of {allowed}") from None


def place_order(
    instrument: Instrument,
    *,
    side: Side | str,
    type: OrderType | str,
    qty: Number,
    client_order_id: str,
    price: Number | None = None,
    time_in_force: TimeInForce | str = TimeInForce.GTC,
    reduce_only: bool = False,
    reference_price: Decimal | None = None,
) -> PlaceOrder:
    """Build a normalised, valid :class:`PlaceOrder` for ``instrument`` from loose arguments.

    Args:
        instrument: The instrument whose filters apply.
        side: ``Side`` or ``"buy"``/``"sell"``.
        type: ``OrderType`` or ``"limit"``/``"market"``.
        qty: Quantity in the venue's unit (base, or contracts).
        client_order_id: Our id for the order.
        price: Limit price; ``None`` for a market order.
        time_in_force: ``TimeInForce`` or its value.
        reduce_only: Only reduce a position.
        reference_price: Price used for a market order's notional (a book mid).

    Raises:
        InvalidOrder: naming each filter the order breaks.
    """
    command = PlaceOrder(
        venue=instrument.venue,
        symbol=instrument.symbol,
        side=_enum(Side, side, "side"),
        type=_enum(OrderType, type, "type"),
        qty=as_decimal(qty, "qty"),
        price=None if price is None else as_decimal(price, "price"),
        time_in_force=_enum(TimeInForce, time_in_force, "time_in_force"),
        reduce_only=reduce_only,
        client_order_id=client_order_id,
    )
    return normalize_place(command, instrument, reference_price=reference_price)


def normalize_place(
    command: PlaceOrder, instrument: Instrument, *, reference_price: Decimal | None = None
) -> PlaceOrder:
    """``command`` quantized to the instrument's tick and step, and checked.

    Raises:
        InvalidOrder: naming each filter the order breaks.
    """
    problems: list[str] = []
    if (command.venue, command.symbol) != (instrument.venue, instrument.symbol):
        problems.append(
            f"instrument: order for {command.venue} {command.symbol}, "
            f"filters of {instrument.venue} {instrument.symbol}"
        )
    side = _enum(Side, command.side, "side")
    type_ = _enum(OrderType, command.type, "type")
    tif = _enum(TimeInForce, command.time_in_force, "time_in_force")
    qty = _quantize_qty(command.qty, instrument, problems)
    price: Decimal | None = None
    if type_ is OrderType.LIMIT:
        if command.price is None:
            problems.append("price: a limit order needs a price")
        else:
            price = _quantize_price(command.price, side, instrument, problems)
    else:
        if command.price is not None:
            problems.append("price: a market order takes no price")
        if tif is TimeInForce.POST_ONLY:
            problems.append("time_in_force: a market order cannot be post-only")
        elif tif is TimeInForce.FOK:
            # Binance and OKX take no time in force on a market order and Bybit runs
            # one as IOC ("Market order will always use IOC"): none fills all or nothing.
            problems.append(
                "time_in_force: a market order cannot be fok (the venues run market orders"
                " as IOC); use a limit order with fok"
            )
        cap = instrument.max_market_qty
        if cap is not None and qty > cap:
            problems.append(f"max_market_qty: {qty} is above the market-order maximum {cap}")
    reduce_only: object = command.reduce_only  # a bool by its type; callers pass what they pass
    if not isinstance(reduce_only, bool):
        problems.append(f"reduce_only: {reduce_only!r} is not True or False")
    elif command.reduce_only and instrument.symbol.kind is SymbolKind.SPOT:
        problems.append("reduce_only: spot orders cannot be reduce-only (spot has no positions)")
    notional_price = price if price is not None else reference_price
    _check(
        instrument,
        qty,
        notional_price,
        problems,
        post_only=tif is TimeInForce.POST_ONLY,
        reduce_only=command.reduce_only is True,
    )
    _raise(problems)
    return PlaceOrder(
        venue=command.venue,
        symbol=command.symbol,
        side=side,
        type=type_,
        qty=qty,
        price=price,
        time_in_force=tif,
        reduce_only=command.reduce_only,
        client_order_id=command.client_order_id,
    )


def normalize_amend(command: AmendOrder, instrument: Instrument, order: Order) -> AmendOrder:
    """``command`` quantized and checked as the order it would leave.

    Args:
        command: The amendment; at least one of ``qty`` and ``price``.
        instrument: The order's instrument.
        order: The order as known now (its side, price, filled quantity).

    Raises:
        InvalidOrder: naming each filter the amended order would break, or
            ``status`` for a finished order, ``qty`` below what has filled.
    """
    problems: list[str] = []
    if command.qty is None and command.price is None:
        problems.append("amend: give a new qty, a new price, or both")
    if order.status.is_terminal:
        problems.append(f"status: order {order.client_order_id} is {order.status.value}")
    qty = order.qty if command.qty is None else _quantize_qty(command.qty, instrument, problems)
    price = order.price
    if command.price is not None:
        if order.type is OrderType.MARKET:
            problems.append("price: a market order takes no price")
        else:
            price = _quantize_price(command.price, order.side, instrument, problems)
    if qty <= order.filled_qty and command.qty is not None:
        problems.append(f"qty: {qty} is not above the filled quantity {order.filled_qty}")
    _check(
        instrument,
        qty,
        price,
        problems,
        post_only=order.time_in_force is TimeInForce.POST_ONLY,
        reduce_only=order.reduce_only,
    )
    _raise(problems)
    return AmendOrder(
        venue=command.venue,
        symbol=command.symbol,
        client_order_id=command.client_order_id,
        qty=None if command.qty is None else qty,
        price=None if command.price is None else price,
    )


def _quantize_qty(qty: Decimal, instrument: Instrument, problems: list[str]) -> Decimal:
    qty = as_decimal(qty, "qty")
    if qty <= _ZERO:
        problems.append(f"qty: {qty} must be positive")
        return qty
    try:
        rounded = instrument.quantize_qty(qty, ROUND_DOWN)
    except ArithmeticError:
        problems.append(f"qty: {qty} is too large to count in lots of {instrument.lot_step}")
        return qty
    if rounded != qty:
        problems.append(
            f"lot_step: {qty} is not a whole number of lots of {instrument.lot_step}"
            f" (the nearest below is {rounded})"
        )
        return qty
    return rounded


def _quantize_price(
    price: Decimal, side: Side, instrument: Instrument, problems: list[str]
) -> Decimal:
    price = as_decimal(price, "price")
    if price <= _ZERO:
        problems.append(f"price: {price} must be positive")
        return price
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    try:
        rounded = instrument.quantize_price(price, rounding)
    except ArithmeticError:
        problems.append(f"price: {price} is too large to count in ticks of {instrument.tick_size}")
        return price
    if rounded <= _ZERO:
        problems.append(f"tick_size: {price} rounds to 0 at tick {instrument.tick_size}")
    if instrument.max_price is not None and rounded > instrument.max_price:
        problems.append(f"max_price: {rounded} is above the maximum {instrument.max_price}")
    if instrument.min_price is not None and _ZERO < rounded < instrument.min_price:
        problems.append(f"min_price: {rounded} is below the minimum {instrument.min_price}")
    return rounded


def _check(
    instrument: Instrument,
    qty: Decimal,
    price: Decimal | None,
    problems: list[str],
    *,
    post_only: bool,
    reduce_only: bool,
) -> None:
    if instrument.status is not InstrumentStatus.TRADING:
        problems.append(f"status: {instrument.symbol} is {instrument.status.value}")
    if instrument.inverse:
        problems.append(
            f"inverse: {instrument.symbol} is an inverse contract sized in "
            f"{instrument.symbol.quote}; orders are in base units, which it cannot take"
        )
    if qty > _ZERO:
        if qty < instrument.min_qty:
            problems.append(f"min_qty: {qty} is below the minimum {instrument.min_qty}")
        cap = instrument.max_qty
        if post_only and instrument.max_post_only_qty is not None:
            cap = instrument.max_post_only_qty
        if cap is not None and qty > cap:
            problems.append(f"max_qty: {qty} is above the maximum {cap}")
        spared = reduce_only and instrument.reduce_only_exempt_from_min_notional
        if price is not None and price > _ZERO and not spared:
            try:
                notional = price * qty * instrument.contract_size
            except ArithmeticError:  # a size already named too large to count in steps
                return
            if notional < instrument.min_notional:
                problems.append(
                    f"min_notional: {notional} is below the minimum {instrument.min_notional}"
                )


def _invalid(problem: str) -> InvalidOrder:
    return InvalidOrder(f"invalid order: {problem}", (problem,))


def _raise(problems: list[str]) -> None:
    if problems:
        raise InvalidOrder(f"invalid order: {'; '.join(problems)}", tuple(problems))
