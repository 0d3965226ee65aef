"""The demo's end check: what it calls a difference between local state and the venue's."""

from __future__ import annotations

from decimal import Decimal

from connector.cli.demo_check import (
    VenueOrder,
    compare_balances,
    compare_orders,
    compare_positions,
)
from connector.model import Order, OrderStatus, OrderType, Side, Symbol

PERP = Symbol.parse("BTC-USDT-PERP")


def _ours(cid: str, status: OrderStatus, qty: str = "0.01", filled: str = "0") -> Order:
    return Order(
        venue="okx",
        symbol=PERP,
        client_order_id=cid,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=Decimal(60000),
        status=status,
        filled_qty=Decimal(filled),
    )


def _theirs(cid: str, status: str, qty: str = "1", filled: str = "0") -> VenueOrder:
    return VenueOrder(
        client_order_id=cid, status=status, qty=Decimal(qty), filled_qty=Decimal(filled)
    )


def test_orders_that_agree_leave_nothing_even_in_contracts() -> None:
    # OKX swap: 1 contract of 0.01 BTC at the venue, 0.01 BTC here; half filled on both sides.
    held = [_theirs("a", "partially_filled", "2", "1"), _theirs("b", "canceled")]
    local = [
        _ours("a", OrderStatus.PARTIALLY_FILLED, "0.02", "0.01"),
        _ours("b", OrderStatus.CANCELED),
        _ours("c", OrderStatus.REJECTED),  # refused: the venue never held it
    ]

    assert [] == compare_orders("okx", held, local)


def test_each_order_difference_is_named() -> None:
    held = [
        _theirs("missing", "new"),
        _theirs("status", "canceled"),
        _theirs("filled", "filled", "1", "1"),
        _theirs("twice", "new"),
        _theirs("twice", "new"),
    ]
    local = [
        _ours("status", OrderStatus.NEW),
        _ours("filled", OrderStatus.FILLED, "0.01", "0.005"),
        _ours("twice", OrderStatus.NEW),
        _ours("invented", OrderStatus.NEW),
    ]

    assert [
        "okx order twice: placed twice",
        "okx order missing: the venue has it (new), we do not",
        "okx order status: status new here, canceled at the venue",
        "okx order filled: filled 0.005 of 0.01 here, 1 of 1 at the venue",
        "okx order invented: new here, unknown to the venue",
    ] == compare_orders("okx", held, local)


def test_positions_compare_signed_sizes_and_ignore_flat_ones() -> None:
    eth = Symbol.parse("ETH-USDT-PERP")
    assert [] == compare_positions(
        "bybit", {PERP: Decimal("-0.02")}, {PERP: Decimal("-0.02"), eth: Decimal(0)}
    )
    assert [
        "bybit position BTC-USDT-PERP: 0.02 here, -0.02 at the venue",
        "bybit position ETH-USDT-PERP: 0 here, 0.1 at the venue",
    ] == compare_positions(
        "bybit", {PERP: Decimal("-0.02"), eth: Decimal("0.1")}, {PERP: Decimal("0.02")}
    )


def test_balances_agree_within_the_wire_precision_only() -> None:
    theirs = {"USDT": Decimal("99999.1234567891"), "BTC": Decimal("1")}
    assert [] == compare_balances(
        "binance", theirs, {"USDT": Decimal("99999.12345679"), "BTC": Decimal(1)}
    )
    assert [
        "binance balance BTC: 0 here, 1 at the venue",
        "binance balance USDT: 99999.12345 here, 99999.1234567891 at the venue",
    ] == compare_balances("binance", theirs, {"USDT": Decimal("99999.12345")})
