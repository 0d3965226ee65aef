"""Canonical symbols: parse and format round-trip, and every invalid form."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.errors import ConfigError, InvalidSymbol
from connector.model import Symbol, SymbolKind
from tests.model.strategies import symbols


@settings(max_examples=200, deadline=None)
@given(symbols())
def test_symbol_text_round_trips_through_parse(symbol: Symbol) -> None:
    text = str(symbol)

    assert symbol == Symbol.parse(text)
    assert text == str(Symbol.parse(text))


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"[A-Z0-9]{1,20}-[A-Z0-9]{1,20}-(SPOT|PERP)", fullmatch=True)
    | st.from_regex(
        r"[A-Z0-9]{1,20}-[A-Z0-9]{1,20}-FUT-20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])",
        fullmatch=True,
    )
)
def test_valid_text_formats_back_to_itself(text: str) -> None:
    assert text == str(Symbol.parse(text))


def test_symbol_parts_are_parsed() -> None:
    assert Symbol("BTC", "USDT", SymbolKind.SPOT) == Symbol.parse("BTC-USDT-SPOT")
    assert Symbol("ETH", "USDT", SymbolKind.PERP) == Symbol.parse("ETH-USDT-PERP")
    assert Symbol("BTC", "USD", SymbolKind.FUT, dt.date(2025, 3, 28)) == Symbol.parse(
        "BTC-USD-FUT-20250328"
    )


def test_symbols_order_by_base_then_quote() -> None:
    texts = ["ETH-USDT-SPOT", "BTC-USDT-PERP", "BTC-USDC-SPOT"]

    ordered = sorted(Symbol.parse(t) for t in texts)

    assert ["BTC-USDC-SPOT", "BTC-USDT-PERP", "ETH-USDT-SPOT"] == [str(s) for s in ordered]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("BTC-USDT", "expected BASE-QUOTE-TYPE or BASE-QUOTE-FUT-YYYYMMDD"),
        ("BTCUSDT", "expected BASE-QUOTE-TYPE or BASE-QUOTE-FUT-YYYYMMDD"),
        ("BTC-USD-FUT-20250328-X", "expected BASE-QUOTE-TYPE or BASE-QUOTE-FUT-YYYYMMDD"),
        ("", "expected BASE-QUOTE-TYPE or BASE-QUOTE-FUT-YYYYMMDD"),
        ("BTC-USDT-SWAP", "type 'SWAP' must be one of SPOT, PERP, FUT"),
        ("BTC-USDT-spot", "type 'spot' must be one of SPOT, PERP, FUT"),
        ("btc-USDT-SPOT", "base asset 'btc' must be 1-20 upper-case letters or digits"),
        ("BTC--SPOT", "quote asset '' must be 1-20 upper-case letters or digits"),
        ("B_C-USDT-PERP", "base asset 'B_C' must be 1-20 upper-case letters or digits"),
        ("A" * 21 + "-USDT-SPOT", "base asset '" + "A" * 21 + "' must be 1-20 upper-case"),
        ("BTC-USDT-SPOT-20250328", "only FUT symbols carry an expiry"),
        ("BTC-USD-FUT", "FUT needs an expiry"),
        ("BTC-USD-FUT-2025-03", "expected BASE-QUOTE-TYPE or BASE-QUOTE-FUT-YYYYMMDD"),
        ("BTC-USD-FUT-250328", "expiry '250328' must be YYYYMMDD"),
        ("BTC-USD-FUT-2025032X", "expiry '2025032X' must be YYYYMMDD"),
        ("BTC-USD-FUT-20250230", "expiry '20250230' is not a calendar date"),
    ],
)
def test_invalid_symbol_text_names_the_text_and_the_rule(text: str, rule: str) -> None:
    with pytest.raises(InvalidSymbol) as info:
        Symbol.parse(text)

    message = str(info.value)
    assert message.startswith(f"symbol {text!r}: ")
    assert rule in message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("BTC-USDT", "did you mean 'BTC-USDT-SPOT' or 'BTC-USDT-PERP'?"),
        ("BTC/USDT", "did you mean 'BTC-USDT-SPOT' or 'BTC-USDT-PERP'?"),
        ("BTC/USDT:USDT", "did you mean 'BTC-USDT-PERP'?"),  # ccxt's swap
        ("BTC-USDT-SWAP", "did you mean 'BTC-USDT-PERP'?"),  # OKX's swap
        ("btc-usdt-perp", "did you mean 'BTC-USDT-PERP'?"),
        ("btc-USDT-SPOT", "did you mean 'BTC-USDT-SPOT'?"),
        ("eth-usd-fut-20250328", "did you mean 'ETH-USD-FUT-20250328'?"),
    ],
)
def test_a_symbol_written_as_elsewhere_names_the_canonical_one(text: str, hint: str) -> None:
    with pytest.raises(InvalidSymbol) as info:
        Symbol.parse(text)

    assert str(info.value).endswith("; " + hint)


@pytest.mark.parametrize("text", ["BTCUSDT", "BTC-USDT-FUTURES", "", "BTC-USD-FUT-250328"])
def test_no_hint_when_no_canonical_symbol_is_near(text: str) -> None:
    with pytest.raises(InvalidSymbol) as info:
        Symbol.parse(text)

    assert "did you mean" not in str(info.value)


def test_invalid_symbol_is_a_value_error_and_a_config_error() -> None:
    with pytest.raises(ValueError, match="BTC-USDT"):
        Symbol.parse("BTC-USDT")
    with pytest.raises(ConfigError, match="BTC-USDT"):
        Symbol.parse("BTC-USDT")


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidSymbol, match="symbol 42: expected text like 'BTC-USDT-SPOT'"):
        Symbol.parse(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (("btc", "USDT", SymbolKind.SPOT, None), "base asset 'btc'"),
        (("BTC", "", SymbolKind.PERP, None), "quote asset ''"),
        (("BTC", "USD", SymbolKind.FUT, None), "an expiry is required for FUT and only for FUT"),
        (
            ("BTC", "USD", SymbolKind.SPOT, dt.date(2025, 3, 28)),
            "an expiry is required for FUT and only for FUT",
        ),
    ],
)
def test_constructing_an_invalid_symbol_raises(
    args: tuple[str, str, SymbolKind, dt.date | None], rule: str
) -> None:
    with pytest.raises(InvalidSymbol, match=rule):
        Symbol(*args)


def test_expiry_before_year_1000_round_trips() -> None:
    symbol = Symbol("BTC", "USD", SymbolKind.FUT, dt.date(999, 1, 1))

    assert symbol == Symbol.parse(str(symbol))


def test_parsing_the_same_text_again_gives_the_same_value_and_bad_text_fails_every_time() -> None:
    first = Symbol.parse("ETH-USDC-PERP")
    assert first is Symbol.parse("ETH-USDC-PERP")
    assert Symbol("ETH", "USDC", SymbolKind.PERP) == first
    for _ in range(2):
        with pytest.raises(InvalidSymbol):
            Symbol.parse("eth-usdc-perp")
    with pytest.raises(InvalidSymbol):
        Symbol.parse(["BTC", "USDT", "PERP"])  # type: ignore[arg-type]
