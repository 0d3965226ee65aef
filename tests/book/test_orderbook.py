from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from connector.book.orderbook import OrderBook
from connector.model import BookLevel
from connector.model.levels import JsonLevels, levels_from_raw
from connector.venues.okx import book_checksum
from tests.conftest import fixture_path
from tests.strategies import ModelBook, book_ops

pytestmark = pytest.mark.parametrize("engine", ["native", "python"])


def lv(price: str, qty: str) -> BookLevel:
    return BookLevel(Decimal(price), Decimal(qty))


def make_book(engine: str) -> OrderBook:
    book = OrderBook(engine=engine)
    book.load_snapshot(
        [lv("100", "1"), lv("99.5", "2"), lv("98", "3")],
        [lv("101", "4"), lv("102.5", "5"), lv("103", "6")],
    )
    return book


def test_orderbook_snapshot_sorts_bids_descending_and_asks_ascending(engine: str) -> None:
    book = OrderBook(engine=engine)
    book.load_snapshot(
        [lv("98", "3"), lv("100", "1"), lv("99.5", "2")],
        [lv("103", "6"), lv("101", "4"), lv("102.5", "5")],
    )
    assert [lv("100", "1"), lv("99.5", "2"), lv("98", "3")] == book.bids()
    assert [lv("101", "4"), lv("102.5", "5"), lv("103", "6")] == book.asks()
    assert lv("100", "1") == book.best_bid()
    assert lv("101", "4") == book.best_ask()
    assert (3, 3) == (book.bid_count, book.ask_count)


def test_orderbook_bids_and_asks_return_only_the_best_n(engine: str) -> None:
    book = make_book(engine)
    assert [lv("100", "1"), lv("99.5", "2")] == book.bids(2)
    assert [lv("101", "4")] == book.asks(1)
    assert 3 == len(book.bids(10))
    assert [] == book.asks(0)


def test_orderbook_apply_sets_adds_and_removes_levels(engine: str) -> None:
    book = make_book(engine)
    book.apply([lv("99.5", "7"), lv("100.5", "1"), lv("98", "0")], [lv("101", "0")])
    assert [lv("100.5", "1"), lv("100", "1"), lv("99.5", "7")] == book.bids()
    assert lv("102.5", "5") == book.best_ask()


def test_orderbook_removing_an_absent_level_is_a_no_op(engine: str) -> None:
    book = make_book(engine)
    book.apply([lv("50", "0")], [lv("150", "0.000")])
    assert make_book(engine).bids() == book.bids()
    assert make_book(engine).asks() == book.asks()


def test_orderbook_prices_with_different_text_are_the_same_level(engine: str) -> None:
    book = OrderBook(engine=engine)
    book.load_snapshot_raw([("61800.2", "1")], [])
    book.apply_raw([("61800.20000000", "2")], [])
    assert [lv("61800.2", "2")] == book.bids()
    assert 1 == book.bid_count


def test_orderbook_orders_small_prices_exactly(engine: str) -> None:
    book = OrderBook(engine=engine)
    book.load_snapshot_raw([("0.00001234", "1"), ("1e-5", "1"), ("0.00001233", "1")], [])
    assert [Decimal("0.00001234"), Decimal("0.00001233"), Decimal("0.00001")] == [
        level.price for level in book.bids()
    ]


def test_orderbook_empty_book_has_no_best_levels_and_is_not_crossed(engine: str) -> None:
    book = OrderBook(engine=engine)
    assert book.best_bid() is None
    assert book.best_ask() is None
    assert not book.is_crossed()
    assert (None, None, False) == book.top()
    assert [] == book.bids()


def test_orderbook_detects_crossed_and_locked_books(engine: str) -> None:
    book = make_book(engine)
    book.apply([lv("101", "1")], [])
    assert book.is_crossed()
    assert (lv("101", "1"), book.best_ask(), True) == book.top()
    book.apply([lv("101", "0"), lv("100.9", "1")], [])
    assert not book.is_crossed()
    assert (lv("100.9", "1"), book.best_ask(), False) == book.top()


def test_orderbook_clear_removes_everything(engine: str) -> None:
    book = make_book(engine)
    book.clear()
    assert (0, 0) == (book.bid_count, book.ask_count)


def test_orderbook_snapshot_ignores_zero_quantity_levels(engine: str) -> None:
    book = OrderBook(engine=engine)
    book.load_snapshot([lv("100", "0"), lv("99", "1")], [])
    assert [lv("99", "1")] == book.bids()


def test_orderbook_depth_limit_keeps_only_the_best_levels(engine: str) -> None:
    book = OrderBook(depth_limit=2, engine=engine)
    book.load_snapshot(
        [lv("100", "1"), lv("99.5", "2"), lv("98", "3")],
        [lv("101", "4"), lv("102.5", "5"), lv("103", "6")],
    )
    assert [lv("100", "1"), lv("99.5", "2")] == book.bids()
    assert [lv("101", "4"), lv("102.5", "5")] == book.asks()
    book.apply([lv("100.5", "1")], [lv("100.8", "1")])
    assert [lv("100.5", "1"), lv("100", "1")] == book.bids()
    assert [lv("100.8", "1"), lv("101", "4")] == book.asks()


