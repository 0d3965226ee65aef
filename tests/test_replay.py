"""``connector.replay`` on real captures: the same feed and books as a live session.

The Binance checks are the issue's "done when": through the replay path, every
``bookTicker`` whose ``u`` equals a book update's ``u`` shows exactly that
book's best bid and ask (629 of 629 USDⓈ-M, 564 of 564 spot, per the fixtures
README).
"""

from __future__ import annotations

import functools
import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from connector.capture import CaptureRecord, CaptureWriter, read_capture
from connector.replay import Replayer, replay_file
from tests.conftest import fixture_path

COMMON = {
    "topic",
    "type",
    "venue",
    "market",
    "symbol",
    "seq",
    "state",
    "ts_event_ns",
    "ts_recv_ns",
}
EXTRA = {
    "book": {"bids", "asks"},
    "trade": {"trade_id", "price", "qty", "aggressor"},
    "quote": {"bid", "bid_qty", "ask", "ask_qty"},
    "ticker": {"last", "bid", "ask"},
}
HFT = {
    "linear": ("hftbacktest/examples/usdm/btcusdt_20240808.gz", "BTC-USDT-PERP", 629),
    "spot": ("hftbacktest/examples/spot/btcusdt_20240808.gz", "BTC-USDT-SPOT", 564),
}
SAMPLES = "cryptofeed/master/sample_data/"
BYBIT = "cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst"

Event = dict[str, object]


@functools.cache
def _replay_hft(market: str) -> tuple[dict[str, object], tuple[Event, ...]]:
    path = fixture_path(HFT[market][0])
    events: list[Event] = []
    replayer = replay_file(path, venue="binance", market=market, emit=events.append, depth=1)
    return replayer.summary(), tuple(events)


def _book(summary: dict[str, object], symbol: str) -> dict[str, object]:
    books = summary["books"]
    assert isinstance(books, list)
    return next(b for b in books if b["symbol"] == symbol)


def _top(levels: object) -> tuple[Decimal, Decimal]:
    assert isinstance(levels, list) and levels
    price, qty = levels[0]
    return Decimal(price), Decimal(qty)


@pytest.mark.parametrize("market", ["linear", "spot"])
def test_hftbacktest_capture_replays_with_no_gap_and_a_valid_final_book(market: str) -> None:
    summary, _ = _replay_hft(market)

    book = _book(summary, HFT[market][1])

    assert ("binance", market, "valid") == (book["venue"], book["market"], book["final_state"])
    assert (0, 0, 0, 1) == (
        book["gaps"],
        book["crossed"],
        summary["malformed"],
        book["snapshots_applied"],
    )


@pytest.mark.parametrize("market", ["linear", "spot"])
def test_every_book_ticker_at_a_book_update_id_matches_that_books_top(market: str) -> None:
    _, events = _replay_hft(market)
    tops: dict[object, tuple[Decimal, Decimal, Decimal, Decimal]] = {}
    for event in events:
        if event["type"] == "book" and event["state"] == "valid":
            bid, ask = _top(event["bids"]), _top(event["asks"])
            tops[event["seq"]] = (*bid, *ask)
    quotes = [e for e in events if e["type"] == "quote"]

    compared = [q for q in quotes if q["seq"] in tops]
    mismatched = [
        q
        for q in compared
        if tops[q["seq"]] != tuple(Decimal(str(q[k])) for k in ("bid", "bid_qty", "ask", "ask_qty"))
    ]

    assert HFT[market][2] == len(compared)
    assert [] == mismatched


@pytest.mark.parametrize("market", ["linear", "spot"])
def test_emitted_events_have_exactly_the_documented_keys(market: str) -> None:
    _, events = _replay_hft(market)

    for event in events:
        kind = event["type"]
        assert isinstance(kind, str)
        assert COMMON | EXTRA[kind] == set(event) - {"reason"}
        topic_kind = "orderbook" if kind == "book" else kind
        assert f"{topic_kind}.binance.{event['symbol']}" == event["topic"]
    assert {"book", "quote", "trade"} == {e["type"] for e in events}


