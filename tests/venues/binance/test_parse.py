from __future__ import annotations

import gzip
import json
from decimal import Decimal

import pytest

from connector.book.keeper import BookKeeper, KeeperAction
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
from connector.venues.binance import (
    BinanceSpotSync,
    decode_frame,
    parse_depth_snapshot,
)
from connector.venues.common import ControlMessage, SymbolMap
from tests.conftest import fixture_path

PERP = Symbol.parse("BTC-USDT-PERP")
SPOT = Symbol.parse("BTC-USDT-SPOT")
BNB = Symbol.parse("BNB-BTC-SPOT")


def symbol_map() -> SymbolMap:
    symbols = SymbolMap("binance")
    for market, symbol, native in (
        (Market.LINEAR, PERP, "BTCUSDT"),
        (Market.SPOT, SPOT, "BTCUSDT"),
        (Market.SPOT, BNB, "BNBBTC"),
    ):
        symbols.add(
            Instrument(
                venue="binance",
                symbol=symbol,
                native_id=native,
                market=market,
                tick_size=Decimal("0.01"),
                lot_step=Decimal("0.001"),
                min_qty=Decimal("0.001"),
            )
        )
    return symbols


SYMBOLS = symbol_map()


def decode(raw: str | bytes, market: Market = Market.LINEAR) -> list[object]:
    return list(decode_frame(raw, market=market, symbols=SYMBOLS, ts_recv_ns=7))


def first_capture_line(relative: str, needle: bytes) -> bytes:
    with gzip.open(fixture_path(relative)) as f:
        for line in f:
            if needle in line:
                return bytes(line.split(b" ", 1)[1].strip())
    raise AssertionError(f"no {needle!r} in {relative}")


def test_decode_futures_depth_update_from_capture() -> None:
    raw = first_capture_line("hftbacktest/examples/usdm/btcusdt_20240808.gz", b"@depth")
    (delta,) = decode(raw)
    assert isinstance(delta, BookDelta)
    assert (5123107832006, 5123107837557, 5123107831937) == (
        delta.first_seq,
        delta.seq,
        delta.prev_seq,
    )
    assert BookLevel(Decimal("58710.20"), Decimal("0.014")) == delta.bids[0]
    assert BookLevel(Decimal("65880.70"), Decimal("15.918")) == delta.asks[-1]
    assert (PERP, 1723161256298 * 1_000_000, 7) == (
        delta.symbol,
        delta.ts_event_ns,
        delta.ts_recv_ns,
    )


def test_decode_spot_depth_update_has_no_prev_seq() -> None:
    raw = '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":157,"u":160,"b":[["6621.45","0.3"]],"a":[]}'
    (delta,) = decode(raw, Market.SPOT)
    assert isinstance(delta, BookDelta)
    assert (157, 160, None, SPOT) == (delta.first_seq, delta.seq, delta.prev_seq, delta.symbol)
    assert 1_000_000 == delta.ts_event_ns


def test_decode_futures_book_ticker_from_capture() -> None:
    raw = first_capture_line("hftbacktest/examples/usdm/btcusdt_20240808.gz", b"@bookTicker")
    (quote,) = decode(raw)
    assert (
        Quote(
            venue="binance",
            market=Market.LINEAR,
            symbol=PERP,
            bid=Decimal("61800.20"),
            bid_qty=Decimal("2.507"),
            ask=Decimal("61800.30"),
            ask_qty=Decimal("2.510"),
            seq=5123107839020,
            ts_event_ns=1723161256313 * 1_000_000,
            ts_recv_ns=7,
        )
        == quote
    )


def test_decode_spot_book_ticker_without_event_fields() -> None:
    raw = first_capture_line("hftbacktest/examples/spot/btcusdt_20240808.gz", b"@bookTicker")
    assert b'"e"' not in raw
    (quote,) = decode(raw, Market.SPOT)
    assert isinstance(quote, Quote)
    assert SPOT == quote.symbol
    assert 0 == quote.ts_event_ns
    raw_stream = json.dumps(json.loads(raw)["data"])
    assert [quote] == decode(raw_stream, Market.SPOT)


