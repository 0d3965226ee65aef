from __future__ import annotations

import collections
import json
from decimal import Decimal

import pytest

from connector.errors import MalformedMessage, UnknownSymbol
from connector.model import (
    BookDelta,
    BookLevel,
    BookSnapshot,
    Instrument,
    Market,
    Quote,
    Side,
    Symbol,
    Ticker,
    Trade,
)
from connector.venues.common import ControlMessage, SymbolMap
from connector.venues.okx import (
    build_symbol_map,
    decode_frame,
    market_of,
    parse_books_snapshot,
    parse_instruments,
)
from tests.conftest import fixture_path
from tests.venues.okx.captures import ws_events

NAUTILUS = "nautilus_trader/crates/adapters/okx/test_data/"
BTC_USDT = Symbol.parse("BTC-USDT-SPOT")


def _symbols(*natives: tuple[str, str]) -> SymbolMap:
    return build_symbol_map(
        Instrument(
            venue="okx",
            symbol=Symbol.parse(text),
            native_id=native,
            market=market_of(native),
            tick_size=Decimal("0.1"),
            lot_step=Decimal("0.0001"),
            min_qty=Decimal("0.0001"),
        )
        for native, text in natives
    )


SYMBOLS = _symbols(("BTC-USDT", "BTC-USDT-SPOT"), ("BTC-USD", "BTC-USD-SPOT"))


def _decode(raw: str) -> list[object]:
    return list(decode_frame(raw, symbols=SYMBOLS, ts_recv_ns=7))


def test_okx_capture_frames_decode_to_expected_event_counts() -> None:
    counts = collections.Counter(type(event).__name__ for event in ws_events())
    assert {
        "BookSnapshot": 2,
        "BookDelta": 195,
        "Trade": 73,
        "Ticker": 27,
        "ControlMessage": 12,
    } == dict(counts)


def test_okx_capture_books_without_seq_id_have_seq_0_and_checksums() -> None:
    books = [e for e in ws_events() if isinstance(e, BookSnapshot | BookDelta)]
    assert all(b.seq == 0 and b.prev_seq is None and b.checksum for b in books)
    assert {Symbol.parse("BTC-USD-FUT-20220527"), BTC_USDT} == {b.symbol for b in books}
    assert {Market.FUTURES, Market.SPOT} == {b.market for b in books}


def test_okx_docs_books_snapshot_and_update_carry_seq_ids_and_checksum() -> None:
    (snap,) = _decode(fixture_path(NAUTILUS + "ws_books_snapshot.json").read_text())
    (update,) = _decode(fixture_path(NAUTILUS + "ws_books_update.json").read_text())
    assert isinstance(snap, BookSnapshot) and isinstance(update, BookDelta)
    assert (123456, -1, -855196043) == (snap.seq, snap.prev_seq, snap.checksum)
    assert (123457, 123457, 123456) == (update.first_seq, update.seq, update.prev_seq)
    assert BookLevel(Decimal("8476.97"), Decimal("256")) == snap.bids[0]
    assert BookLevel(Decimal("8476.98"), Decimal("415")) == snap.asks[0]
    assert 1597026383085 * 1_000_000 == snap.ts_event_ns


def test_okx_books5_message_is_a_full_snapshot() -> None:
    raw = json.dumps(
        {
            "arg": {"channel": "books5", "instId": "BTC-USDT"},
            "data": [
                {
                    "asks": [["8446", "95", "0", "3"]],
                    "bids": [["8445", "1", "0", "1"]],
                    "instId": "BTC-USDT",
                    "ts": "1597026383085",
                    "seqId": 123,
                }
            ],
        }
    )
    (snap,) = _decode(raw)
    assert (
        BookSnapshot(
            venue="okx",
            market=Market.SPOT,
            symbol=BTC_USDT,
            seq=123,
            bids=(BookLevel(Decimal("8445"), Decimal("1")),),
            asks=(BookLevel(Decimal("8446"), Decimal("95")),),
            ts_event_ns=1597026383085 * 1_000_000,
            ts_recv_ns=7,
        )
        == snap
    )