def test_bybit_v3_capture_replays_three_books_with_no_gap() -> None:
    events: list[Event] = []

    summary = replay_file(fixture_path(BYBIT), emit=events.append).summary()

    books = {(b["market"], b["symbol"]): b for b in summary["books"]}  # type: ignore[union-attr]
    assert {
        ("linear", "BTC-USDT-PERP"),
        ("linear", "SOL-USDT-PERP"),
        ("spot", "BTC-USDT-SPOT"),
    } == set(books)
    assert {("valid", 0, 0)} == {
        (b["final_state"], b["gaps"], b["crossed"]) for b in books.values()
    }
    assert [413, 382, 299] == [
        books[k]["deltas_applied"]
        for k in [
            ("linear", "BTC-USDT-PERP"),
            ("linear", "SOL-USDT-PERP"),
            ("spot", "BTC-USDT-SPOT"),
        ]
    ]
    assert 0 == summary["malformed"]
    for event in events:
        kind = event["type"]
        assert isinstance(kind, str)
        assert COMMON | EXTRA[kind] == set(event) - {"reason"}
    assert {"book", "trade", "ticker"} == {e["type"] for e in events}


def test_okx_text_capture_replays_with_every_checksum_verified() -> None:
    events: list[Event] = []

    replayer = replay_file(fixture_path(SAMPLES + "OKX-dev.ws.1.0"), emit=events.append)

    book = _book(replayer.summary(), "BTC-USDT-SPOT")
    assert ("okx", "valid", 0, 0) == (
        book["venue"],
        book["final_state"],
        book["gaps"],
        book["checksums_failed"],
    )
    assert 98 == book["checksums_checked"]  # the snapshot and 97 updates
    assert 97 == book["deltas_applied"]
    # the dated future needs the instrument list (next test); without it, it is unknown
    stats = replayer.feeds["okx"].statistics()
    assert (0, True) == (stats.malformed, stats.unknown_symbols > 0)
    for event in events:
        kind = event["type"]
        assert isinstance(kind, str)
        assert COMMON | EXTRA[kind] == set(event) - {"reason"}


def test_okx_text_capture_with_its_instrument_lists_verifies_the_future_too() -> None:
    replayer = Replayer()
    replayer.run(
        itertools.chain(
            read_capture(fixture_path(SAMPLES + "OKX.0")),
            read_capture(fixture_path(SAMPLES + "OKX-dev.ws.1.0")),
        )
    )

    books = {b["symbol"]: b for b in replayer.summary()["books"]}  # type: ignore[union-attr]
    assert {"BTC-USDT-SPOT", "BTC-USD-FUT-20220527"} == set(books)
    for book in books.values():
        assert ("valid", 0, 0) == (book["final_state"], book["gaps"], book["checksums_failed"])
        assert book["checksums_checked"] == book["messages"]
    assert 0 == replayer.feeds["okx"].statistics().unknown_symbols


def test_binance_text_captures_chain_their_rest_snapshots_to_the_diffs() -> None:
    records = sorted(
        itertools.chain.from_iterable(
            read_capture(fixture_path(SAMPLES + name))
            for name in ("BINANCE.0", "BINANCE.http.0.0", "BINANCE.ws.1.0")
        ),
        key=lambda r: r.ts_ns,
    )
    replayer = Replayer()

    replayer.run(records)

    books = {b["symbol"]: b for b in replayer.summary()["books"]}  # type: ignore[union-attr]
    assert {"NKN-USDT-SPOT", "BLZ-ETH-SPOT", "LRC-BTC-SPOT", "RUNE-EUR-SPOT"} == set(books)
    assert {("valid", 0)} == {(b["final_state"], b["gaps"]) for b in books.values()}


def test_a_disconnect_record_invalidates_the_books_of_its_market(tmp_path: Path) -> None:
    bybit = list(read_capture(fixture_path(BYBIT)))
    path = tmp_path / "bybit.jsonl"
    with CaptureWriter(path) as writer:
        for record in bybit:
            writer.write(record)
        writer.write(
            CaptureRecord(
                t="disconnect",
                conn="BYBIT.ws.3",
                ts_ns=bybit[-1].ts_ns + 1,
                venue="bybit",
                market="spot",
                url="wss://stream.bybit.com/v5/public/spot",
                data="1006",
            )
        )

    summary = replay_file(path).summary()

    states = {(b["market"], b["final_state"]) for b in summary["books"]}  # type: ignore[union-attr]
    assert {("linear", "valid"), ("spot", "invalid")} == states


def test_records_of_unknown_venues_are_counted_and_skipped() -> None:
    replayer = Replayer()
    record = CaptureRecord(
        t="recv", conn="0", ts_ns=1, venue="kraken", market="spot", url="", data="{}"
    )

    replayer.process(record)

    assert (1, 1, {}) == (replayer.records, replayer.skipped, replayer.feeds)
