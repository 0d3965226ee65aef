"""The two book engines, ``PyBook`` and the compiled ``NativeBook``, side by side.

Hand-written tests pin the interface of ``connector/book/pybook.py`` (its module
docstring is the specification) on both engines; ``NativeBook``-only tests pin
its ``PrecisionError`` limits. Hypothesis then drives both engines and a plain
dict model with the same random operations and checks every read after each one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, localcontext
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.book import _native
from connector.book.pybook import BookEngine, PyBook, TextLevel
from connector.model.levels import JsonText

# -- the engines ------------------------------------------------------------------


Engine = BookEngine

EngineFactory = Callable[..., Engine]

NativeBook: EngineFactory = _native.NativeBook
PrecisionError: type[Exception] = _native.PrecisionError

ENGINES: dict[str, EngineFactory] = {"py": PyBook, "native": NativeBook}


@pytest.fixture(params=sorted(ENGINES))
def new(request: pytest.FixtureRequest) -> EngineFactory:
    """The engine class under test (called as ``new()`` or ``new(depth_limit=3)``)."""
    factory: EngineFactory = ENGINES[request.param]
    return factory


def snapshot(book: Engine) -> tuple[list[TextLevel], list[TextLevel], int, int]:
    """Everything a reader can see of both sides."""
    return book.levels(True, -1), book.levels(False, -1), book.count(True), book.count(False)


def loaded(
    new: EngineFactory,
    bids: Sequence[Sequence[str]] = (("100", "1"), ("99.5", "2"), ("98", "3")),
    asks: Sequence[Sequence[str]] = (("101", "4"), ("102.5", "5"), ("103", "6")),
    depth_limit: int | None = None,
) -> Engine:
    book = new(depth_limit=depth_limit)
    book.load_pairs(bids, asks)
    return book


# -- reads ------------------------------------------------------------------------


def test_levels_are_best_first_bids_descending_asks_ascending(new: EngineFactory) -> None:
    book = new()
    book.load_pairs([("98", "3"), ("100", "1"), ("99.5", "2")], [("103", "6"), ("101", "4")])
    assert [("100", "1"), ("99.5", "2"), ("98", "3")] == book.levels(True, -1)
    assert [("101", "4"), ("103", "6")] == book.levels(False, -1)


def test_levels_with_n_returns_only_the_best_n(new: EngineFactory) -> None:
    book = loaded(new)
    assert [("100", "1"), ("99.5", "2")] == book.levels(True, 2)
    assert [("101", "4")] == book.levels(False, 1)


def test_levels_with_n_zero_returns_nothing(new: EngineFactory) -> None:
    book = loaded(new)
    assert [] == book.levels(True, 0)
    assert [] == book.levels(False, 0)


def test_levels_with_n_beyond_the_count_returns_every_level(new: EngineFactory) -> None:
    book = loaded(new)
    assert [("100", "1"), ("99.5", "2"), ("98", "3")] == book.levels(True, 4)
    assert [("101", "4"), ("102.5", "5"), ("103", "6")] == book.levels(False, 1000)


def test_levels_without_n_returns_every_level(new: EngineFactory) -> None:
    book = loaded(new)
    assert book.levels(True, -1) == book.levels(True)
    assert book.levels(False, -1) == book.levels(False)


def test_levels_of_an_empty_side_are_empty(new: EngineFactory) -> None:
    book = new()
    assert [] == book.levels(True, -1)
    assert [] == book.levels(False, 5)


def test_best_is_the_top_level_of_each_side(new: EngineFactory) -> None:
    book = loaded(new)
    assert ("100", "1") == book.best(True)
    assert ("101", "4") == book.best(False)


def test_best_of_an_empty_side_is_none(new: EngineFactory) -> None:
    book = new()
    book.load_pairs([("100", "1")], [])
    assert None is book.best(False)
    book.clear()
    assert None is book.best(True)


def test_count_counts_the_levels_of_each_side(new: EngineFactory) -> None:
    book = new()
    assert (0, 0) == (book.count(True), book.count(False))
    book.load_pairs([("1", "1"), ("2", "1")], [("3", "1"), ("4", "1"), ("5", "1")])
    assert (2, 3) == (book.count(True), book.count(False))


def test_qty_finds_a_level_by_an_equivalent_price_text(new: EngineFactory) -> None:
    book = new()
    book.load_pairs([("100.10", "1.50")], [("1e2", "2")])
    assert "1.50" == book.qty(True, "100.1")
    assert "1.50" == book.qty(True, "100.10")
    assert "1.50" == book.qty(True, "0100.100000")
    assert "1.50" == book.qty(True, "1.001E+2")
    assert "2" == book.qty(False, "100")
    assert "2" == book.qty(False, "100.")


def test_qty_finds_a_level_by_text_longer_than_a_level_holds(new: EngineFactory) -> None:
    book = loaded(new)
    assert "1" == book.qty(True, "100." + "0" * 60)
    assert "2" == book.qty(True, "0" * 40 + "99.5" + "0" * 40)
    assert None is book.qty(True, "100." + "0" * 60 + "1")


def test_qty_of_an_absent_price_is_none(new: EngineFactory) -> None:
    book = loaded(new)
    assert None is book.qty(True, "101")  # an ask price, not a bid
    assert None is book.qty(False, "100")
    assert None is book.qty(True, "99.51")


@pytest.mark.parametrize(
    "text", ["", "abc", "-100", "+100", "0", "0.0", "0e5", "1,0", "NaN", "inf", " 100", "100 ", "."]
)
def test_qty_of_malformed_zero_or_negative_text_is_none(new: EngineFactory, text: str) -> None:
    book = loaded(new)
    assert None is book.qty(True, text)
    assert None is book.qty(False, text)


def test_crossed_when_the_best_bid_is_above_the_best_ask(new: EngineFactory) -> None:
    book = new()
    book.load_pairs([("101.5", "1"), ("99", "1")], [("101", "1"), ("102", "1")])
    assert True is book.crossed()


def test_crossed_when_the_book_is_locked(new: EngineFactory) -> None:
    book = new()
    book.load_pairs([("100.0", "1")], [("1e2", "1")])
    assert True is book.crossed()


def test_not_crossed_when_the_best_bid_is_below_the_best_ask(new: EngineFactory) -> None:
    book = loaded(new)
    assert False is book.crossed()
    book.apply_pairs([("100.99999", "1")], [])
    assert False is book.crossed()
    book.apply_pairs([("101", "1")], [])
    assert True is book.crossed()
    book.apply_pairs([], [("101", "0")])
    assert False is book.crossed()


@pytest.mark.parametrize(
    ("bids", "asks"),
    [([], []), ([("100", "1")], []), ([], [("100", "1")])],
    ids=["empty", "no-asks", "no-bids"],
)
def test_not_crossed_when_a_side_is_empty(
    new: EngineFactory, bids: list[TextLevel], asks: list[TextLevel]
) -> None:
    book = new()
    book.load_pairs(bids, asks)
    assert False is book.crossed()


def test_top_reads_best_bid_best_ask_and_crossed_in_one_call(new: EngineFactory) -> None:
    book = loaded(new)
    assert (("100", "1"), ("101", "4"), False) == book.top()
    book.apply_pairs([("101.0", "7")], [])
    assert (("101.0", "7"), ("101", "4"), True) == book.top()
    book.apply_pairs([], [("101", "0")])
    assert (("101.0", "7"), ("102.5", "5"), False) == book.top()


@pytest.mark.parametrize(
    ("bids", "asks", "expected"),
    [
        ([], [], (None, None, False)),
        ([("100", "1")], [], (("100", "1"), None, False)),
        ([], [("100", "1")], (None, ("100", "1"), False)),
    ],
    ids=["empty", "no-asks", "no-bids"],
)
def test_top_of_an_empty_side_is_none_and_not_crossed(
    new: EngineFactory,
    bids: list[TextLevel],
    asks: list[TextLevel],
    expected: tuple[TextLevel | None, TextLevel | None, bool],
) -> None:
    book = new()
    book.load_pairs(bids, asks)
    assert expected == book.top()


def test_top_of_a_locked_book_is_crossed(new: EngineFactory) -> None:
    book = new()
    book.load_pairs([("100.0", "1")], [("1e2", "2")])
    assert (("100.0", "1"), ("1e2", "2"), True) == book.top()


def test_apply_json_crossed_applies_then_answers_crossed(new: EngineFactory) -> None:
    book = loaded(new)
    assert False is book.apply_json_crossed(b'[["100.5","2"],["99.5","0"]]', b'[["102","1"]]')
    assert (("100.5", "2"), ("101", "4"), False) == book.top()
    assert [("100.5", "2"), ("100", "1"), ("98", "3")] == book.levels(True)
    assert True is book.apply_json_crossed(b"[]", b'[["100.5","1"]]')
    assert (("100.5", "2"), ("100.5", "1"), True) == book.top()
    assert False is book.apply_json_crossed(b'[["100.5","0"]]', b"[]")


# -- changes ----------------------------------------------------------------------


@pytest.mark.parametrize("zero", ["0", "0.000", "0e3", "00", ".0", "0.", "0E-7"])
def test_zero_qty_removes_the_level(new: EngineFactory, zero: str) -> None:
    book = loaded(new)
    book.apply_pairs([("99.50", zero)], [("101", zero)])
    assert [("100", "1"), ("98", "3")] == book.levels(True, -1)
    assert [("102.5", "5"), ("103", "6")] == book.levels(False, -1)
    assert (2, 2) == (book.count(True), book.count(False))
    assert None is book.qty(True, "99.5")


def test_zero_qty_for_an_absent_level_is_a_no_op(new: EngineFactory) -> None:
    book = loaded(new)
    before = snapshot(book)
    book.apply_pairs([("99", "0"), ("101", "0")], [("100", "0"), ("104", "0")])
    assert before == snapshot(book)


def test_zero_qty_on_an_empty_book_is_a_no_op(new: EngineFactory) -> None:
    book = new()
    book.apply_pairs([("1", "0")], [("2", "0")])
    assert ([], [], 0, 0) == snapshot(book)


def test_apply_adds_updates_and_removes_levels(new: EngineFactory) -> None:
    book = loaded(new)
    book.apply_pairs([("99.5", "7"), ("100.5", "1"), ("98", "0")], [("101", "0")])
    assert [("100.5", "1"), ("100", "1"), ("99.5", "7")] == book.levels(True, -1)
    assert [("102.5", "5"), ("103", "6")] == book.levels(False, -1)


def test_the_latest_text_wins_for_equivalent_prices(new: EngineFactory) -> None:
    book = new()
    book.apply_pairs([("100.10", "1")], [("200", "1.0")])
    book.apply_pairs([("100.1", "2.50")], [("2e2", "1")])
    assert [("100.1", "2.50")] == book.levels(True, -1)
    assert [("2e2", "1")] == book.levels(False, -1)
    assert (1, 1) == (book.count(True), book.count(False))


def test_the_latest_text_wins_within_one_change(new: EngineFactory) -> None:
    book = new()
    book.apply_pairs([("100.10", "1"), ("100.1000", "2"), ("0100.1", "3")], [])
    assert [("0100.1", "3")] == book.levels(True, -1)


def test_a_later_zero_in_one_change_removes_an_earlier_level(new: EngineFactory) -> None:
    book = new()
    book.apply_pairs([("100", "1"), ("100.0", "0"), ("99", "1")], [("101", "1"), ("1.01e2", "0")])
    assert [("99", "1")] == book.levels(True, -1)
    assert [] == book.levels(False, -1)


def test_a_later_level_in_one_change_restores_a_removed_one(new: EngineFactory) -> None:
    book = loaded(new)
    book.apply_pairs([("100", "0"), ("100.00", "9")], [])
    assert [("100.00", "9"), ("99.5", "2"), ("98", "3")] == book.levels(True, -1)


def test_a_snapshot_replaces_the_book(new: EngineFactory) -> None:
    book = loaded(new)
    book.load_pairs([("50", "1")], [("60", "2")])
    assert [("50", "1")] == book.levels(True, -1)
    assert [("60", "2")] == book.levels(False, -1)


def test_a_snapshot_ignores_zero_levels(new: EngineFactory) -> None:
    book = loaded(new)
    book.load_pairs([("50", "1"), ("49", "0"), ("100", "0")], [("60", "0"), ("61", "2")])
    assert [("50", "1")] == book.levels(True, -1)
    assert [("61", "2")] == book.levels(False, -1)


def test_a_later_zero_in_a_snapshot_removes_an_earlier_duplicate(new: EngineFactory) -> None:
    book = new()
    book.load_pairs(
        [("50", "1"), ("49", "2"), ("50.0", "0")], [("60", "1"), ("6e1", "0"), ("61", "1")]
    )
    assert [("49", "2")] == book.levels(True, -1)
    assert [("61", "1")] == book.levels(False, -1)


def test_a_later_duplicate_in_a_snapshot_wins(new: EngineFactory) -> None:
    book = new()
    book.load_json(
        b'[["50","1"],["50.00","2"],["49","3"]]', b'[["60","1"],["60.0","0"],["6e1","5"]]'
    )
    assert [("50.00", "2"), ("49", "3")] == book.levels(True, -1)
    assert [("6e1", "5")] == book.levels(False, -1)


def test_a_snapshot_of_empty_arrays_empties_the_book(new: EngineFactory) -> None:
    book = loaded(new)
    book.load_json(b"[]", b"[]")
    assert ([], [], 0, 0) == snapshot(book)


def test_clear_empties_both_sides(new: EngineFactory) -> None:
    book = loaded(new)
    book.clear()
    assert ([], [], 0, 0) == snapshot(book)
    assert None is book.best(True)
    assert None is book.qty(False, "101")
    book.apply_pairs([("1", "1")], [("2", "1")])
    assert ([("1", "1")], [("2", "1")], 1, 1) == snapshot(book)


def test_depth_limit_keeps_only_the_best_levels_after_a_snapshot(new: EngineFactory) -> None:
    book = new(depth_limit=2)
    book.load_pairs(
        [("98", "3"), ("100", "1"), ("97", "4"), ("99.5", "2")],
        [("103", "6"), ("101", "4"), ("102.5", "5")],
    )
    assert [("100", "1"), ("99.5", "2")] == book.levels(True, -1)
    assert [("101", "4"), ("102.5", "5")] == book.levels(False, -1)
    assert (2, 2) == (book.count(True), book.count(False))
    assert None is book.qty(True, "98")


def test_depth_limit_trims_far_levels_after_a_change(new: EngineFactory) -> None:
    book = new(depth_limit=2)
    book.load_pairs([("100", "1"), ("99", "2")], [("101", "1"), ("102", "2")])
    book.apply_pairs([("99.5", "5")], [("100.5", "5"), ("100.7", "6")])
    assert [("100", "1"), ("99.5", "5")] == book.levels(True, -1)
    assert [("100.5", "5"), ("100.7", "6")] == book.levels(False, -1)
    assert None is book.qty(False, "101")
    # A trimmed level stays gone when a better one is removed.
    book.apply_pairs([("100", "0")], [("100.5", "0")])
    assert [("99.5", "5")] == book.levels(True, -1)
    assert [("100.7", "6")] == book.levels(False, -1)


def test_depth_limit_applies_to_a_change_as_a_whole(new: EngineFactory) -> None:
    book = new(depth_limit=1)
    book.load_pairs([("100", "1")], [])
    # A far level added and the best removed in one change: the far one is then the best.
    book.apply_pairs([("90", "1"), ("100", "0")], [])
    assert [("90", "1")] == book.levels(True, -1)


@pytest.mark.parametrize("limit", [0, -1])
def test_a_depth_limit_below_one_is_refused(new: EngineFactory, limit: int) -> None:
    with pytest.raises(ValueError, match="depth_limit"):
        new(depth_limit=limit)


def test_levels_with_a_huge_n_returns_every_level(new: EngineFactory) -> None:
    book = loaded(new)
    assert book.levels(True, -1) == book.levels(True, 10**30)


def test_depth_limit_is_readable(new: EngineFactory) -> None:
    assert 3 == new(depth_limit=3).depth_limit
    assert None is new().depth_limit


def test_exponent_notation_orders_by_value(new: EngineFactory) -> None:
    book = new()
    book.load_pairs([("1e-5", "1"), ("0.00001234", "2"), ("1.2E-5", "3")], [])
    assert [("0.00001234", "2"), ("1.2E-5", "3"), ("1e-5", "1")] == book.levels(True, -1)
    book.load_pairs([], [("1e-5", "1"), ("0.00001234", "2"), ("12E+3", "3"), ("11999.9", "4")])
    assert [("1e-5", "1"), ("0.00001234", "2"), ("11999.9", "4"), ("12E+3", "3")] == book.levels(
        False, -1
    )
    assert "3" == book.qty(False, "12000")


def test_leading_and_trailing_zeros_and_bare_points_name_one_level(new: EngineFactory) -> None:
    book = new()
    book.apply_pairs([("007.5", "1")], [])
    book.apply_pairs([("7.500", "2")], [])
    book.apply_pairs([("75e-1", "3")], [])
    book.apply_pairs([(".75e1", "4")], [])
    book.apply_pairs([("0.5", "1"), (".5", "2"), ("5.", "6")], [])
    assert [(".75e1", "4"), ("5.", "6"), (".5", "2")] == book.levels(True, -1)


@pytest.mark.parametrize("order", ["ascending", "descending", "outside-in"])
def test_a_large_book_built_and_emptied_level_by_level_stays_best_first(
    new: EngineFactory, order: str
) -> None:
    ticks = list(range(1, 1001))
    if order == "descending":
        ticks.reverse()
    elif order == "outside-in":
        ticks = [t for pair in zip(ticks[:500], ticks[:499:-1], strict=True) for t in pair]
    book = new()
    for tick in ticks:
        book.apply_pairs([(f"{tick}.5", str(tick))], [(f"{tick}.5", str(tick))])
    bids = [(f"{t}.5", str(t)) for t in range(1000, 0, -1)]
    assert bids == book.levels(True, -1)
    assert bids[::-1] == book.levels(False, -1)
    assert bids[:10] == book.levels(True, 10)
    assert ("1000.5", "1000") == book.best(True)
    assert ("1.5", "1") == book.best(False)
    assert "500" == book.qty(True, "500.50")
    for i, tick in enumerate(ticks):
        book.apply_pairs([(f"{tick}.50", "0")], [(f"{tick}.500", "0")])
        if i % 97 == 0:
            left = sorted(ticks[i + 1 :], reverse=True)
            assert [(f"{t}.5", str(t)) for t in left] == book.levels(True, -1)
            assert [(f"{t}.5", str(t)) for t in left[::-1]] == book.levels(False, -1)
    assert ([], [], 0, 0) == snapshot(book)


def test_a_depth_limited_book_keeps_the_best_of_many_levels(new: EngineFactory) -> None:
    book = new(depth_limit=100)
    book.load_pairs(
        [(str(p), "1") for p in range(1, 1001)], [(str(p), "1") for p in range(1, 1001)]
    )
    assert [(str(p), "1") for p in range(1000, 900, -1)] == book.levels(True, -1)
    assert [(str(p), "1") for p in range(1, 101)] == book.levels(False, -1)
    book.apply_pairs(
        [(str(p), "2") for p in range(850, 950)], [(str(p), "0") for p in range(1, 51)]
    )
    kept = [(str(p), "1") for p in range(1000, 949, -1)] + [
        (str(p), "2") for p in range(949, 900, -1)
    ]
    assert kept == book.levels(True, -1)
    assert [(str(p), "1") for p in range(51, 101)] == book.levels(False, -1)


# -- JSON input -------------------------------------------------------------------


def test_json_levels_may_have_whitespace_anywhere(new: EngineFactory) -> None:
    book = new()
    book.load_json(
        b' \n[ [ "100" ,\t"1" ] ,\r\n["99.5",  "2"]\n]\t ',
        '[\n  [\n    "101",\n    "4"\n  ]\n]\n',
    )
    assert [("100", "1"), ("99.5", "2")] == book.levels(True, -1)
    assert [("101", "4")] == book.levels(False, -1)


def test_json_levels_of_four_elements_read_the_first_two(new: EngineFactory) -> None:
    book = new()
    book.load_json(b'[["100","1","0","2"],["99","3","0","1"]]', b'[["101","4","0","7"]]')
    book.apply_json(b'[["99","0","0","0"]]', b'[["102","5","0","1"]]')
    assert [("100", "1")] == book.levels(True, -1)
    assert [("101", "4"), ("102", "5")] == book.levels(False, -1)


@pytest.mark.parametrize(
    "extra",
    ["true", "null", "-1.5e3", "0", "[]", "{}", '[1,[2,"x"]]', '{"a":{"b":[null]}}', '"x y"'],
)
def test_extra_json_elements_may_be_any_json_value(new: EngineFactory, extra: str) -> None:
    book = new()
    book.load_json(f'[["100","1",{extra}]]', f'[["101","2",{extra},{extra}]]')
    assert [("100", "1")] == book.levels(True, -1)
    assert [("101", "2")] == book.levels(False, -1)


@pytest.mark.parametrize("extra", ["xyz", "01", "1.", "-", "1e", "[1,]", '{"a"}', "tru"])
def test_an_extra_json_element_that_is_not_json_raises_value_error(
    new: EngineFactory, extra: str
) -> None:
    book = loaded(new)
    before = snapshot(book)
    with pytest.raises(ValueError, match="malformed book levels"):
        book.apply_json(f'[["96","1",{extra}]]', "[]")
    assert before == snapshot(book)


@pytest.mark.parametrize("level", [r'["\u0039\u0036","1"]', r'["96","\u0031"]', r'["96","1","\n"]'])
def test_an_escaped_string_in_a_level_raises_value_error(new: EngineFactory, level: str) -> None:
    # Venues never escape numbers; the compiled engine reads the text in place.
    book = loaded(new)
    before = snapshot(book)
    with pytest.raises(ValueError, match="escaped string"):
        book.apply_json(f"[{level}]", "[]")
    assert before == snapshot(book)


def test_pairs_of_four_elements_read_the_first_two(new: EngineFactory) -> None:
    book = new()
    book.load_pairs([("100", "1", "0", "2")], [["101", "4", "0", "7"]])
    assert [("100", "1")] == book.levels(True, -1)
    assert [("101", "4")] == book.levels(False, -1)


def test_empty_json_arrays_change_nothing(new: EngineFactory) -> None:
    book = loaded(new)
    before = snapshot(book)
    book.apply_json(b"[]", b" [ ] ")
    assert before == snapshot(book)


def test_json_and_pairs_make_the_same_book(new: EngineFactory) -> None:
    by_json, by_pairs = new(), new()
    by_json.load_json(b'[["100.0","1"],["99","2"]]', b'[["101","3"]]')
    by_pairs.load_pairs([("100.0", "1"), ("99", "2")], [("101", "3")])
    by_json.apply_json(b'[["99","0"],["98","5"]]', b'[["100.5","1"]]')
    by_pairs.apply_pairs([("99", "0"), ("98", "5")], [("100.5", "1")])
    assert snapshot(by_pairs) == snapshot(by_json)


def _as_str(text: bytes) -> JsonText:
    return text.decode()


def _as_bytearray(text: bytes) -> JsonText:
    return bytearray(text)


def _as_memoryview(text: bytes) -> JsonText:
    return memoryview(b"xx" + text + b"yy")[2:-2]


def _as_raw(text: bytes) -> JsonText:
    return msgspec.Raw(text)


def _as_bytes(text: bytes) -> JsonText:
    return text


JSON_KINDS: dict[str, Callable[[bytes], JsonText]] = {
    "bytes": _as_bytes,
    "str": _as_str,
    "bytearray": _as_bytearray,
    "memoryview": _as_memoryview,
    "raw": _as_raw,
}


@pytest.mark.parametrize("kind", sorted(JSON_KINDS))
def test_json_input_may_be_str_bytes_or_a_buffer(new: EngineFactory, kind: str) -> None:
    to_input = JSON_KINDS[kind]
    book = new()
    book.load_json(to_input(b'[["100","1"],["99","2"]]'), to_input(b'[["101","3"]]'))
    book.apply_json(to_input(b'[["99","0"]]'), to_input(b'[["102","4"]]'))
    assert [("100", "1")] == book.levels(True, -1)
    assert [("101", "3"), ("102", "4")] == book.levels(False, -1)


# -- errors -----------------------------------------------------------------------

BAD_NUMBERS = [
    "NaN",
    "nan",
    "inf",
    "Infinity",
    "+1",
    "-1",
    "1,0",
    "",
    " 1",
    "1 ",
    "1e",
    "e5",
    ".",
    ".e1",
    "1.2.3",
    "0x10",
    "1_000",
    "1e+-2",
    "١",
]
"""Texts that are not plain unsigned decimal numbers (``"-1"``: a negative quantity)."""

ZERO_PRICES = ["0", "0.0", "000", "0e5", ".0"]

CHANGES = ["apply_json", "load_json", "apply_pairs", "load_pairs", "apply_json_crossed"]


def _change(book: Engine, method: str, bids: list[list[Any]], asks: list[list[Any]]) -> None:
    """Call ``method`` with the levels as pairs, or as JSON text for ``*_json*``."""
    if "_json" in method:
        getattr(book, method)(
            json.dumps(bids, ensure_ascii=False).encode(),
            json.dumps(asks, ensure_ascii=False).encode(),
        )
    else:
        getattr(book, method)(bids, asks)


def _bad_placements(text: str, *, price: bool) -> list[tuple[list[list[Any]], list[list[Any]]]]:
    """The bad text as a bid, and as an ask after valid bids (and valid asks before it)."""
    level = [text, "1"] if price else ["95", text]
    return [
        ([["96", "1"], level], [["105", "1"]]),
        ([["96", "1"], ["97", "0"], ["100", "0"]], [["104", "1"], level, ["106", "1"]]),
    ]


def _assert_rejected(
    book: Engine, method: str, bids: list[list[Any]], asks: list[list[Any]]
) -> str:
    """``ValueError`` and the book as it was; the error's message."""
    before = snapshot(book)
    with pytest.raises(ValueError) as info:
        _change(book, method, bids, asks)
    assert before == snapshot(book)
    return str(info.value)


