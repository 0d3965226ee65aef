"""JSON conversion of every model value: exact round-trip, Decimals as strings."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import attrs
import cattrs
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connector.model as model
from connector.model import (
    BookLevel,
    BookState,
    Side,
    Symbol,
    Trade,
    converter,
    structure,
    unstructure,
)
from connector.model.market import VenueLevel
from tests.model.strategies import values_of

MODEL_CLASSES = sorted(
    (
        obj
        for name in model.__all__
        if isinstance(obj := getattr(model, name), type)
        and (attrs.has(obj) or issubclass(obj, msgspec.Struct) or obj is BookLevel)
    ),
    key=lambda cls: cls.__name__,
)


def test_every_exported_value_class_is_covered() -> None:
    names = {cls.__name__ for cls in MODEL_CLASSES}

    assert {"BookLevel", "Symbol", "Instrument", "Order", "OrderFilled", "Ticker"} <= names
    assert len(MODEL_CLASSES) >= 25


def json_round_trip(value: object) -> tuple[object, object]:
    data = json.loads(json.dumps(unstructure(value)))
    return data, structure(data, type(value))


def assert_no_floats(data: object) -> None:
    if isinstance(data, dict):
        for item in data.values():
            assert_no_floats(item)
    elif isinstance(data, list):
        for item in data:
            assert_no_floats(item)
    else:
        assert not isinstance(data, float), data


def assert_decimals_are_exact_strings(value: object, data: object) -> None:
    """Every Decimal in ``value`` is its exact text in positional notation (no
    exponent, trailing zeros kept) at the same place in ``data``."""
    if isinstance(value, Decimal):
        assert isinstance(data, str) and "E" not in data.upper()
        assert format(value, "f") == data and Decimal(data) == value
    elif isinstance(value, BookLevel):
        assert isinstance(data, list)
        assert_decimals_are_exact_strings(value.price, data[0])
        assert_decimals_are_exact_strings(value.qty, data[1])
    elif isinstance(value, Symbol):
        assert str(value) == data
    elif isinstance(value, tuple):
        assert isinstance(data, list)
        for item, item_data in zip(value, data, strict=True):
            assert_decimals_are_exact_strings(item, item_data)
    elif attrs.has(type(value)) or isinstance(value, msgspec.Struct):
        assert isinstance(data, dict)
        for name in data:
            assert_decimals_are_exact_strings(getattr(value, name), data[name])


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda cls: cls.__name__)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_model_value_round_trips_through_json(cls: type, data: st.DataObject) -> None:
    value = data.draw(values_of(cls))

    json_data, back = json_round_trip(value)

    assert value == back
    assert type(value) is type(back)
    assert_no_floats(json_data)
    assert_decimals_are_exact_strings(value, json_data)


def test_trade_unstructures_to_plain_json_values() -> None:
    trade = Trade(
        venue="binance",
        market=model.Market.SPOT,
        symbol=Symbol.parse("BTC-USDT-SPOT"),
        trade_id="12345",
        price=Decimal("60000.10"),
        qty=Decimal("0.00100"),
        aggressor=Side.SELL,
        ts_event_ns=1_700_000_000_000_000_000,
        ts_recv_ns=1_700_000_000_000_000_001,
    )

    assert {
        "venue": "binance",
        "market": "spot",
        "symbol": "BTC-USDT-SPOT",
        "trade_id": "12345",
        "price": "60000.10",
        "qty": "0.00100",
        "aggressor": "sell",
        "ts_event_ns": 1_700_000_000_000_000_000,
        "ts_recv_ns": 1_700_000_000_000_000_001,
    } == unstructure(trade)


def test_book_level_is_a_price_qty_pair_of_strings() -> None:
    assert ["100.50", "0"] == unstructure(BookLevel(Decimal("100.50"), Decimal("0")))
    assert BookLevel(Decimal("1.5"), Decimal("2")) == structure(["1.5", 2], BookLevel)


def test_symbol_and_date_unstructure_to_text() -> None:
    assert "BTC-USD-FUT-20250328" == unstructure(Symbol.parse("BTC-USD-FUT-20250328"))
    assert "2025-03-28" == converter.unstructure(dt.date(2025, 3, 28))
    assert dt.date(2025, 3, 28) == structure("2025-03-28", dt.date)


def test_book_state_round_trips_with_and_without_reason() -> None:
    for state in (BookState.VALID, BookState.invalid("gap"), BookState.syncing()):
        assert state == json_round_trip(state)[1]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (0.1, "refusing float 0.1 for a Decimal field"),
        ("abc", "'abc' is not a decimal number"),
        ("NaN", "'NaN' is not a finite decimal number"),
        ("Infinity", "'Infinity' is not a finite decimal number"),
    ],
)
def test_bad_decimal_input_is_refused(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        structure(raw, Decimal)


def test_bad_book_level_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a \\[price, qty\\] pair"):
        structure(["1"], BookLevel)


def test_float_inside_a_model_value_is_refused() -> None:
    trade_data = {
        "venue": "okx",
        "market": "spot",
        "symbol": "BTC-USDT-SPOT",
        "trade_id": "1",
        "price": 60000.1,
        "qty": "2",
        "aggressor": None,
    }

    with pytest.raises(cattrs.ClassValidationError) as info:
        structure(trade_data, Trade)

    assert ["refusing float 60000.1 for a Decimal field: send it as a string"] == [
        str(exc) for exc in info.value.exceptions
    ]


def test_bad_venue_level_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a \\[venue, price, qty\\] triple"):
        structure(["1", "2"], VenueLevel)
    assert VenueLevel("okx", Decimal("1.5"), Decimal("2")) == structure(
        ["okx", "1.5", "2"], VenueLevel
    )