def test_orderbook_qty_lookup_by_price(engine: str) -> None:
    book = make_book(engine)
    assert Decimal("2") == book.bid_qty(Decimal("99.50"))
    assert book.ask_qty(Decimal("99.5")) is None


@pytest.mark.parametrize(
    ("price", "qty"),
    [("-1", "1"), ("0", "1"), ("abc", "1"), ("NaN", "1"), ("Infinity", "1"), ("1", "-0.5")],
)
def test_orderbook_apply_raw_rejects_impossible_numbers_without_changing_the_book(
    price: str, qty: str, engine: str
) -> None:
    book = make_book(engine)
    with pytest.raises(ValueError, match=r"number|positive"):
        book.apply_raw([("99", "5"), (price, qty)], [])
    assert make_book(engine).bids() == book.bids()


@settings(max_examples=150, deadline=None)
@given(ops=book_ops)
def test_orderbook_equals_a_dict_model_after_any_snapshots_and_changes(
    ops: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]], engine: str
) -> None:
    book = OrderBook(engine=engine)
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
        assert (book.best_bid(), book.best_ask(), False) == book.top()


# Values the compiled engine cannot hold exactly: 19 decimals, 10**20, 24 characters.
BEYOND_NATIVE = ["0.0000000000000000035", "100000000000000000000", "1.00000000000000000000001"]


@pytest.mark.parametrize("text", BEYOND_NATIVE)
def test_orderbook_takes_any_exact_decimal_moving_to_the_python_engine_if_needed(
    engine: str, text: str
) -> None:
    book = OrderBook(depth_limit=3, engine=engine)
    book.load_snapshot(
        JsonLevels(b'[["0.000000000000000003","1"],["2e-18","2"],["1e-18","3"]]'),
        JsonLevels(b"[]"),
    )

    book.apply(JsonLevels(f'[["{text}","7"]]'.encode()), JsonLevels(b"[]"))

    assert "python" == book.engine
    assert lv(text, "7") == book.best_bid()
    assert [Decimal("3e-18"), Decimal("2e-18")] == [level.price for level in book.bids()[1:]]
    assert Decimal("7") == book.bid_qty(Decimal(text))
    # The Python engine keeps validating, all or nothing.
    before = book.bids()
    with pytest.raises(ValueError, match="positive"):
        book.apply([lv("1e-18", "1"), BookLevel(Decimal("0"), Decimal("1"))], [])
    assert before == book.bids()


def test_orderbook_snapshot_beyond_the_native_engine_loads_whole(engine: str) -> None:
    book = OrderBook(engine=engine)
    book.load_snapshot(JsonLevels(b'[["1","1"]]'), JsonLevels(b'[["2","1"]]'))

    book.load_snapshot([lv("0.0000000000000000001", "1"), lv("1", "2")], [lv("3", "1")])

    assert [lv("1", "2"), lv("0.0000000000000000001", "1")] == book.bids()
    assert [lv("3", "1")] == book.asks()


def test_orderbook_refuses_an_unknown_engine(engine: str) -> None:
    with pytest.raises(ValueError, match="engine must be"):
        OrderBook(engine=engine + "-x")
    assert engine == OrderBook(engine=engine).engine


def test_a_book_with_a_unit_reads_base_units_and_checksums_the_venue_text(engine: str) -> None:
    # A real OKX snapshot (levels in contracts) with an OKX linear swap's contract size.
    vector = next(
        v
        for v in json.loads(fixture_path("okx_checksum_vectors.json").read_text())["vectors"]
        if v["id"] == "okx-v5-real-snapshot-BTC-USD-220527"
    )
    unit = Decimal("0.01")
    book = OrderBook(depth_limit=400, engine=engine, unit=unit)
    book.load_snapshot(levels_from_raw(vector["bids_top25"]), levels_from_raw(vector["asks_top25"]))

    price, contracts = vector["bids_top25"][0]
    assert BookLevel(Decimal(price), Decimal(contracts) * unit) == book.best_bid()
    assert [Decimal(q) * unit for _, q in vector["asks_top25"][:3]] == [
        lv.qty for lv in book.asks(3)
    ]
    bid, ask, crossed = book.top()
    assert (bid, ask, crossed) == (book.best_bid(), book.best_ask(), False)
    assert Decimal(contracts) * unit == book.bid_qty(Decimal(price))
    assert vector["expected"] == book_checksum(book)
    assert OrderBook(engine=engine, unit=Decimal(1)).unit is None


def test_a_book_unit_must_be_a_positive_number(engine: str) -> None:
    for unit in (Decimal(0), Decimal(-1), Decimal("NaN")):
        with pytest.raises(ValueError, match="unit"):
            OrderBook(engine=engine, unit=unit)