@pytest.mark.parametrize("method", CHANGES)
@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_a_bad_number_raises_value_error_naming_it_and_changes_nothing(
    new: EngineFactory, method: str, text: str
) -> None:
    book = loaded(new)
    for price in (True, False):
        for bids, asks in _bad_placements(text, price=price):
            message = _assert_rejected(book, method, bids, asks)
            assert text in message


@pytest.mark.parametrize("method", CHANGES)
@pytest.mark.parametrize("text", ZERO_PRICES)
def test_a_zero_price_raises_value_error_naming_it_and_changes_nothing(
    new: EngineFactory, method: str, text: str
) -> None:
    book = loaded(new)
    for bids, asks in _bad_placements(text, price=True):
        message = _assert_rejected(book, method, bids, asks)
        assert text in message


def test_a_negative_qty_raises_value_error_naming_it(new: EngineFactory) -> None:
    book = loaded(new)
    with pytest.raises(ValueError, match=r"-0\.5"):
        book.apply_pairs([("99", "-0.5")], [])
    with pytest.raises(ValueError, match=r"-0\.5"):
        book.apply_json(b"[]", b'[["101","-0.5"]]')
    assert ([("100", "1"), ("99.5", "2"), ("98", "3")], 3) == (
        book.levels(True, -1),
        book.count(True),
    )