def test_okx_bbo_tbt_becomes_quote() -> None:
    (quote,) = _decode(fixture_path(NAUTILUS + "ws_bbo_tbt.json").read_text())
    assert (
        Quote(
            venue="okx",
            market=Market.SPOT,
            symbol=BTC_USDT,
            bid=Decimal("8476.97"),
            bid_qty=Decimal("256"),
            ask=Decimal("8476.98"),
            ask_qty=Decimal("415"),
            seq=123456,
            ts_event_ns=1597026383085 * 1_000_000,
            ts_recv_ns=7,
        )
        == quote
    )


def test_okx_trade_side_is_taker_side() -> None:
    (trade,) = _decode(fixture_path(NAUTILUS + "ws_trades.json").read_text())
    assert (
        Trade(
            venue="okx",
            market=Market.SPOT,
            symbol=Symbol.parse("BTC-USD-SPOT"),
            trade_id="130639474",
            price=Decimal("42219.9"),
            qty=Decimal("0.12060306"),
            aggressor=Side.BUY,
            ts_event_ns=1630048897897 * 1_000_000,
            ts_recv_ns=7,
        )
        == trade
    )


def test_okx_spot_ticker_maps_base_and_quote_volume() -> None:
    (ticker,) = _decode(fixture_path(NAUTILUS + "ws_tickers.json").read_text())
    assert (
        Ticker(
            venue="okx",
            market=Market.SPOT,
            symbol=BTC_USDT,
            last=Decimal("9999.99"),
            bid=Decimal("8888.88"),
            bid_qty=Decimal("5"),
            ask=Decimal("9999.99"),
            ask_qty=Decimal("11"),
            open_24h=Decimal("9000"),
            high_24h=Decimal("10000"),
            low_24h=Decimal("8888.88"),
            volume_24h=Decimal("2222"),
            quote_volume_24h=Decimal("2222"),
            ts_event_ns=1597026383085 * 1_000_000,
            ts_recv_ns=7,
        )
        == ticker
    )


def test_okx_futures_ticker_volume_is_in_base_currency() -> None:
    tickers = [e for e in ws_events() if isinstance(e, Ticker) and e.market is Market.FUTURES]
    assert Decimal("2620.289") == tickers[0].volume_24h
    assert tickers[0].quote_volume_24h is None


def test_okx_events_and_pong_become_control_messages() -> None:
    sub = '{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a"}'
    err = '{"event":"error","code":"60012","msg":"Invalid request","connId":"a","id":"3"}'
    assert [ControlMessage(kind="subscribed", ok=True, detail="books BTC-USDT")] == _decode(sub)
    assert [
        ControlMessage(kind="error", ok=False, detail="60012 Invalid request", request_id="3")
    ] == _decode(err)
    assert [ControlMessage(kind="pong", detail="pong")] == _decode("pong")
    assert [ControlMessage(kind="pong", detail="pong")] == list(
        decode_frame(b"pong", symbols=SYMBOLS, ts_recv_ns=1)
    )
    # OKX "Notification": the connection closes soon for a service upgrade; reconnect.
    notice = (
        '{"event":"notice","code":"64008","msg":"The connection will soon be closed for a '
        'service upgrade. Please reconnect.","connId":"a4d3ae55"}'
    )
    (closing,) = _decode(notice)
    assert ("expired", True) == (closing.kind, closing.ok)
    assert closing.detail.startswith("64008 The connection will soon be closed")


