from __future__ import annotations

import collections
import json
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from connector.model.levels import JsonLevels
from connector.venues.bybit import (
    StreamState,
    build_symbol_map,
    decode_frame,
    parse_orderbook_snapshot,
)
from connector.venues.common import ControlMessage, SymbolMap
from tests.conftest import fixture_path
from tests.strategies import ask_prices, bid_prices, qtys
from tests.venues.bybit.captures import load_v3, v1_frames

NAUTILUS = "nautilus_trader/crates/adapters/bybit/test_data/"
BTC_PERP = Symbol.parse("BTC-USDT-PERP")


def _symbols(*natives: tuple[Market, str, str]) -> SymbolMap:
    return build_symbol_map(
        Instrument(
            venue="bybit",
            symbol=Symbol.parse(text),
            native_id=native,
            market=market,
            tick_size=Decimal("0.01"),
            lot_step=Decimal("0.001"),
            min_qty=Decimal("0.001"),
        )
        for market, native, text in natives
    )


LINEAR = _symbols((Market.LINEAR, "BTCUSDT", "BTC-USDT-PERP"))


def _decode(raw: str, state: StreamState | None = None) -> list[object]:
    return list(decode_frame(raw, market=Market.LINEAR, symbols=LINEAR, ts_recv_ns=5, state=state))


def test_bybit_capture_frames_decode_to_expected_event_counts() -> None:
    counts = collections.Counter(
        (frame.market, type(event).__name__) for frame, event in load_v3().events()
    )
    assert {
        (Market.LINEAR, "BookSnapshot"): 2,
        (Market.LINEAR, "BookDelta"): 795,
        (Market.LINEAR, "Ticker"): 378,
        (Market.LINEAR, "Trade"): 221,
        (Market.LINEAR, "ControlMessage"): 17,
        (Market.SPOT, "BookSnapshot"): 1,
        (Market.SPOT, "BookDelta"): 299,
        (Market.SPOT, "Ticker"): 41,
        (Market.SPOT, "Trade"): 11,
        (Market.SPOT, "ControlMessage"): 7,
    } == dict(counts)


def test_bybit_orderbook_delta_carries_u_as_seq_and_ts_in_ns() -> None:
    raw = fixture_path(NAUTILUS + "ws_orderbook_delta.json").read_text()
    symbols = _symbols((Market.LINEAR, "BTCUSDT", "BTC-USDT-PERP"))
    raw = raw.replace("orderbook.1.", "orderbook.200.")
    (delta,) = decode_frame(raw, market=Market.LINEAR, symbols=symbols, ts_recv_ns=9)
    assert (
        BookDelta(
            venue="bybit",
            market=Market.LINEAR,
            symbol=BTC_PERP,
            first_seq=123456790,
            seq=123456790,
            bids=(BookLevel(Decimal("27450.00"), Decimal("0.400")),),
            asks=(BookLevel(Decimal("27451.00"), Decimal("0")),),
            ts_event_ns=1709891679500 * 1_000_000,
            ts_recv_ns=9,
        )
        == delta
    )


def test_bybit_orderbook_snapshot_keeps_levels_best_first() -> None:
    raw = fixture_path(NAUTILUS + "ws_orderbook_snapshot.json").read_text()
    (snap,) = _decode(raw.replace("orderbook.1.", "orderbook.50."))
    assert isinstance(snap, BookSnapshot)
    assert 123456789 == snap.seq
    assert [Decimal("27450.00"), Decimal("27449.50")] == [lv.price for lv in snap.bids]
    assert [Decimal("27451.00"), Decimal("27451.50")] == [lv.price for lv in snap.asks]


def test_bybit_orderbook_1_frames_from_capture_become_quotes() -> None:
    for relative, market in (
        ("cryptofeed/pull-1085/sample_data/BYBIT.ws.1.0", Market.LINEAR),
        ("cryptofeed/pull-1085/sample_data/BYBIT.ws.2.0", Market.SPOT),
    ):
        frames = list(v1_frames(relative))
        natives = {json.loads(text)["data"]["s"] for _, text in frames if '"orderbook.1.' in text}
        symbols = _symbols(
            *(
                (market, n, f"{n.removesuffix('USDT').removesuffix('USDC')}-USD-SPOT")
                for n in natives
            )
        )
        quotes = [
            e
            for ts, text in frames
            for e in decode_frame(text, market=market, symbols=symbols, ts_recv_ns=ts)
            if isinstance(e, Quote)
        ]
        assert sum('"orderbook.1.' in text for _, text in frames) == len(quotes)
        assert all(q.bid is not None and q.ask is not None and q.bid < q.ask for q in quotes)