MALFORMED_JSON = [
    b"",
    b" ",
    b"[",
    b'[["1","2"]',
    b'[["1","2"],]',
    b'[["1" "2"]]',
    b'[["1","2"]] x',
    b'[["1","2"]][]',
    b"not json",
    b'[["1,"2"]]',
    b'{"a": 1}',
    b'"1"',
    b"1",
    b"null",
    b'["1","2"]',
    b"[1]",
    b"[null]",
    b'[["1","2"],null]',
    b'[["1\xff","2"]]',
]


NON_STRING_JSON_LEVELS = [
    b'[[1,"2"]]',
    b'[["1",2]]',
    b'[[1.5,"2"]]',
    b'[["1",2.5]]',
    b'[[null,"2"]]',
    b'[["1",null]]',
    b'[[true,"2"]]',
    b'[[["1"],"2"]]',
    b'[[{"p":"1"},"2"]]',
]


@pytest.mark.parametrize("method", ["apply_json", "load_json"])
@pytest.mark.parametrize("text", MALFORMED_JSON + NON_STRING_JSON_LEVELS)
def test_malformed_json_or_a_non_string_number_raises_value_error_and_changes_nothing(
    new: EngineFactory, method: str, text: bytes
) -> None:
    book = loaded(new)
    before = snapshot(book)
    for bids, asks in ((text, b"[]"), (b'[["96","1"]]', text)):
        with pytest.raises(ValueError):
            getattr(book, method)(bids, asks)
        assert before == snapshot(book)


