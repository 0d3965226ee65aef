"""The OKX market-data adapter: REST book snapshots, resync choice, socket sharding.

Bodies follow OKX's docs: ``GET /api/v5/market/books`` answers with ``seqId``
(docs example ``3235851742``); the ``books`` channel's snapshot push carries
``prevSeqId: -1``.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connector.errors import MalformedMessage
from connector.model import BookSnapshot, Instrument, Market, Symbol, SymbolKind
from connector.venues.common import SymbolMap
from connector.venues.driver import StreamSpec
from connector.venues.okx.market_data import OkxMarketData

SPOT = Symbol.parse("BTC-USDT-SPOT")
PERP = Symbol.parse("BTC-USDT-PERP")
WS = {"spot.ws": "wss://ws.okx.com", "swap.ws": "wss://ws.okx.com"}

REST_BOOKS = (
    b'{"code":"0","msg":"","data":[{"asks":[["41006.8","0.60038921","0","1"]],'
    b'"bids":[["41006.3","0.30178218","0","2"]],"ts":"1629966436396","seqId":3235851742}]}'
)
REST_BOOKS_WITHOUT_SEQ = (
    b'{"code":"0","msg":"","data":[{"asks":[["41006.8","0.6","0","1"]],'
    b'"bids":[["41006.3","0.3","0","2"]],"ts":"1629966436396"}]}'
)


def _instrument(symbol: Symbol, native_id: str, market: Market) -> Instrument:
    return Instrument(
        venue="okx",
        symbol=symbol,
        native_id=native_id,
        market=market,
        tick_size=Decimal("0.1"),
        lot_step=Decimal("0.0001"),
        min_qty=Decimal("0.0001"),
    )


BTC = _instrument(SPOT, "BTC-USDT", Market.SPOT)
BTC_SWAP = _instrument(PERP, "BTC-USDT-SWAP", Market.SWAP)


def _symbols(*instruments: Instrument) -> SymbolMap:
    symbols = SymbolMap("okx")
    symbols.extend(instruments)
    return symbols


def _pushed_snapshot(inst_id: str) -> str:
    return json.dumps(
        {
            "arg": {"channel": "books", "instId": inst_id},
            "action": "snapshot",
            "data": [
                {
                    "asks": [["41006.8", "0.6", "0", "1"]],
                    "bids": [["41006.3", "0.3", "0", "2"]],
                    "ts": "1629966436396",
                    "checksum": 0,
                    "prevSeqId": -1,
                    "seqId": 3235851742,
                }
            ],
        }
    )


def _book_stream(adapter: OkxMarketData, instrument: Instrument) -> StreamSpec:
    (spec,) = adapter.streams(instrument.market, instrument, "book")
    return spec


# -- REST snapshots and the resync choice -----------------------------------------


def test_okx_resyncs_a_book_from_the_rest_books_snapshot_of_400_levels() -> None:
    call = OkxMarketData().snapshot_call(Market.SWAP, BTC_SWAP)

    assert call is not None
    assert ("GET", "/api/v5/market/books") == (call.method, call.path)
    assert {"instId": "BTC-USDT-SWAP", "sz": 400} == dict(call.params)
    assert {"books": 1} == dict(call.weights)


def test_okx_parse_snapshot_reads_the_rest_books_seq_id() -> None:
    snapshot = OkxMarketData().parse_snapshot(Market.SPOT, BTC, REST_BOOKS, 5)

    assert (SPOT, 3235851742, None, None, 5) == (
        snapshot.symbol,
        snapshot.seq,
        snapshot.prev_seq,
        snapshot.checksum,
        snapshot.ts_recv_ns,
    )
    assert (Decimal("41006.3"), Decimal("41006.8")) == (
        snapshot.bids[0].price,
        snapshot.asks[0].price,
    )


def test_okx_rest_books_without_seq_id_is_refused_and_books_resync_by_resubscribing() -> None:
    adapter = OkxMarketData()
    with pytest.raises(MalformedMessage, match="without seqId"):
        adapter.parse_snapshot(Market.SPOT, BTC, REST_BOOKS_WITHOUT_SEQ, 5)

    assert adapter.snapshot_call(Market.SPOT, BTC) is None
    assert adapter.snapshot_call(Market.SWAP, BTC_SWAP) is None


def test_okx_rest_books_error_body_does_not_change_how_books_resync() -> None:
    adapter = OkxMarketData()
    with pytest.raises(MalformedMessage):
        adapter.parse_snapshot(Market.SPOT, BTC, b'{"code":"51001","msg":"nope","data":[]}', 5)
    assert adapter.snapshot_call(Market.SPOT, BTC) is not None


def test_okx_book_whose_stream_pushes_snapshots_resyncs_by_resubscribing() -> None:
    adapter = OkxMarketData()
    symbols = _symbols(BTC, BTC_SWAP)

    (event,) = adapter.decode(_pushed_snapshot("BTC-USDT"), Market.SPOT, symbols, 1)

    assert isinstance(event, BookSnapshot) and -1 == event.prev_seq
    assert adapter.snapshot_call(Market.SPOT, BTC) is None
    assert adapter.snapshot_call(Market.SWAP, BTC_SWAP) is not None  # its own stream decides


def test_okx_resubscription_not_answered_by_a_snapshot_falls_back_to_rest() -> None:
    adapter = OkxMarketData()
    symbols = _symbols(BTC)
    adapter.decode(_pushed_snapshot("BTC-USDT"), Market.SPOT, symbols, 1)

    frames = adapter.resubscribe_frames(_book_stream(adapter, BTC))

    assert ["unsubscribe", "subscribe"] == [json.loads(f)["op"] for f in frames]
    # No snapshot since: the venue stopped pushing them; the next resync is REST.
    assert adapter.snapshot_call(Market.SPOT, BTC) is not None
    adapter.decode(_pushed_snapshot("BTC-USDT"), Market.SPOT, symbols, 2)
    assert adapter.snapshot_call(Market.SPOT, BTC) is None


def test_okx_read_captured_rest_turns_a_books_body_with_seq_id_into_a_snapshot() -> None:
    adapter = OkxMarketData()
    url = "https://openapi.okx.com/api/v5/market/books?instId=BTC-USDT&sz=400"

    (snapshot,) = adapter.read_captured_rest(url, REST_BOOKS, _symbols(BTC), 9)

    assert isinstance(snapshot, BookSnapshot)
    assert (SPOT, 3235851742, 9) == (snapshot.symbol, snapshot.seq, snapshot.ts_recv_ns)
    assert [] == adapter.read_captured_rest(url, REST_BOOKS_WITHOUT_SEQ, _symbols(BTC), 9)


# -- sockets: fewer than 30 books channels each -------------------------------------


def _coins(n: int) -> list[Instrument]:
    return [
        _instrument(Symbol(f"C{i}", "USDT", SymbolKind.SPOT), f"C{i}-USDT", Market.SPOT)
        for i in range(n)
    ]


def _specs(
    adapter: OkxMarketData, instruments: list[Instrument], channels: tuple[str, ...]
) -> list[StreamSpec]:
    return [
        spec
        for instrument in instruments
        for channel in channels
        for spec in adapter.streams(instrument.market, instrument, channel)
    ]


def test_okx_plan_keeps_29_books_channels_on_one_socket() -> None:
    adapter = OkxMarketData()
    specs = _specs(adapter, _coins(29), ("book", "trades", "ticker", "bbo"))

    (plan,) = adapter.plan_connections(WS, specs)

    assert tuple(specs) == plan.streams


def test_okx_plan_shards_books_channels_fewer_than_30_per_socket() -> None:
    adapter = OkxMarketData()
    instruments = [*_coins(70), BTC_SWAP]
    specs = _specs(adapter, instruments, ("book", "trades", "ticker", "bbo"))

    plans = adapter.plan_connections(WS, specs)

    books = [sum(1 for s in plan.streams if s.channel == "book") for plan in plans]
    assert [29, 29, 13] == books
    assert {"wss://ws.okx.com/ws/v5/public"} == {plan.url for plan in plans}
    assert specs == [s for plan in plans for s in plan.streams]
    # An instrument's streams share its socket; each socket subscribes only its own.
    for plan in plans:
        ids = {s.instrument.native_id for s in plan.streams}
        assert all(len([s for s in plan.streams if s.instrument.native_id == i]) == 4 for i in ids)
        args = [a for f in adapter.subscribe_frames(plan) for a in json.loads(f)["args"]]
        assert len(plan.streams) == len(args)
    assert Market.SWAP is plans[-1].streams[-1].market


def test_okx_plan_without_books_channels_keeps_one_socket() -> None:
    adapter = OkxMarketData()
    specs = _specs(adapter, _coins(100), ("trades", "ticker"))

    assert 1 == len(adapter.plan_connections(WS, specs))