def test_bybit_orderbook_1_delta_merges_onto_last_quote() -> None:
    state = StreamState()
    snap = fixture_path(NAUTILUS + "ws_orderbook_snapshot.json").read_text()
    delta = fixture_path(NAUTILUS + "ws_orderbook_delta.json").read_text()
    assert [] == _decode(delta)
    (first,) = _decode(snap, state)
    (second,) = _decode(delta, state)
    assert isinstance(first, Quote) and isinstance(second, Quote)
    assert (Decimal("27450.00"), Decimal("0.500"), Decimal("27451.00"), Decimal("0.750")) == (
        first.bid,
        first.bid_qty,
        first.ask,
        first.ask_qty,
    )
    assert (Decimal("27450.00"), Decimal("0.400"), None, None) == (
        second.bid,
        second.bid_qty,
        second.ask,
        second.ask_qty,
    )
    assert 123456790 == second.seq


def test_bybit_public_trade_aggressor_is_taker_side() -> None:
    raw = fixture_path(NAUTILUS + "ws_public_trade.json").read_text()
    # The fixture's topic ("trade.linear.BTCUSDT") is not a v5 topic name.
    (trade,) = _decode(raw.replace("trade.linear.BTCUSDT", "publicTrade.BTCUSDT"))
    assert (
        Trade(
            venue="bybit",
            market=Market.LINEAR,
            symbol=BTC_PERP,
            trade_id="9dc75fca-4bdd-4773-9f78-6f5d7ab2a110",
            price=Decimal("27451.00"),
            qty=Decimal("0.010"),
            aggressor=Side.BUY,
            ts_event_ns=1709891679000 * 1_000_000,
            ts_recv_ns=5,
        )
        == trade
    )


def test_bybit_linear_ticker_delta_merges_onto_last_snapshot() -> None:
    state = StreamState()
    snapshot = fixture_path(NAUTILUS + "ws_ticker_linear.json").read_text()
    delta = json.dumps(
        {
            "topic": "tickers.BTCUSDT",
            "type": "delta",
            "data": {"symbol": "BTCUSDT", "bid1Price": "17215.00", "lastPrice": "17215.50"},
            "cs": 1,
            "ts": 1673272861700,
        }
    )
    assert [] == _decode(delta, state)
    assert 1 == state.ticker_deltas_without_snapshot
    (full,) = _decode(snapshot, state)
    (merged,) = _decode(delta, state)
    assert isinstance(full, Ticker) and isinstance(merged, Ticker)
    assert (Decimal("17216.00"), Decimal("17215.50"), Decimal("84.489")) == (
        full.last,
        full.bid,
        full.bid_qty,
    )
    assert (
        Ticker(
            venue="bybit",
            market=Market.LINEAR,
            symbol=BTC_PERP,
            last=Decimal("17215.50"),
            bid=Decimal("17215.00"),
            bid_qty=Decimal("84.489"),
            ask=Decimal("17216.00"),
            ask_qty=Decimal("83.020"),
            open_24h=Decimal("16926.50"),
            high_24h=Decimal("17281.50"),
            low_24h=Decimal("16915.00"),
            volume_24h=Decimal("91705.276"),
            quote_volume_24h=Decimal("1570383121.943499"),
            ts_event_ns=1673272861700 * 1_000_000,
            ts_recv_ns=5,
        )
        == merged
    )


def test_bybit_op_replies_become_control_messages() -> None:
    ack = fixture_path(NAUTILUS + "ws_subscription_ack.json").read_text()
    fail = fixture_path(NAUTILUS + "ws_subscription_failure.json").read_text()
    pong = '{"success":true,"ret_msg":"pong","conn_id":"x","req_id":"9","op":"ping"}'
    assert [
        ControlMessage(kind="subscribed", ok=True, detail="subscribe", request_id="sub-orderbook-1")
    ] == _decode(ack)
    (failure,) = _decode(fail)
    assert isinstance(failure, ControlMessage)
    assert ("subscribed", False) == (failure.kind, failure.ok)
    assert "Invalid topic" in failure.detail
    assert [ControlMessage(kind="pong", ok=True, detail="pong", request_id="9")] == _decode(pong)