@pytest.mark.parametrize("method", ["apply_pairs", "load_pairs"])
@pytest.mark.parametrize("value", [1, 1.5, None, Decimal("1"), b"1", True], ids=repr)
def test_a_non_string_pair_value_raises_value_error_and_changes_nothing(
    new: EngineFactory, method: str, value: object
) -> None:
    book = loaded(new)
    before = snapshot(book)
    for level in ([value, "1"], ["96", value]):
        for bids, asks in (([level], []), ([("96", "1")], [("104", "1"), level])):
            with pytest.raises(ValueError):
                getattr(book, method)(bids, asks)
            assert before == snapshot(book)


@pytest.mark.parametrize("method", CHANGES)
@pytest.mark.parametrize("level", [["96"], []], ids=["one-element", "empty"])
def test_a_level_without_a_qty_raises_value_error_and_changes_nothing(
    new: EngineFactory, method: str, level: list[Any]
) -> None:
    book = loaded(new)
    _assert_rejected(book, method, [level], [])
    _assert_rejected(book, method, [["96", "1"]], [["104", "1"], level])


# -- NativeBook only: the values it holds exactly ------------------------------------

TEXT_MAX: int = _native.TEXT_MAX
"""The longest price or quantity text NativeBook holds, as the module states it."""

TOO_PRECISE = [
    "1." + "0" * (TEXT_MAX - 1),  # one character too long, though exactly 1
    "0" * TEXT_MAX + "1",
    "0.0000000000000000001",  # a non-zero 19th decimal
    "1.0000000000000000001",
    "123.4567890123456789012",
    "1e-19",
    "10e-20",
    "100000000000000000000",  # 10**20
    "1e20",
    "0.1e21",
    "100000000000000000000.5",
    "99999999999999999999.9999999999999999999",
    "1e99999",
    "1e999999999999",
]