def test_decode_trade_sets_the_taker_side_from_buyer_is_maker() -> None:
    raw = first_capture_line("hftbacktest/examples/usdm/btcusdt_20240808.gz", b"@trade")
    (trade,) = decode(raw)
    assert (
        Trade(
            venue="binance",
            market=Market.LINEAR,
            symbol=PERP,
            trade_id="5266583935",
            price=Decimal("61800.30"),
            qty=Decimal("0.006"),
            aggressor=Side.BUY,
            ts_event_ns=1723161256322 * 1_000_000,
            ts_recv_ns=7,
        )
        == trade
    )


def test_decode_agg_trade() -> None:
    raw = (
        '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1626992741575,"a":16599292,'
        '"s":"BTCUSDT","p":"1.01100","q":"10","f":23961322,"l":23961322,"T":1626992741421,'
        '"m":true}}'
    )
    (trade,) = decode(raw)
    assert isinstance(trade, Trade)
    assert ("16599292", Side.SELL, Decimal("1.011")) == (
        trade.trade_id,
        trade.aggressor,
        trade.price,
    )


def test_decode_24hr_ticker_from_gocryptotrader_sample() -> None:
    lines = fixture_path("gocryptotrader/exchanges/binance/testdata/wsHandleData.json")
    raw = next(line for line in lines.read_text().splitlines() if "24hrTicker" in line)
    (ticker,) = decode(raw, Market.SPOT)
    assert isinstance(ticker, Ticker)
    assert (BNB, Decimal("9338.96"), Decimal("9338.03"), Decimal("0.14097600")) == (
        ticker.symbol,
        ticker.last,
        ticker.bid,
        ticker.ask_qty,
    )
    assert Decimal("654275356.16896672") == ticker.quote_volume_24h


def test_decode_kline_and_user_events_yield_nothing() -> None:
    raw = '{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1}}}'
    assert [] == decode(raw)
    assert [] == decode('{"e":"balanceUpdate","E":1,"a":"BTC","d":"1","T":1}', Market.SPOT)


def test_decode_spot_partial_depth_takes_the_symbol_from_the_stream() -> None:
    raw = (
        '{"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":160,'
        '"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}}'
    )
    (snapshot,) = decode(raw, Market.SPOT)
    assert isinstance(snapshot, BookSnapshot)
    assert (SPOT, 160) == (snapshot.symbol, snapshot.seq)
    assert (BookLevel(Decimal("0.0024"), Decimal("10")),) == snapshot.bids


def test_decode_futures_partial_depth_is_a_snapshot() -> None:
    raw = (
        '{"stream":"btcusdt@depth5@100ms","data":{"e":"depthUpdate","E":2,"T":1,"s":"BTCUSDT",'
        '"U":390,"u":400,"pu":389,"b":[["7403.89","0.002"]],"a":[["7405.96","3.340"]]}}'
    )
    (snapshot,) = decode(raw)
    assert isinstance(snapshot, BookSnapshot)
    assert (400, 1_000_000) == (snapshot.seq, snapshot.ts_event_ns)


def test_decode_subscription_reply_and_errors_as_control_messages() -> None:
    assert [ControlMessage(kind="info", detail="result=null", request_id="1")] == decode(
        '{"result":null,"id":1}'
    )
    (listing,) = decode('{"result":["btcusdt@depth@100ms"],"id":"3"}')
    assert isinstance(listing, ControlMessage)
    assert ("3", True) == (listing.request_id, listing.ok)
    assert "btcusdt@depth@100ms" in listing.detail
    assert [
        ControlMessage(kind="error", ok=False, detail="code 2: Invalid request", request_id="5")
    ] == decode('{"error":{"code":2,"msg":"Invalid request"},"id":5}')
    assert [
        ControlMessage(kind="error", ok=False, detail="code 0: Unknown property", request_id=None)
    ] == decode('{"code":0,"msg":"Unknown property"}')


