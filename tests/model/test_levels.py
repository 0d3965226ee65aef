"""Venue number text: bounded interning caches, and level arrays left as JSON text."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import BookLevel, BookState, BookUpdate, Market, Symbol, structure, unstructure
from connector.model.levels import (
    DECIMAL_CACHE_SIZE,
    JsonLevels,
    decimal_cache_statistics,
    decimal_price,
    decimal_qty,
    levels_from_raw,
)


def _fresh(tag: str, n: int) -> list[str]:
    """``n`` decimal strings no other test uses (a random walk leaving prices behind)."""
    return [f"{i}.{tag}" for i in range(1, n + 1)]


def test_price_cache_never_holds_more_than_two_generations() -> None:
    for text in _fresh("1357", 5 * DECIMAL_CACHE_SIZE):
        decimal_price(text)

    stats = decimal_cache_statistics()

    assert 2 * DECIMAL_CACHE_SIZE == stats.limit
    assert stats.prices <= stats.limit
    assert stats.price_generations >= 4


def test_qty_cache_never_holds_more_than_two_generations() -> None:
    before = decimal_cache_statistics().qty_generations
    for text in _fresh("2468", 5 * DECIMAL_CACHE_SIZE):
        decimal_qty(text)

    stats = decimal_cache_statistics()

    assert stats.qtys <= stats.limit
    assert stats.qty_generations - before >= 4


def test_price_in_use_stays_interned_across_generations() -> None:
    first = decimal_price("61800.25")
    for i, text in enumerate(_fresh("9753", 6 * DECIMAL_CACHE_SIZE)):
        decimal_price(text)
        if i % (DECIMAL_CACHE_SIZE // 4) == 0:
            assert first is decimal_price("61800.25")

    assert first is decimal_price("61800.25")
    assert first is levels_from_raw([("61800.25", "1")])[0].price


def test_price_left_behind_for_two_generations_is_forgotten_and_parsed_again() -> None:
    first = decimal_price("42424.42")
    for text in _fresh("8642", 2 * DECIMAL_CACHE_SIZE + 1):
        decimal_price(text)

    again = decimal_price("42424.42")

    assert Decimal("42424.42") == again
    assert first is not again


def test_invalid_strings_still_raise_after_generation_changes_and_are_not_cached() -> None:
    for text in _fresh("1111", 2 * DECIMAL_CACHE_SIZE + 1):
        decimal_price(text)
    before = decimal_cache_statistics().prices

    with pytest.raises(ValueError):
        decimal_price("0")
    with pytest.raises(ValueError):
        decimal_qty("-1")
    with pytest.raises(ValueError):
        levels_from_raw([("abc", "1")])

    assert before == decimal_cache_statistics().prices


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value="0.01", max_value="99999", places=2),
            st.decimals(min_value="0", max_value="999", places=3),
        ),
        max_size=40,
    )
)
def test_interned_levels_equal_the_parsed_strings(pairs: list[tuple[Decimal, Decimal]]) -> None:
    raw = [(str(p), str(q)) for p, q in pairs]

    levels = levels_from_raw(raw)

    assert [(Decimal(p), Decimal(q)) for p, q in raw] == [(lv.price, lv.qty) for lv in levels]


# -- JsonLevels ------------------------------------------------------------------


def test_json_levels_read_as_validated_levels_in_the_venues_order() -> None:
    levels = JsonLevels(b'[["61800.20","0.5"],["61800.1","0","x","1"]]')
    expected = (
        BookLevel(Decimal("61800.20"), Decimal("0.5")),
        BookLevel(Decimal("61800.1"), Decimal(0)),
    )
    assert expected == levels
    assert levels == list(expected)
    assert expected[1] == levels[1]
    assert 2 == len(levels)
    assert hash(expected) == hash(levels)
    assert [("61800.20", "0.5"), ("61800.1", "0")] == levels.texts()


def test_json_levels_with_an_impossible_number_raise_value_error_when_read() -> None:
    levels = JsonLevels('[["-1","1"]]')
    with pytest.raises(ValueError, match="not a decimal number: '-1'"):
        list(levels)


def test_book_update_with_json_levels_round_trips_through_the_converter() -> None:
    update = BookUpdate(
        venue="binance",
        market=Market.LINEAR,
        symbol=Symbol.parse("BTC-USDT-PERP"),
        seq=7,
        state=BookState.VALID,
        bids=JsonLevels(b'[["100.50","2"]]'),
        asks=JsonLevels(b"[]"),
    )
    data = unstructure(update)
    assert [["100.50", "2"]] == data["bids"]
    assert update == structure(json.loads(json.dumps(data)), BookUpdate)


def test_levels_from_raw_reads_the_first_two_fields_of_longer_levels() -> None:
    assert (BookLevel(Decimal("1.5"), Decimal(2)),) == levels_from_raw([["1.5", "2", "0", "3"]])


def test_decimal_cache_returns_the_same_object_for_the_same_text() -> None:
    assert decimal_price("12345.67") is decimal_price("12345.67")
    assert Decimal(0) == decimal_qty("0.000")
    with pytest.raises(ValueError, match="positive"):
        decimal_price("0.0")
