from __future__ import annotations

import json
import zlib
from decimal import Decimal

from connector.book.orderbook import OrderBook
from connector.model.levels import levels_from_raw
from connector.venues.okx import book_checksum, okx_checksum
from connector.venues.okx.checksum import checksum_text
from tests.conftest import fixture_path


def _vectors() -> list[dict[str, object]]:
    data = json.loads(fixture_path("okx_checksum_vectors.json").read_text())
    return [v for v in data["vectors"] if v["match"]]


def test_okx_checksum_every_verified_vector_matches() -> None:
    vectors = _vectors()
    assert 5 == len(vectors)
    for vector in vectors:
        bids = vector.get("bids", vector.get("bids_top25"))
        asks = vector.get("asks", vector.get("asks_top25"))
        assert isinstance(bids, list) and isinstance(asks, list)
        assert vector["checksum_string"] == checksum_text(bids, asks)
        assert vector["expected"] == okx_checksum(bids, asks)


def test_okx_checksum_of_book_built_from_vectors_matches() -> None:
    for vector in _vectors():
        bids = vector.get("bids", vector.get("bids_top25"))
        asks = vector.get("asks", vector.get("asks_top25"))
        assert isinstance(bids, list) and isinstance(asks, list)
        book = OrderBook()
        book.load_snapshot(levels_from_raw(bids), levels_from_raw(asks))
        assert vector["expected"] == book_checksum(book)


def test_okx_checksum_keeps_the_venue_text_of_numbers() -> None:
    assert "0.10:0.00000062:0.2:1" == checksum_text(
        [(Decimal("0.10"), Decimal("0.00000062"))], [("0.2", "1")]
    )
    assert okx_checksum([("0.10", "1")], []) != okx_checksum([("0.1", "1")], [])


def test_okx_checksum_uses_only_top_25_levels_and_is_signed_32_bit() -> None:
    bids = [(str(1000 - i), "1") for i in range(30)]
    asks = [(str(2000 + i), "1") for i in range(30)]
    assert okx_checksum(bids[:25], asks[:25]) == okx_checksum(bids, asks)
    values = {okx_checksum([(str(p), "1")], []) for p in range(1, 200)}
    assert all(-(2**31) <= v < 2**31 for v in values)
    assert any(v < 0 for v in values)


def test_okx_checksum_handles_empty_and_one_sided_books() -> None:
    assert 0 == okx_checksum([], [])
    assert zlib.crc32(b"1:2:3:4") == okx_checksum([("1", "2"), ("3", "4")], [])
    assert "5:6:7:8" == checksum_text([], [("5", "6"), ("7", "8")])