def test_decode_server_shutdown_is_the_venues_notice_of_a_close() -> None:
    # The venue asks for a new connection as soon as possible: the session reconnects.
    closing = [ControlMessage(kind="expired", detail="serverShutdown")]
    assert closing == decode('{"e":"serverShutdown","E":1}')
    assert closing == decode('{"event":{"e":"serverShutdown","E":1770123456789}}')


def test_decode_tolerates_unknown_extra_fields() -> None:
    raw = (
        '{"stream":"btcusdt@depth@100ms","extra":1,"data":{"e":"depthUpdate","E":1,'
        '"s":"BTCUSDT","U":1,"u":2,"new":{"x":[1]},"b":[],"a":[]}}'
    )
    (delta,) = decode(raw, Market.SPOT)
    assert isinstance(delta, BookDelta)


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","s":"BTCUSDT"}}',
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT",'
        '"U":"1","u":2,"b":[],"a":[]}}',
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT",'
        '"U":5,"u":2,"b":[],"a":[]}}',
        '{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,'
        '"p":"-5","q":"1","m":true}}',
        '{"lastUpdateId":1,"bids":[],"asks":[]}',
        '{"hello":"world"}',
        "[1,2,3]",
    ],
)
def test_decode_malformed_frames_raise_malformed_message_with_the_raw_text(raw: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        decode(raw, Market.SPOT)
    assert raw == info.value.raw


def test_decode_unknown_symbol_raises_a_distinct_malformed_message() -> None:
    raw = '{"e":"depthUpdate","E":1,"s":"ETHUSDT","U":1,"u":2,"b":[],"a":[]}'
    with pytest.raises(UnknownSymbol) as info:
        decode(raw, Market.SPOT)
    assert "ETHUSDT" == info.value.native_id
    assert "binance" == info.value.venue
    assert raw == info.value.raw


@pytest.mark.parametrize("level", ['["98","-1"]', '["0","1"]', '["NaN","1"]', '["1"]', "1"])
def test_impossible_levels_invalidate_the_book_when_applied_and_ask_for_a_snapshot(
    level: str,
) -> None:
    # Book levels stay JSON text through the parser; the book checks them, all or
    # nothing, when it applies them. The sequencer has counted the delta by then,
    # so the book cannot skip it: it goes invalid and resyncs.
    keeper = BookKeeper("binance", Market.SPOT, SPOT, BinanceSpotSync(), depth=None)
    keeper.on_snapshot(
        parse_depth_snapshot(
            '{"lastUpdateId":100,"bids":[["99","1"]],"asks":[["101","1"]]}',
            market=Market.SPOT,
            symbol=SPOT,
        )
    )
    bad = (
        '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":101,"u":101,'
        f'"b":[["99.5","3"],{level}],"a":[]}}'
    )
    (delta,) = decode(bad, Market.SPOT)
    result = keeper.on_delta(delta)
    assert KeeperAction.RESYNC == result.action
    assert result.update is not None and not result.update.state.valid
    assert not keeper.state.valid
    assert "malformed book levels" in (keeper.state.reason or "")
    assert 1 == keeper.statistics().malformed
    assert [] == keeper.book.bids()


def test_parse_rest_depth_snapshot_from_cryptofeed_capture() -> None:
    text = fixture_path("cryptofeed/master/sample_data/BINANCE_FUTURES.http.0.0").read_text()
    line = next(line for line in text.splitlines() if "SUSHIUSDT" in line)
    body = line.split(" -> ", 1)[1].split(": ", 1)[1]
    snapshot = parse_depth_snapshot(body, market=Market.LINEAR, symbol=PERP, ts_recv_ns=3)
    assert 600859605926 == snapshot.seq
    assert BookLevel(Decimal("7.6110"), Decimal("6")) == snapshot.bids[0]
    assert 1626992741261 * 1_000_000 == snapshot.ts_event_ns
    assert len(snapshot.bids) > 100


def test_parse_rest_depth_snapshot_rejects_a_non_snapshot() -> None:
    with pytest.raises(MalformedMessage):
        parse_depth_snapshot(
            '{"code":-1121,"msg":"Invalid symbol."}', market=Market.SPOT, symbol=SPOT
        )