@pytest.mark.parametrize(
    "raw",
    [
        "ping?",
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[]}]}',
        '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"other",'
        '"data":[{"asks":[],"bids":[],"ts":"1"}]}',
        '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT",'
        '"tradeId":"1","px":"x","sz":"1","side":"buy","ts":"1"}]}',
    ],
)
def test_okx_bad_frames_raise_malformed_message(raw: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        _decode(raw)
    assert raw == info.value.raw


def test_okx_frame_for_unknown_instrument_raises_unknown_symbol() -> None:
    raw = '{"arg":{"channel":"bbo-tbt","instId":"ETH-USDT"},"data":[]}'
    with pytest.raises(UnknownSymbol) as info:
        _decode(raw)
    assert "ETH-USDT" == info.value.native_id
    assert "okx" == info.value.venue
    assert raw == info.value.raw


def test_okx_rest_books_parse_to_snapshot() -> None:
    body = fixture_path(NAUTILUS + "http_get_order_book.json").read_text()
    snap = parse_books_snapshot(body, inst_id="BTC-USDT", symbols=SYMBOLS, ts_recv_ns=1)
    assert (0, BTC_USDT, 3, 3) == (snap.seq, snap.symbol, len(snap.bids), len(snap.asks))
    assert BookLevel(Decimal("41006.7"), Decimal("0.48792100")) == snap.bids[0]
    assert BookLevel(Decimal("41006.8"), Decimal("0.60038921")) == snap.asks[0]
    with pytest.raises(MalformedMessage):
        parse_books_snapshot(
            '{"code":"1","msg":"x"}', inst_id="BTC-USDT", symbols=SYMBOLS, ts_recv_ns=1
        )


def _swap_frame(fixture: str, inst_id: str) -> str:
    """A docs-shaped frame of ``fixture`` (a spot example) for the swap ``inst_id``."""
    frame = json.loads(fixture_path(NAUTILUS + fixture).read_text())
    frame["arg"]["instId"] = inst_id
    for item in frame["data"]:
        if "instId" in item:
            item["instId"] = inst_id
    return json.dumps(frame)


def test_linear_swap_sizes_are_base_units_and_inverse_ones_stay_contracts() -> None:
    # The venue's instrument list: BTC-USDT-SWAP ctVal 0.01 BTC (linear),
    # BTC-USD-SWAP ctVal 100 USD (inverse).
    body = fixture_path(NAUTILUS + "http_get_instruments_swap.json").read_bytes()
    symbols = build_symbol_map(parse_instruments(Market.SWAP, body))

    def one(fixture: str, inst_id: str) -> object:
        (event,) = decode_frame(_swap_frame(fixture, inst_id), symbols=symbols, ts_recv_ns=1)
        return event

    trade = one("ws_trades.json", "BTC-USDT-SWAP")  # sz "0.12060306" contracts
    assert isinstance(trade, Trade)
    assert Decimal("0.0012060306") == trade.qty
    ticker = one("ws_tickers.json", "BTC-USDT-SWAP")  # bidSz "5", askSz "11" contracts
    assert isinstance(ticker, Ticker)
    assert (Decimal("0.05"), Decimal("0.11")) == (ticker.bid_qty, ticker.ask_qty)
    assert Decimal("2222") == ticker.volume_24h  # volCcy24h: already base on swaps
    quote = one("ws_bbo_tbt.json", "BTC-USDT-SWAP")  # "256" / "415" contracts
    assert isinstance(quote, Quote)
    assert (Decimal("2.56"), Decimal("4.15")) == (quote.bid_qty, quote.ask_qty)

    inverse = one("ws_trades.json", "BTC-USD-SWAP")
    assert isinstance(inverse, Trade)
    assert Decimal("0.12060306") == inverse.qty
    spot = decode_frame(
        fixture_path(NAUTILUS + "ws_trades.json").read_text().replace("BTC-USD", "BTC-USDT"),
        symbols=_symbols(("BTC-USDT", "BTC-USDT-SPOT")),
        ts_recv_ns=1,
    )
    assert isinstance(spot[0], Trade) and Decimal("0.12060306") == spot[0].qty
