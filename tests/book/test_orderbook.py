from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings

from connector.book.orderbook import OrderBook
from connector.model import BookLevel
from connector.model.levels import decimal_price, decimal_qty, levels_from_raw
from tests.strategies import ModelBook, book_ops


def lv(price: str, qty: str) -> BookLevel:
    return BookLevel(Decimal(price), Decimal(qty))


def make_book() -> OrderBook:
    book = OrderBook()
    book.load_snapshot(
        [lv("100", "1"), lv("99.5", "2"), lv("98", "3")],
        [lv("101", "4"), lv("102.5", "5"), lv("103", "6")],
    )
    return book


def test_orderbook_snapshot_sorts_bids_descending_and_asks_ascending() -> None:
    book = OrderBook()
    book.load_snapshot(
        [lv("98", "3"), lv("100", "1"), lv("99.5", "2")],
        [lv("103", "6"), lv("101", "4"), lv("102.5", "5")],
    )
    assert [lv("100", "1"), lv("99.5", "2"), lv("98", "3")] == book.bids()
    assert [lv("101", "4"), lv("102.5", "5"), lv("103", "6")] == book.asks()
    assert lv("100", "1") == book.best_bid()
    assert lv("101", "4") == book.best_ask()
    assert (3, 3) == (book.bid_count, book.ask_count)


def test_orderbook_bids_and_asks_return_only_the_best_n() -> None:
    book = make_book()
    assert [lv("100", "1"), lv("99.5", "2")] == book.bids(2)
    assert [lv("101", "4")] == book.asks(1)
    assert 3 == len(book.bids(10))
    assert [] == book.asks(0)


def test_orderbook_apply_sets_adds_and_removes_levels() -> None:
    book = make_book()
    book.apply([lv("99.5", "7"), lv("100.5", "1"), lv("98", "0")], [lv("101", "0")])
    assert [lv("100.5", "1"), lv("100", "1"), lv("99.5", "7")] == book.bids()
    assert lv("102.5", "5") == book.best_ask()


def test_orderbook_removing_an_absent_level_is_a_no_op() -> None:
    book = make_book()
    book.apply([lv("50", "0")], [lv("150", "0.000")])
    assert make_book().bids() == book.bids()
    assert make_book().asks() == book.asks()


def test_orderbook_prices_with_different_text_are_the_same_level() -> None:
    book = OrderBook()
    book.load_snapshot_raw([("61800.2", "1")], [])
    book.apply_raw([("61800.20000000", "2")], [])
    assert [lv("61800.2", "2")] == book.bids()
    assert 1 == book.bid_count


def test_orderbook_orders_small_prices_exactly() -> None:
    book = OrderBook()
    book.load_snapshot_raw([("0.00001234", "1"), ("1e-5", "1"), ("0.00001233", "1")], [])
    assert [Decimal("0.00001234"), Decimal("0.00001233"), Decimal("0.00001")] == [
        level.price for level in book.bids()
    ]


def test_orderbook_empty_book_has_no_best_levels_and_is_not_crossed() -> None:
    book = OrderBook()
    assert book.best_bid() is None
    assert book.best_ask() is None
    assert not book.is_crossed()
    assert [] == book.bids()


def test_orderbook_detects_crossed_and_locked_books() -> None:
    book = make_book()
    book.apply([lv("101", "1")], [])
    assert book.is_crossed()
    book.apply([lv("101", "0"), lv("100.9", "1")], [])
    assert not book.is_crossed()


def test_orderbook_clear_removes_everything() -> None:
    book = make_book()
    book.clear()
    assert (0, 0) == (book.bid_count, book.ask_count)


def test_orderbook_snapshot_ignores_zero_quantity_levels() -> None:
    book = OrderBook()
    book.load_snapshot([lv("100", "0"), lv("99", "1")], [])
    assert [lv("99", "1")] == book.bids()


def test_orderbook_depth_limit_keeps_only_the_best_levels() -> None:
    book = OrderBook(depth_limit=2)
    book.load_snapshot(
        [lv("100", "1"), lv("99.5", "2"), lv("98", "3")],
        [lv("101", "4"), lv("102.5", "5"), lv("103", "6")],
    )
    assert [lv("100", "1"), lv("99.5", "2")] == book.bids()
    assert [lv("101", "4"), lv("102.5", "5")] == book.asks()
    book.apply([lv("100.5", "1")], [lv("100.8", "1")])
    assert [lv("100.5", "1"), lv("100", "1")] == book.bids()
    assert [lv("100.8", "1"), lv("101", "4")] == book.asks()


def test_orderbook_qty_lookup_by_price() -> None:
    book = make_book()
    assert Decimal("2") == book.bid_qty(Decimal("99.50"))
    assert book.ask_qty(Decimal("99.5")) is None


@pytest.mark.parametrize(
    ("price", "qty"),
    [("-1", "1"), ("0", "1"), ("abc", "1"), ("NaN", "1"), ("Infinity", "1"), ("1", "-0.5")],
)
def test_orderbook_apply_raw_rejects_impossible_numbers_without_changing_the_book(
    price: str, qty: str
) -> None:
    book = make_book()
    with pytest.raises(ValueError, match=r"number|positive"):
        book.apply_raw([("99", "5"), (price, qty)], [])
    assert make_book().bids() == book.bids()


def test_levels_from_raw_reads_the_first_two_fields_of_longer_levels() -> None:
    assert (lv("1.5", "2"),) == levels_from_raw([["1.5", "2", "0", "3"]])


def test_decimal_cache_returns_the_same_object_for_the_same_text() -> None:
    assert decimal_price("12345.67") is decimal_price("12345.67")
    assert Decimal(0) == decimal_qty("0.000")
    with pytest.raises(ValueError, match="positive"):
        decimal_price("0.0")


@settings(max_examples=150, deadline=None)
@given(book_ops)
def test_orderbook_equals_a_dict_model_after_any_snapshots_and_changes(
    ops: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]],
) -> None:
    book = OrderBook()
    model = ModelBook()
    for kind, bids, asks in ops:
        if kind == "snapshot":
            book.load_snapshot_raw(bids, asks)
            model.load(bids, asks)
        else:
            book.apply_raw(bids, asks)
            model.apply(bids, asks)
        assert model.bid_levels() == book.bids()
        assert model.ask_levels() == book.asks()
        assert model.bid_levels()[:3] == book.bids(3)
        assert model.ask_levels()[:3] == book.asks(3)
        assert (model.bid_levels() or [None])[0] == book.best_bid()
        assert (model.ask_levels() or [None])[0] == book.best_ask()
        assert (len(model.bids), len(model.asks)) == (book.bid_count, book.ask_count)
        assert not book.is_crossed()