def test_precision_error_is_an_arithmetic_error_not_a_value_error() -> None:
    assert issubclass(PrecisionError, ArithmeticError)
    assert not issubclass(PrecisionError, ValueError)


@pytest.mark.parametrize("method", CHANGES)
@pytest.mark.parametrize("text", TOO_PRECISE)
def test_native_raises_precision_error_for_values_it_cannot_hold_and_changes_nothing(
    method: str, text: str
) -> None:
    book = loaded(NativeBook)
    before = snapshot(book)
    for price in (True, False):
        for bids, asks in _bad_placements(text, price=price):
            with pytest.raises(PrecisionError):
                _change(book, method, bids, asks)
            assert before == snapshot(book)


@pytest.mark.parametrize("text", [t for t in TOO_PRECISE if t != "1e999999999999"])
def test_pybook_holds_values_native_cannot(text: str) -> None:
    book = PyBook()
    book.load_pairs([(text, text)], [("1e300", "1")])
    assert [(text, text)] == book.levels(True, -1)


def test_pybook_orders_bids_beyond_the_decimal_context_exactly() -> None:
    # Unary minus would round to the default context (and overflow); the bid
    # heap negates exactly.
    book = PyBook()
    huge, tiny = "1e1000000", "1e-1000010"
    book.load_pairs([(huge, "1"), ("5", "1"), (tiny, "1")], [("1e1000001", "1")])
    assert [huge, "5", tiny] == [price for price, _ in book.levels(True, -1)]
    assert (huge, "1") == book.best(True)
    book.apply_pairs([(huge, "0")], [])
    assert ("5", "1") == book.best(True)
    assert not book.crossed()
    assert (("5", "1"), ("1e1000001", "1"), False) == book.top()


