"""The Bybit market-data adapter: sockets under 21,000 characters of topics, and
instruments-info paging (``limit`` 1000, ``nextPageCursor``; Bybit "Connect" and
"Get Instruments Info")."""

from __future__ import annotations

import json
from decimal import Decimal

from connector.model import Instrument, Market, Symbol, SymbolKind
from connector.venues.bybit import streams
from connector.venues.bybit.market_data import BybitMarketData
from connector.venues.driver import PagedInstruments, StreamSpec

WS = {"spot.ws": "wss://stream.bybit.com", "linear.ws": "wss://stream.bybit.com"}
CHANNELS = ("book", "trades", "ticker", "bbo")


def _coins(n: int, market: Market) -> list[Instrument]:
    kind = SymbolKind.SPOT if market is Market.SPOT else SymbolKind.PERP
    return [
        Instrument(
            venue="bybit",
            symbol=Symbol(f"COIN{i}", "USDT", kind),
            native_id=f"COIN{i}USDT",
            market=market,
            tick_size=Decimal("0.01"),
            lot_step=Decimal("0.001"),
            min_qty=Decimal("0.001"),
        )
        for i in range(n)
    ]


def _specs(adapter: BybitMarketData, instruments: list[Instrument]) -> list[StreamSpec]:
    return [
        spec
        for instrument in instruments
        for channel in CHANNELS
        for spec in adapter.streams(instrument.market, instrument, channel)
    ]


def _chars(specs: tuple[StreamSpec, ...]) -> int:
    return sum(len(s.name) for s in specs)


# -- sockets -----------------------------------------------------------------------


def test_bybit_plan_splits_a_category_over_sockets_under_21000_characters_each() -> None:
    adapter = BybitMarketData()
    linear = _specs(adapter, _coins(500, Market.LINEAR))
    spot = _specs(adapter, _coins(3, Market.SPOT))
    assert _chars(tuple(linear)) > 2 * streams.CONNECTION_ARGS_CHARS_LIMIT

    plans = adapter.plan_connections(WS, [*linear, *spot])

    linear_plans = [p for p in plans if p.market is Market.LINEAR]
    assert 3 == len(linear_plans)
    assert all(_chars(p.streams) <= 21_000 for p in linear_plans)
    assert linear == [s for p in linear_plans for s in p.streams]
    assert {"wss://stream.bybit.com/v5/public/linear"} == {p.url for p in linear_plans}
    (spot_plan,) = [p for p in plans if p.market is Market.SPOT]
    assert tuple(spot) == spot_plan.streams
    for plan in linear_plans:
        ids = {s.instrument.native_id for s in plan.streams}
        assert len(plan.streams) == 4 * len(ids)  # an instrument's topics share a socket
        args = [a for f in adapter.subscribe_frames(plan) for a in json.loads(f)["args"]]
        assert [s.name for s in plan.streams] == args


def test_bybit_spot_sockets_split_by_characters_still_send_ten_topics_per_request() -> None:
    adapter = BybitMarketData()
    specs = _specs(adapter, _coins(400, Market.SPOT))

    plans = adapter.plan_connections(WS, specs)

    assert 1 < len(plans)
    for plan in plans:
        frames = [json.loads(f) for f in adapter.subscribe_frames(plan)]
        assert all(len(f["args"]) <= 10 for f in frames)
        assert _chars(plan.streams) <= 21_000


def test_bybit_plan_keeps_a_small_category_on_one_socket() -> None:
    adapter = BybitMarketData()
    specs = _specs(adapter, _coins(50, Market.LINEAR))

    (plan,) = adapter.plan_connections(WS, specs)

    assert tuple(specs) == plan.streams


# -- instruments-info paging ---------------------------------------------------------


def _page(cursor: str, ret_code: int = 0) -> bytes:
    return json.dumps(
        {
            "retCode": ret_code,
            "retMsg": "OK",
            "result": {"category": "linear", "list": [], "nextPageCursor": cursor},
        }
    ).encode()


def test_bybit_instruments_call_asks_for_1000_a_page() -> None:
    call = BybitMarketData().instruments_call(Market.LINEAR)

    assert "/v5/market/instruments-info" == call.path
    assert {"category": "linear", "limit": 1000} == dict(call.params)


def test_bybit_follows_next_page_cursor_until_it_is_empty() -> None:
    adapter = BybitMarketData()
    assert isinstance(adapter, PagedInstruments)
    first = adapter.instruments_call(Market.LINEAR)

    second = adapter.next_instruments_call(Market.LINEAR, first, _page("first%3D1000"))

    assert second is not None
    assert {"category": "linear", "limit": 1000, "cursor": "first%3D1000"} == dict(second.params)
    assert (first.path, first.weights) == (second.path, second.weights)
    assert adapter.next_instruments_call(Market.LINEAR, second, _page("")) is None


def test_bybit_paging_stops_on_spot_a_repeated_cursor_or_an_error_body() -> None:
    adapter = BybitMarketData()
    spot = adapter.instruments_call(Market.SPOT)
    assert adapter.next_instruments_call(Market.SPOT, spot, _page("abc")) is None
    linear = adapter.next_instruments_call(
        Market.LINEAR, adapter.instruments_call(Market.LINEAR), _page("abc")
    )
    assert linear is not None
    assert adapter.next_instruments_call(Market.LINEAR, linear, _page("abc")) is None
    assert adapter.next_instruments_call(Market.LINEAR, linear, _page("xyz", 10001)) is None
    assert adapter.next_instruments_call(Market.LINEAR, linear, b"not json") is None