def test_bybit_ignored_topics_give_no_events() -> None:
    raw = fixture_path(NAUTILUS + "ws_kline.json").read_text()
    assert [] == _decode(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        '{"topic":"orderbook.200.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT"}}',
        '{"topic":"orderbook.200.BTCUSDT","type":"weird","ts":1,'
        '"data":{"s":"BTCUSDT","b":[],"a":[],"u":1}}',
        '{"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy",'
        '"v":"0","p":"1","i":"x"}]}',
    ],
)
def test_bybit_bad_frames_raise_malformed_message(raw: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        _decode(raw)
    assert raw == info.value.raw


def test_bybit_frame_for_unknown_symbol_raises_unknown_symbol() -> None:
    raw = '{"topic":"tickers.ETHUSDT","type":"snapshot","ts":1,"data":{"symbol":"ETHUSDT"}}'
    with pytest.raises(UnknownSymbol) as info:
        _decode(raw)
    assert "ETHUSDT" == info.value.native_id
    assert "bybit" == info.value.venue
    assert raw == info.value.raw


def test_bybit_rest_orderbook_parses_to_snapshot() -> None:
    body = fixture_path(NAUTILUS + "http_get_orderbook.json").read_bytes()
    snap = parse_orderbook_snapshot(body, market=Market.LINEAR, symbols=LINEAR, ts_recv_ns=3)
    assert (1234567, 3, 3) == (snap.seq, len(snap.bids), len(snap.asks))
    assert BookLevel(Decimal("27450.50"), Decimal("1.500")) == snap.bids[0]
    with pytest.raises(MalformedMessage):
        parse_orderbook_snapshot(
            '{"retCode":10001,"retMsg":"bad"}', market=Market.LINEAR, symbols=LINEAR, ts_recv_ns=3
        )


# -- the order-book fast path decides as the general path ------------------------

_level = st.tuples(
    st.one_of(bid_prices, ask_prices, st.sampled_from(["", "x", "-1"])),
    st.one_of(qtys, st.sampled_from(["", "abc"])),
).map(list)


@st.composite
def _book_messages(draw: st.DrawFn) -> dict[str, object]:
    data: dict[str, object] = {
        "s": draw(st.sampled_from(["BTCUSDT", "BTCUSDT", "ETHUSDT"])),
        "b": draw(st.lists(_level, max_size=4)),
        "a": draw(st.lists(_level, max_size=4)),
        "u": draw(st.integers(min_value=1, max_value=10**12)),
        "seq": draw(st.integers(min_value=0, max_value=10**12)),
    }
    if draw(st.booleans()):
        del data[draw(st.sampled_from(["s", "b", "u"]))]  # a frame short of a field
    return {
        "topic": f"orderbook.{draw(st.sampled_from(['1', '50', '200']))}.BTCUSDT",
        "type": draw(st.sampled_from(["snapshot", "delta", "delta", "weird"])),
        "ts": draw(st.integers(min_value=0, max_value=2 * 10**12)),
        "data": data,
        "cts": 1,
    }


def _outcomes(frames: list[str | bytes]) -> list[object]:
    state = StreamState()
    out: list[object] = []
    for raw in frames:
        try:
            events = decode_frame(
                raw, market=Market.LINEAR, symbols=LINEAR, ts_recv_ns=5, state=state
            )
        except MalformedMessage as exc:  # UnknownSymbol too
            out.append((type(exc), str(exc).replace(repr(raw), "")))
            continue
        for event in events:
            if isinstance(event, BookSnapshot | BookDelta):
                # Levels stay the venue's text (read only by the book): compare the text.
                assert isinstance(event.bids, JsonLevels) and isinstance(event.asks, JsonLevels)
                names = getattr(event, "__struct_fields__", None) or attrs.fields_dict(type(event))
                out.append(
                    {
                        **{n: getattr(event, n) for n in names},
                        "bids": event.bids.text,
                        "asks": event.asks.text,
                    }
                )
            else:
                out.append(event)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(_book_messages(), min_size=1, max_size=6), st.booleans())
def test_bybit_book_frames_decode_alike_topic_first_or_not(
    messages: list[dict[str, object]], as_bytes: bool
) -> None:
    # Topic first, as Bybit writes it: the one-pass decode. The same fields in
    # another order: the general path.
    fast = [json.dumps(m, separators=(",", ":")) for m in messages]
    general = [json.dumps({"type": m["type"], **m}, separators=(",", ":")) for m in messages]
    assert all(f.startswith('{"topic":"orderbook.') for f in fast)
    assert not any(g.startswith('{"topic"') for g in general)
    if as_bytes:
        assert _outcomes([f.encode() for f in fast]) == _outcomes([g.encode() for g in general])
    else:
        assert _outcomes(list(fast)) == _outcomes(list(general))