JUST_INSIDE = [
    "0.000000000000000001",  # 18 decimals
    "1e-18",
    "10e-19",
    "0.1" + "0" * (TEXT_MAX - 3),  # TEXT_MAX characters, zeros beyond the 18th decimal
    "99999999999999999999",  # 10**20 - 1
    "99999999999999999999." + "9" * (TEXT_MAX - 21),  # TEXT_MAX characters
    "0." + "9" * 18 + "0" * (TEXT_MAX - 20),  # TEXT_MAX characters
    "12345678901234567.890123456789"[:TEXT_MAX],
    "1e19",
    "99999999999999999999e0",
    "0" * (TEXT_MAX - 1) + "1",  # TEXT_MAX characters
    "1" + "0" * 19,  # 10**19
]


@pytest.mark.parametrize("method", CHANGES)
def test_native_holds_values_just_inside_its_limits_like_pybook(method: str) -> None:
    levels = [[text, text] for text in JUST_INSIDE]
    native, py = NativeBook(), PyBook()
    _change(native, method, levels, levels)
    _change(py, method, levels, levels)
    assert snapshot(py) == snapshot(native)
    assert len({Decimal(text) for text in JUST_INSIDE}) == native.count(True)
    for text in JUST_INSIDE:
        assert py.qty(True, text) == native.qty(True, text)
        assert py.qty(False, text) == native.qty(False, text)
    assert py.crossed() == native.crossed()
    assert py.top() == native.top()


def test_native_orders_values_at_both_ends_of_its_range() -> None:
    texts = ["99999999999999999999", "0.000000000000000001", "0.000000000000000002", "1e19"]
    texts += ["99999999999999999998.99", "1"]
    book = NativeBook()
    book.load_pairs([(t, "1") for t in texts], [(t, "1") for t in texts])
    ascending = sorted(texts, key=Decimal)
    assert ascending[::-1] == [p for p, _ in book.levels(True, -1)]
    assert ascending == [p for p, _ in book.levels(False, -1)]


# -- properties: both engines against a dict model ------------------------------------


