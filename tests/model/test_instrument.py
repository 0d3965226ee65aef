"""Instrument filters: quantizing prices and quantities, and each order check."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_UP, Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import Instrument, InstrumentStatus, Market, Symbol

D = Decimal

SPOT = Instrument(
    venue="binance",
    symbol=Symbol.parse("BTC-USDT-SPOT"),
    native_id="BTCUSDT",
    market=Market.SPOT,
    tick_size=D("0.01"),
    lot_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("5"),
    max_qty=D("100"),
)

SWAP = Instrument(
    venue="okx",
    symbol=Symbol.parse("BTC-USDT-PERP"),
    native_id="BTC-USDT-SWAP",
    market=Market.SWAP,
    tick_size=D("0.1"),
    lot_step=D("1"),
    min_qty=D("1"),
    min_notional=D("10"),
    contract_size=D("0.01"),
)


# --------------------------------------------------------------------------- quantize_price


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("100.00", "100.00"),
        ("100.004", "100.00"),
        ("100.006", "100.01"),
        ("100.005", "100.00"),  # half-even: 10000.5 ticks -> 10000
        ("100.015", "100.02"),  # half-even: 10001.5 ticks -> 10002
        ("100", "100.00"),
    ],
)
def test_quantize_price_rounds_half_even_to_the_tick(price: str, expected: str) -> None:
    result = SPOT.quantize_price(D(price))

    assert D(expected) == result
    assert D(expected).as_tuple() == result.as_tuple()


def test_quantize_price_honours_the_rounding_asked_for() -> None:
    assert D("100.01") == SPOT.quantize_price(D("100.001"), ROUND_UP)
    assert D("100.00") == SPOT.quantize_price(D("100.009"), ROUND_DOWN)
    assert D("-100.00") == SPOT.quantize_price(D("-100.001"), ROUND_CEILING)


def test_quantize_price_with_a_tick_that_is_not_a_power_of_ten() -> None:
    instrument = attrs.evolve(SPOT, tick_size=D("0.5"))

    assert D("10.5") == instrument.quantize_price(D("10.26"))
    assert D("10.0") == instrument.quantize_price(D("10.24"))


def test_quantize_price_with_an_integer_tick() -> None:
    instrument = attrs.evolve(SPOT, tick_size=D("5"))

    assert D("10") == instrument.quantize_price(D("12"))
    assert D("15") == instrument.quantize_price(D("13"))


@settings(max_examples=200, deadline=None)
@given(
    price=st.decimals(min_value=D("0.00000001"), max_value=D("1000000"), places=8),
    tick=st.sampled_from([D("0.00000001"), D("0.0001"), D("0.01"), D("0.5"), D("1"), D("25")]),
)
def test_quantized_price_is_the_nearest_tick_multiple(price: Decimal, tick: Decimal) -> None:
    instrument = attrs.evolve(SPOT, tick_size=tick)

    result = instrument.quantize_price(price)

    assert D(0) == result % tick
    assert abs(result - price) <= tick / 2


# --------------------------------------------------------------------------- quantize_qty


@pytest.mark.parametrize(
    ("qty", "expected"),
    [("0.0019", "0.001"), ("0.001", "0.001"), ("1.2345", "1.234"), ("0.0009", "0.000")],
)
def test_quantize_qty_rounds_down_to_the_lot_step(qty: str, expected: str) -> None:
    result = SPOT.quantize_qty(D(qty))

    assert D(expected) == result
    assert D(expected).as_tuple() == result.as_tuple()


def test_quantize_qty_honours_the_rounding_asked_for() -> None:
    assert D("0.002") == SPOT.quantize_qty(D("0.0011"), ROUND_UP)


@settings(max_examples=200, deadline=None)
@given(
    qty=st.decimals(min_value=D("0"), max_value=D("100000"), places=8),
    step=st.sampled_from([D("0.00000001"), D("0.001"), D("0.1"), D("1"), D("10")]),
)
def test_quantized_qty_never_exceeds_the_request(qty: Decimal, step: Decimal) -> None:
    instrument = attrs.evolve(SPOT, lot_step=step)

    result = instrument.quantize_qty(qty)

    assert D(0) == result % step
    assert qty - step < result <= qty


# --------------------------------------------------------------------------- check_order


def test_order_that_passes_every_filter_has_no_problems() -> None:
    assert () == SPOT.check_order(D("0.010"), D("60000.00"))
    assert () == SWAP.check_order(D("2"), D("60000.1"))


def test_order_on_a_halted_instrument_is_refused() -> None:
    halted = attrs.evolve(SPOT, status=InstrumentStatus.HALTED)

    assert ("BTC-USDT-SPOT is halted on binance",) == halted.check_order(D("1"), D("100"))


@pytest.mark.parametrize("qty", ["0", "-1"])
def test_non_positive_qty_is_refused(qty: str) -> None:
    assert (f"qty {qty} must be positive",) == SPOT.check_order(D(qty), D("100"))


def test_qty_below_the_minimum_is_refused() -> None:
    instrument = attrs.evolve(SPOT, min_qty=D("0.01"), min_notional=D(0))

    assert ("qty 0.005 is below the minimum 0.01",) == instrument.check_order(D("0.005"), D("100"))


def test_qty_above_the_maximum_is_refused() -> None:
    assert ("qty 101 is above the maximum 100",) == SPOT.check_order(D("101"), D("100"))


def test_qty_off_the_lot_step_is_refused() -> None:
    assert ("qty 0.0015 is not a multiple of the lot step 0.001",) == SPOT.check_order(
        D("0.0015"), D("60000")
    )


@pytest.mark.parametrize("price", ["0", "-5"])
def test_non_positive_price_is_refused(price: str) -> None:
    assert (f"price {price} must be positive",) == SPOT.check_order(D("1"), D(price))


def test_price_off_the_tick_is_refused() -> None:
    assert ("price 100.005 is not a multiple of the tick size 0.01",) == SPOT.check_order(
        D("1"), D("100.005")
    )


def test_notional_below_the_minimum_is_refused() -> None:
    assert ("notional 4.999 is below the minimum 5",) == SPOT.check_order(D("0.001"), D("4999"))


def test_notional_counts_the_contract_size() -> None:
    # 1 contract * 0.01 BTC * 999.9 = 9.999 < 10; the same order without the multiplier passes.
    assert ("notional 9.999 is below the minimum 10",) == SWAP.check_order(D("1"), D("999.9"))
    assert () == attrs.evolve(SWAP, contract_size=D(1)).check_order(D("1"), D("999.9"))


def test_market_order_skips_price_and_notional_checks() -> None:
    assert () == SPOT.check_order(D("0.001"), None)


def test_every_broken_filter_is_reported_together() -> None:
    halted = attrs.evolve(SPOT, status=InstrumentStatus.DELISTED)

    problems = halted.check_order(D("0.0005"), D("1.001"))

    assert (
        "BTC-USDT-SPOT is delisted on binance",
        "qty 0.0005 is below the minimum 0.001",
        "qty 0.0005 is not a multiple of the lot step 0.001",
        "price 1.001 is not a multiple of the tick size 0.01",
        "notional 0.0005005 is below the minimum 5",
    ) == problems