class DictModel:
    """The reference: ``price -> (price text, qty text)`` per side, sorted on read."""

    def __init__(self, depth_limit: int | None = None) -> None:
        self.depth_limit = depth_limit
        self.sides: dict[bool, dict[Decimal, TextLevel]] = {True: {}, False: {}}
        self._sorted: dict[bool, list[TextLevel]] = {}

    def apply(self, bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> None:
        self._sorted = {}
        for bid, levels in ((True, bids), (False, asks)):
            side = self.sides[bid]
            for level in levels:
                price, qty = level[0], level[1]
                if Decimal(qty):
                    side[Decimal(price)] = (price, qty)
                else:
                    side.pop(Decimal(price), None)
        if self.depth_limit is not None:
            for bid, side in self.sides.items():
                keep = self._best_first(bid)[: self.depth_limit]
                self.sides[bid] = {p: side[p] for p in keep}

    def load(self, bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> None:
        self.clear()
        self.apply(bids, asks)

    def clear(self) -> None:
        self.sides = {True: {}, False: {}}
        self._sorted = {}

    def _best_first(self, bid: bool) -> list[Decimal]:
        return sorted(self.sides[bid], reverse=bid)

    def levels(self, bid: bool, n: int = -1) -> list[TextLevel]:
        if bid not in self._sorted:
            self._sorted[bid] = [self.sides[bid][p] for p in self._best_first(bid)]
        levels = self._sorted[bid]
        return list(levels if n < 0 else levels[:n])

    def best(self, bid: bool) -> TextLevel | None:
        top = self.levels(bid, 1)
        return top[0] if top else None

    def qty(self, bid: bool, price: str) -> str | None:
        level = self.sides[bid].get(Decimal(price))
        return None if level is None else level[1]

    def count(self, bid: bool) -> int:
        return len(self.sides[bid])

    def crossed(self) -> bool:
        bids, asks = self.sides[True], self.sides[False]
        return bool(bids) and bool(asks) and max(bids) >= min(asks)

    def top(self) -> tuple[TextLevel | None, TextLevel | None, bool]:
        return self.best(True), self.best(False), self.crossed()


def assert_agree(
    model: DictModel,
    engines: dict[str, Engine],
    probes: Iterable[str],
    sides: Sequence[bool] = (True, False),
) -> None:
    """Every read of every engine equals the model's (on ``sides``; ``crossed`` always)."""
    probes = list(probes)
    for bid in sides:
        expected = model.levels(bid, -1)
        count = len(expected)
        best = expected[0] if expected else None
        sizes = sorted({0, 1, 2, 7, max(count - 1, 0), count, count + 1})
        qtys = [model.qty(bid, text) for text in probes]
        for name, book in engines.items():
            assert expected == book.levels(bid, -1), (name, bid)
            for n in sizes:
                assert expected[:n] == book.levels(bid, n), (name, bid, n)
            assert best == book.best(bid), (name, bid)
            assert count == book.count(bid), (name, bid)
            assert qtys == [book.qty(bid, text) for text in probes], (name, bid, probes)
    crossed = model.crossed()
    top = model.top()
    for name, book in engines.items():
        assert crossed == book.crossed(), name
        assert top == book.top(), name


def spell(value: Decimal, style: int, k: int) -> str:
    """One of many texts for ``value`` (>= 0), picked by ``style`` and ``k`` (0..5)."""
    with localcontext(prec=100):
        return _spell(value, style, k)


def _spell(value: Decimal, style: int, k: int) -> str:
    plain = format(value.normalize(), "f") if value else "0"
    if style == 1:  # trailing zeros, or a bare point
        return plain + ("" if "." in plain else ".") + "0" * k
    if style == 2:  # leading zeros
        return "0" * (k + 1) + plain
    if style == 3 and plain.startswith("0."):  # no integer digit
        return plain[1:]
    if style == 4:  # exponent: the mantissa shifted by k - 2 places
        shift = k - 2
        mantissa = format(value.normalize().scaleb(-shift), "f") if value else "0"
        if shift > 0:
            sign = ("", "+")[k % 2]
        elif shift == 0:
            sign = ("", "+", "-")[k % 3]
        else:
            sign = "-"
        exponent = f"{sign}{abs(shift):0{1 + k % 2}d}"
        return f"{mantissa}{'eE'[k % 2]}{exponent}"
    return plain


@st.composite
def texts_of(draw: st.DrawFn, value: Decimal) -> str:
    """A text for ``value`` that NativeBook holds (at most ``TEXT_MAX`` characters)."""
    text = spell(value, draw(st.integers(0, 4)), draw(st.integers(0, 5)))
    if len(text) > TEXT_MAX:
        text = spell(value, 0, 0)
    assert Decimal(text) == value, (text, value)
    return text


def _decimal(mantissa: int, places: int) -> Decimal:
    return Decimal(mantissa).scaleb(-places)


# A wide value: up to 20 integer digits and up to 18 decimals, at most TEXT_MAX characters.
wide_values = st.builds(
    _decimal,
    st.one_of(
        st.integers(1, 9),
        st.integers(1, 10**12),
        st.integers(1, 10 ** (TEXT_MAX - 1) - 1),
    ),
    st.integers(0, 18),
).filter(lambda v: v < 10**20 and len(format(v, "f")) <= TEXT_MAX)

qty_values = st.one_of(
    st.sampled_from([Decimal(1), Decimal("0.5"), Decimal("2.25"), Decimal("0.001")]),
    wide_values,
)

ZERO_QTYS = ["0", "0.0", "0.00000000", "00", ".0", "0.", "0e0", "0E-12", "0e+3", "0e99"]


GRIDS = [
    ("0", "0.5"),
    ("100", "0.01"),
    ("61800", "0.1"),
    ("0", "1"),
    ("0", "0.00000001"),
    ("0.0001", "0.000000000000000001"),
    ("99999999999999999000", "20"),
    ("99999999999999999990", "0.01"),
    ("99999999999999999990", "0.0000001"),
]
"""``(base, step)`` of the price grids (ticks 1..40); those NativeBook cannot hold are left out."""


def _grid_fits(base: str, step: str) -> bool:
    with localcontext(prec=100):
        prices = (Decimal(base) + tick * Decimal(step) for tick in range(1, 41))
        return all(len(format(p.normalize(), "f")) <= TEXT_MAX for p in prices)


GRIDS = [(base, step) for base, step in GRIDS if _grid_fits(base, step)]


@st.composite
def grids(draw: st.DrawFn) -> Callable[[int], Decimal]:
    """Prices ``base + tick * step`` (tick 1..40): few, so changes hit existing levels."""
    base, step = draw(st.sampled_from(GRIDS))

    def price(tick: int) -> Decimal:
        with localcontext(prec=100):
            return Decimal(base) + tick * Decimal(step)

    return price


@st.composite
def levels_of(
    draw: st.DrawFn, grid: Callable[[int], Decimal], ticks: int, max_size: int
) -> list[list[str]]:
    """Levels on the grid (sometimes off it), quantities sometimes zero, sometimes OKX-long."""
    out = []
    for _ in range(draw(st.integers(0, max_size))):
        if draw(st.integers(0, 9)):
            price = grid(draw(st.integers(1, ticks)))
        else:
            price = draw(wide_values)
        if draw(st.integers(0, 3)):
            qty = draw(texts_of(draw(qty_values)))
        else:
            qty = draw(st.sampled_from(ZERO_QTYS))
        level = [draw(texts_of(price)), qty]
        if not draw(st.integers(0, 5)):
            level += ["0", str(draw(st.integers(0, 9)))]
        out.append(level)
    return out


_SPACES = st.sampled_from(["", "", "", " ", "\n", "\t", "\r\n  "])


@st.composite
def json_texts(draw: st.DrawFn, levels: list[list[str]]) -> JsonText:
    """The levels as JSON, with random whitespace, as str, bytes or a buffer."""
    parts = [draw(_SPACES), "["]
    for i, level in enumerate(levels):
        if i:
            parts += [draw(_SPACES), ","]
        parts += [draw(_SPACES), "["]
        for j, text in enumerate(level):
            if j:
                parts += [draw(_SPACES), ","]
            parts += [draw(_SPACES), json.dumps(text)]
        parts += [draw(_SPACES), "]"]
    parts += [draw(_SPACES), "]", draw(_SPACES)]
    kind = draw(st.sampled_from(sorted(JSON_KINDS)))
    return JSON_KINDS[kind]("".join(parts).encode())


Op = tuple[str, list[list[str]], list[list[str]], JsonText | None, JsonText | None]


@st.composite
def operations(draw: st.DrawFn, grid: Callable[[int], Decimal], ticks: int) -> Op:
    method = draw(
        st.sampled_from(
            ["apply_json", "apply_pairs"] * 3
            + ["load_json", "load_pairs", "apply_json_crossed"]
            + ["clear"]
        )
    )
    bids = draw(levels_of(grid, ticks, 8))
    asks = draw(levels_of(grid, ticks, 8))
    if "_json" in method:
        return method, bids, asks, draw(json_texts(bids)), draw(json_texts(asks))
    return method, bids, asks, None, None


def run(op: Op, model: DictModel, engines: dict[str, Engine]) -> None:
    method, bids, asks, bids_json, asks_json = op
    if method == "clear":
        model.clear()
    elif method.startswith("load"):
        model.load(bids, asks)
    else:
        model.apply(bids, asks)
    for book in engines.values():
        if method == "clear":
            book.clear()
        elif method == "apply_json_crossed":
            crossed = book.apply_json_crossed(bids_json, asks_json)
            assert book.crossed() is crossed
        elif method.endswith("_json"):
            getattr(book, method)(bids_json, asks_json)
        else:
            getattr(book, method)([tuple(level) for level in bids], asks)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int | None, list[Op], list[str]]:
    grid = draw(grids())
    ticks = draw(st.sampled_from([3, 10, 40]))
    depth_limit = draw(st.one_of(st.none(), st.integers(1, 12)))
    ops = draw(st.lists(operations(grid, ticks), min_size=1, max_size=20))
    probes = [draw(texts_of(grid(tick))) for tick in range(1, min(ticks, 12) + 1)]
    return depth_limit, ops, probes


def _probes(op: Op, extra: list[str]) -> list[str]:
    return [level[0] for level in op[1] + op[2]] + extra


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_engines_agree_with_a_dict_model_after_every_operation(
    scenario: tuple[int | None, list[Op], list[str]],
) -> None:
    depth_limit, ops, probes = scenario
    model = DictModel(depth_limit)
    engines = {name: new(depth_limit=depth_limit) for name, new in ENGINES.items()}
    for op in ops:
        run(op, model, engines)
        assert_agree(model, engines, _probes(op, probes))


def _random_text(rng: random.Random, value: Decimal) -> str:
    text = spell(value, rng.randrange(5), rng.randrange(6))
    return text if len(text) <= TEXT_MAX else spell(value, 0, 0)


def _random_qty(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(ZERO_QTYS)
    return _random_text(rng, _decimal(rng.randrange(1, 10**6), rng.randrange(0, 9)))


@settings(max_examples=5, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.one_of(st.none(), st.sampled_from([1, 50, 130, 599, 700])),
    st.sampled_from(["0.01", "0.5", "0.000000000000000001", "1000000000000000"]),
)
def test_engines_agree_on_large_books_through_growth_and_level_by_level_removal(
    seed: int, depth_limit: int | None, step: str
) -> None:
    rng = random.Random(seed)
    tick = Decimal(step)
    ticks = 3000

    def price(i: int) -> str:
        return _random_text(rng, Decimal(1) + i * tick)

    model = DictModel(depth_limit)
    engines = {name: new(depth_limit=depth_limit) for name, new in ENGINES.items()}

    def change(method: str, bids: list[list[str]], asks: list[list[str]]) -> None:
        """Make the change everywhere and compare the changed sides."""
        bids_json: JsonText | None = None
        asks_json: JsonText | None = None
        if method.endswith("_json"):
            bids_json, asks_json = json.dumps(bids).encode(), json.dumps(asks).encode()
        run((method, bids, asks, bids_json, asks_json), model, engines)
        probes = [level[0] for level in bids[:20] + asks[:20]]
        sides = [bid for bid, levels in ((True, bids), (False, asks)) if levels]
        assert_agree(model, engines, probes, sides if method.startswith("apply") else (True, False))

    # A snapshot of 600 levels a side, in random order.
    change(
        rng.choice(["load_json", "load_pairs"]),
        [[price(i), _random_qty(rng)] for i in rng.sample(range(ticks), 600)],
        [[price(i), _random_qty(rng)] for i in rng.sample(range(ticks), 600)],
    )
    # Random inserts and removals spread across the book, some in dense runs.
    for _ in range(40):
        sides: list[list[list[str]]] = [[], []]
        for side in sides:
            if rng.random() < 0.3:
                start = rng.randrange(ticks - 200)
                run_qty = rng.choice(["0", "1"])
                side += [[price(i), run_qty] for i in range(start, start + rng.randrange(1, 200))]
            side += [
                [price(rng.randrange(ticks)), _random_qty(rng)] for _ in range(rng.randrange(40))
            ]
        change(rng.choice(["apply_json", "apply_pairs"]), sides[0], sides[1])
    # Everything removed level by level, in random order.
    for bid in (True, False):
        prices = [p for p, _ in model.levels(bid, -1)]
        rng.shuffle(prices)
        for text in prices:
            zero = [[_random_text(rng, Decimal(text)), rng.choice(ZERO_QTYS)]]
            change("apply_pairs", zero if bid else [], [] if bid else zero)
    assert ([], [], 0, 0) == snapshot(engines["native"])
    # And the emptied book is still usable.
    change("apply_pairs", [[price(5), "1"]], [[price(7), "2"]])
