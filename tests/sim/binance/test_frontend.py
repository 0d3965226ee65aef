"""The simulated Binance against real captures and the documented procedures."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from connector import sim
from connector.model import Side
from tests.conftest import fixture_path
from tests.sim.binance.weights import inside_one_weight_window
from tests.sim.sync_procedures import sync_book

NT = "nautilus_trader/tests/integration_tests/adapters/binance/resources/"
NT_CRATE = "nautilus_trader/crates/adapters/binance/test_data/"
CF = "cryptofeed/master/sample_data/"


def shape(value: Any) -> Any:
    """Keys in order and JSON types, recursively (lists: their first element)."""
    if isinstance(value, dict):
        return [(k, shape(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def hft_frame(market: str, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    path = fixture_path(f"hftbacktest/examples/{market}/btcusdt_20240808.gz")
    with gzip.open(path, "rt") as fh:
        for line in fh:
            frame = json.loads(line.split(" ", 1)[1])
            if predicate(frame):
                return frame  # type: ignore[no-any-return]
    raise AssertionError("no matching frame in fixture")


def cf_ws_frame(name: str, stream_part: str) -> dict[str, Any]:
    path = fixture_path(CF + name)
    with open(path) as fh:
        for line in fh:
            if "<->" in line or " <- " in line:
                continue
            body = line.split(": ", 1)[1]
            frame = json.loads(body)
            if stream_part in frame.get("stream", ""):
                return frame  # type: ignore[no-any-return]
    raise AssertionError("no matching frame in fixture")


def cf_http_body(name: str) -> Any:
    with open(fixture_path(CF + name)) as fh:
        return json.loads(fh.readline().split(": ", 1)[1])


def nt_json(relative: str) -> Any:
    with open(fixture_path(relative)) as fh:
        return json.load(fh)


@pytest.fixture
async def binance() -> AsyncIterator[sim.SimRun]:
    # A hard limit on the simulator's whole life: start, the test, and shutdown.
    with trio.fail_after(60):
        async with sim.run(venues=("binance",), rate=300, seed=3) as s:
            yield s


async def get(s: sim.SimRun, market: str, path: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(s.urls["binance"][f"{market}.rest"] + path, params=params)


async def first_frame(ws: WebSocketConnection, pred: Callable[[dict[str, Any]], bool]) -> Any:
    while True:
        frame = json.loads(await ws.get_message())
        if pred(frame):
            return frame


# ---------------------------------------------------------------- REST shapes


async def test_spot_depth_snapshot_has_the_shape_of_the_real_one(binance: sim.SimRun) -> None:
    expected = hft_frame("spot", lambda f: "lastUpdateId" in f)
    with trio.fail_after(10):
        actual = (await get(binance, "spot", "/api/v3/depth", symbol="BTCUSDT", limit=1000)).json()
    assert shape(expected) == shape(actual)


async def test_futures_depth_snapshot_has_the_shape_of_the_real_one(binance: sim.SimRun) -> None:
    expected = hft_frame("usdm", lambda f: "lastUpdateId" in f)
    with trio.fail_after(10):
        actual = (
            await get(binance, "linear", "/fapi/v1/depth", symbol="BTCUSDT", limit=1000)
        ).json()
    assert shape(expected) == shape(actual)


@pytest.mark.parametrize(
    ("market", "path", "fixture"),
    [
        ("spot", "/api/v3/ticker/24hr", NT_CRATE + "spot/http_json/ticker_24hr_response.json"),
        (
            "spot",
            "/api/v3/ticker/bookTicker",
            NT_CRATE + "spot/http_json/book_ticker_response.json",
        ),
        ("spot", "/api/v3/time", NT_CRATE + "spot/http_json/server_time_response.json"),
        ("spot", "/api/v3/ping", NT_CRATE + "spot/http_json/ping_response.json"),
        (
            "linear",
            "/fapi/v1/ticker/24hr",
            NT + "http_responses/http_futures_market_ticker_24hr.json",
        ),
        (
            "linear",
            "/fapi/v1/ticker/bookTicker",
            NT + "http_responses/http_futures_market_book_ticker.json",
        ),
        ("linear", "/fapi/v1/time", NT + "http_responses/http_spot_market_time.json"),
    ],
)
async def test_rest_object_has_the_shape_of_the_real_one(
    binance: sim.SimRun, market: str, path: str, fixture: str
) -> None:
    expected = nt_json(fixture)
    params = {"symbol": "BTCUSDT"} if "ticker" in path else {}
    with trio.fail_after(10):
        actual = (await get(binance, market, path, **params)).json()
    assert shape(expected) == shape(actual)


@pytest.mark.parametrize(
    ("market", "path", "fixture"),
    [
        ("spot", "/api/v3/trades", NT_CRATE + "spot/http_json/trades_response.json"),
        ("linear", "/fapi/v1/trades", NT + "http_responses/http_futures_market_trades.json"),
    ],
)
async def test_rest_trades_have_the_shape_of_the_real_ones(
    binance: sim.SimRun, market: str, path: str, fixture: str
) -> None:
    expected = nt_json(fixture)
    hub = binance.venue("binance")
    hub.move_market(market, "BTCUSDT", 1)  # trades through the book
    with trio.fail_after(10):
        actual = (await get(binance, market, path, symbol="BTCUSDT", limit=5)).json()
    assert 5 == len(actual)
    assert shape(expected) == shape(actual)
    assert [t["id"] for t in actual] == sorted(t["id"] for t in actual)


@pytest.mark.parametrize(
    ("market", "name"), [("spot", "BINANCE.0"), ("linear", "BINANCE_FUTURES.0")]
)
async def test_exchange_info_has_the_real_top_level_keys_and_filters(
    binance: sim.SimRun, market: str, name: str
) -> None:
    expected = cf_http_body(name)
    path = "/api/v3/exchangeInfo" if market == "spot" else "/fapi/v1/exchangeInfo"
    with trio.fail_after(10):
        actual = (await get(binance, market, path)).json()
    assert list(expected) == list(actual)
    assert shape(expected["rateLimits"][0]) == shape(actual["rateLimits"][0])
    real = next(s for s in expected["symbols"] if s["symbol"] == "BTCUSDT")
    mine = next(s for s in actual["symbols"] if s["symbol"] == "BTCUSDT")
    assert set(real) - {"permissions"} <= set(mine)
    real_filters = {f["filterType"]: f for f in real["filters"]}
    mine_filters = {f["filterType"]: f for f in mine["filters"]}
    for kind in ("PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE"):
        assert shape(real_filters[kind]) == shape(mine_filters[kind])
    inst = binance.venue("binance").book(market, "BTCUSDT").instrument
    assert inst.tick_size == Decimal(mine_filters["PRICE_FILTER"]["tickSize"])
    assert inst.lot_step == Decimal(mine_filters["LOT_SIZE"]["stepSize"])
    # A market order's maximum is its own, far below the limit maximum, as listed.
    market_max = Decimal(mine_filters["MARKET_LOT_SIZE"]["maxQty"])
    assert inst.max_market_qty == market_max < Decimal(mine_filters["LOT_SIZE"]["maxQty"])
    notional = "NOTIONAL" if market == "spot" else "MIN_NOTIONAL"
    assert notional in mine_filters


async def test_rest_errors_use_the_real_codes(binance: sim.SimRun) -> None:
    with trio.fail_after(10):
        bad_symbol = await get(binance, "spot", "/api/v3/depth", symbol="NOPE")
        missing = await get(binance, "spot", "/api/v3/depth")
        bad_limit = await get(binance, "linear", "/fapi/v1/depth", symbol="BTCUSDT", limit=7)
    assert (400, {"code": -1121, "msg": "Invalid symbol."}) == (
        bad_symbol.status_code,
        bad_symbol.json(),
    )
    assert -1102 == missing.json()["code"]
    assert -1130 == bad_limit.json()["code"]


async def test_depth_weight_follows_the_documented_limits(binance: sim.SimRun) -> None:
    await inside_one_weight_window()
    with trio.fail_after(10):
        first = await get(binance, "spot", "/api/v3/depth", symbol="BTCUSDT", limit=100)
        second = await get(binance, "spot", "/api/v3/depth", symbol="BTCUSDT", limit=5000)
    assert "5" == first.headers["X-MBX-USED-WEIGHT-1M"]
    assert "255" == second.headers["x-mbx-used-weight-1m"]


# -------------------------------------------------------------- stream shapes


#: USDⓈ-M streams on the ``/market`` route (docs/venues/binance.md, "Facts for issue 10").
MARKET_ROUTE = ("@aggTrade", "@ticker", "@miniTicker", "@kline_", "@markPrice", "@forceOrder")


def ws_base(s: sim.SimRun, market: str, stream: str) -> str:
    """The websocket base of ``stream``: spot is unrouted, USDⓈ-M ``/public`` or ``/market``."""
    base = s.urls["binance"][f"{market}.ws"]
    if market == "spot":
        return base
    return base + ("/market" if any(k in stream for k in MARKET_ROUTE) else "/public")


async def _stream_frame(s: sim.SimRun, market: str, stream: str) -> Any:
    url = ws_base(s, market, stream) + "/stream?streams=" + stream
    async with open_websocket_url(url) as ws:
        hub = s.venue("binance")
        for _ in range(20):
            with trio.move_on_after(1.5):
                return await first_frame(ws, lambda f: f["stream"] == stream)
            hub.move_market(market, "BTCUSDT", 0.5)
    raise AssertionError(f"no {stream} frame")


@pytest.mark.parametrize(
    ("market", "stream", "expected"),
    [
        (
            "spot",
            "btcusdt@depth@100ms",
            lambda: hft_frame(
                "spot",
                lambda f: (
                    f.get("stream") == "btcusdt@depth@100ms" and f["data"]["b"] and f["data"]["a"]
                ),
            ),
        ),
        (
            "spot",
            "btcusdt@bookTicker",
            lambda: hft_frame("spot", lambda f: f.get("stream") == "btcusdt@bookTicker"),
        ),
        (
            "spot",
            "btcusdt@trade",
            lambda: hft_frame("spot", lambda f: f.get("stream") == "btcusdt@trade"),
        ),
        (
            "linear",
            "btcusdt@depth@0ms",
            lambda: hft_frame(
                "usdm",
                lambda f: (
                    f.get("stream") == "btcusdt@depth@0ms" and f["data"]["b"] and f["data"]["a"]
                ),
            ),
        ),
        (
            "linear",
            "btcusdt@bookTicker",
            lambda: hft_frame("usdm", lambda f: f.get("stream") == "btcusdt@bookTicker"),
        ),
        (
            "linear",
            "btcusdt@trade",
            lambda: hft_frame("usdm", lambda f: f.get("stream") == "btcusdt@trade"),
        ),
        ("spot", "btcusdt@aggTrade", lambda: cf_ws_frame("BINANCE.ws.1.0", "@aggTrade")),
        ("linear", "btcusdt@aggTrade", lambda: cf_ws_frame("BINANCE_FUTURES.ws.1.0", "@aggTrade")),
        (
            "linear",
            "btcusdt@depth@100ms",
            lambda: cf_ws_frame("BINANCE_FUTURES.ws.1.0", "@depth@100ms"),
        ),
    ],
)
async def test_stream_frame_has_the_shape_of_the_real_capture(
    binance: sim.SimRun, market: str, stream: str, expected: Callable[[], Any]
) -> None:
    real = expected()
    with trio.fail_after(30):
        frame = await _stream_frame(binance, market, stream)
    data = frame["data"]
    if isinstance(data.get("b"), list):  # a window may touch one side only
        data["b"] = data["b"] or [["1", "1"]]
        data["a"] = data["a"] or [["1", "1"]]
    assert shape(real) == shape(frame)


@pytest.mark.parametrize(
    ("market", "fixture"),
    [
        ("spot", NT + "ws_messages/ws_spot_ticker_24hr.json"),
        ("linear", NT + "ws_messages/ws_futures_ticker_24hr.json"),
    ],
)
async def test_ticker_stream_has_the_documented_fields(
    binance: sim.SimRun, market: str, fixture: str
) -> None:
    real = nt_json(fixture)
    real.pop("st", None)  # nautilus-added field, not in Binance's documented payload
    with trio.fail_after(20):
        frame = await _stream_frame(binance, market, "btcusdt@ticker")
    assert shape(real) == shape(frame["data"])


async def test_partial_depth_streams_have_the_documented_shapes(binance: sim.SimRun) -> None:
    spot_snapshot = hft_frame("spot", lambda f: "lastUpdateId" in f)
    futures_diff = hft_frame("usdm", lambda f: f.get("stream") == "btcusdt@depth@0ms")["data"]
    with trio.fail_after(20):
        spot = await _stream_frame(binance, "spot", "btcusdt@depth5@100ms")
        futures = await _stream_frame(binance, "linear", "btcusdt@depth10@100ms")
    assert shape(spot_snapshot) == shape(spot["data"])
    assert 5 == len(spot["data"]["bids"]) == len(spot["data"]["asks"])
    assert shape(futures_diff) == shape(futures["data"])
    assert 10 == len(futures["data"]["b"])


async def test_raw_stream_path_sends_payload_without_envelope(binance: sim.SimRun) -> None:
    url = binance.urls["binance"]["spot.ws"] + "/ws/btcusdt@depth@100ms"
    with trio.fail_after(10):
        async with open_websocket_url(url) as ws:
            frame = json.loads(await ws.get_message())
    assert "depthUpdate" == frame["e"]
    assert "stream" not in frame


# ------------------------------------------------------------ sync procedure


@pytest.mark.parametrize(("market", "levels"), [("spot", 5000), ("linear", 1000)])
async def test_documented_sync_procedure_rebuilds_the_book_its_snapshot_deepened(
    binance: sim.SimRun, market: str, levels: int
) -> None:
    hub = binance.venue("binance")
    # Nothing asked for a deep book yet: every book holds the flow's levels only.
    assert all(
        b.engine.level_count(side) < 50
        for b in hub.books.values()
        for side in (Side.BUY, Side.SELL)
    )

    def freeze() -> int:
        hub.pause()
        return binance.update_id("binance", market, "BTCUSDT")

    with trio.fail_after(30):
        book = await sync_book(
            market,
            binance.urls["binance"][f"{market}.rest"],
            binance.urls["binance"][f"{market}.ws"],
            "BTCUSDT",
            events=8,
            final_update_id=freeze,
        )
    bids, asks = binance.engine_book("binance", market, "BTCUSDT")
    assert binance.update_id("binance", market, "BTCUSDT") == book.last_update_id
    assert [(lv.price, lv.qty) for lv in bids] == book.sorted_bids()
    assert [(lv.price, lv.qty) for lv in asks] == book.sorted_asks()
    assert book.events_applied >= 8
    # The snapshot (limit = the venue's deepest) deepened its book, and that book only.
    assert levels * 0.9 < min(len(bids), len(asks)) <= max(len(bids), len(asks)) <= levels
    other = hub.book(market, "ETHUSDT").engine
    assert other.level_count(Side.BUY) < 50 and other.level_count(Side.SELL) < 50


async def test_zero_ms_depth_sends_one_event_per_engine_update(binance: sim.SimRun) -> None:
    hub = binance.venue("binance")
    hub.pause()
    url = binance.urls["binance"]["linear.ws"] + "/ws"
    with trio.fail_after(10):
        async with open_websocket_url(url) as ws:
            await ws.send_message(
                json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@depth@0ms"], "id": 1})
            )
            assert {"result": None, "id": 1} == json.loads(await ws.get_message())
            start = binance.update_id("binance", "linear", "BTCUSDT")
            hub.step(20, market="linear", native_id="BTCUSDT")
            end = binance.update_id("binance", "linear", "BTCUSDT")
            frames = [json.loads(await ws.get_message()) for _ in range(end - start)]
    assert list(range(start + 1, end + 1)) == [f["u"] for f in frames]
    assert all(f["U"] == f["u"] == f["pu"] + 1 for f in frames)


# ------------------------------------------------------ live subscriptions


async def test_live_subscribe_unsubscribe_and_list(binance: sim.SimRun) -> None:
    url = binance.urls["binance"]["spot.ws"] + "/ws"

    async def reply(ws: WebSocketConnection) -> Any:
        return await first_frame(ws, lambda f: "id" in f)

    with trio.fail_after(15):
        async with open_websocket_url(url) as ws:
            await ws.send_message(
                json.dumps(
                    {"method": "SUBSCRIBE", "params": ["btcusdt@trade", "ethusdt@depth"], "id": 1}
                )
            )
            assert {"result": None, "id": 1} == await reply(ws)
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
            assert {"result": ["btcusdt@trade", "ethusdt@depth"], "id": 2} == await reply(ws)
            await ws.send_message(
                json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": 3})
            )
            assert {"result": None, "id": 3} == await reply(ws)
            await trio.sleep(0.25)  # stay under 5 messages per second
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 4}))
            assert {"result": ["ethusdt@depth"], "id": 4} == await reply(ws)
            await ws.send_message(json.dumps({"method": "NOPE", "id": 5}))
            error = await reply(ws)
            assert (2, 5) == (error["error"]["code"], error["id"])
            await trio.sleep(1.0)
            await ws.send_message("{not json")
            error = await reply(ws)
            assert 3 == error["error"]["code"]


async def test_subscribing_beyond_the_stream_limit_gets_an_error_reply() -> None:
    settings = {"binance": {"linear_stream_limit": 3}}
    async with sim.run(venues=("binance",), settings=settings) as s:
        with trio.fail_after(10):
            async with open_websocket_url(s.urls["binance"]["linear.ws"] + "/ws") as ws:
                params = ["btcusdt@trade", "ethusdt@trade", "solusdt@trade", "btcusdt@ticker"]
                await ws.send_message(
                    json.dumps({"method": "SUBSCRIBE", "params": params, "id": 7})
                )
                error = await first_frame(ws, lambda f: "id" in f)
                await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
                listed = await first_frame(ws, lambda f: "id" in f)
    assert (2, 7) == (error["error"]["code"], error["id"])
    assert {"result": [], "id": 8} == listed


async def test_more_than_five_messages_per_second_closes_a_spot_connection(
    binance: sim.SimRun,
) -> None:
    with trio.fail_after(10):
        async with open_websocket_url(binance.urls["binance"]["spot.ws"] + "/ws") as ws:
            for i in range(7):
                await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            with pytest.raises(ConnectionClosed) as info:
                while True:
                    await ws.get_message()
    assert info.value.reason is not None
    assert 1008 == info.value.reason.code


async def test_connection_is_closed_at_the_lifetime_limit() -> None:
    async with sim.run(venues=("binance",), settings={"binance": {"max_lifetime": 0.5}}) as s:
        with trio.fail_after(10):
            async with open_websocket_url(s.urls["binance"]["spot.ws"] + "/ws/btcusdt@trade") as ws:
                start = trio.current_time()
                with pytest.raises(ConnectionClosed):
                    while True:
                        await ws.get_message()
                elapsed = trio.current_time() - start
    assert 0.3 < elapsed < 3


# ------------------------------------------------------------ rate limits


async def test_weight_limit_answers_429_then_418_ban_with_headers() -> None:
    settings = {"binance": {"spot_weight_limit": 10, "strikes_before_ban": 1, "ban_seconds": 120}}
    async with sim.run(venues=("binance",), settings=settings) as s:
        url = s.urls["binance"]["spot.rest"] + "/api/v3/ping"
        await inside_one_weight_window()
        with trio.fail_after(10):
            async with httpx.AsyncClient() as client:
                ok = [await client.get(url) for _ in range(10)]
                limited = [await client.get(url) for _ in range(2)]
                banned = await client.get(url)
    assert [200] * 10 == [r.status_code for r in ok]
    assert [str(i) for i in range(1, 11)] == [r.headers["X-MBX-USED-WEIGHT-1M"] for r in ok]
    assert [429, 429] == [r.status_code for r in limited]
    assert -1003 == limited[0].json()["code"]
    assert "Too many requests; current limit of IP(127.0.0.1) is 10" in limited[0].json()["msg"]
    assert int(limited[0].headers["Retry-After"]) > 0
    assert 418 == banned.status_code
    assert banned.json()["msg"].startswith("Way too much request weight used; IP banned until ")
    assert 110 <= int(banned.headers["Retry-After"]) <= 120


async def test_add_liquidity_hook_shows_in_the_snapshot(binance: sim.SimRun) -> None:
    hub = binance.venue("binance")
    hub.pause()
    (best, second), _asks = binance.engine_book("binance", "spot", "BTCUSDT", 2)
    inside = second.price + Decimal("0.01")  # between the two best bids: a new level
    assert inside < best.price
    hub.add_liquidity("spot", "BTCUSDT", Side.BUY, inside, Decimal("1.5"))
    # A bid far below the book rests too, beyond the 5000 levels a snapshot shows.
    hub.add_liquidity("spot", "BTCUSDT", Side.BUY, Decimal("1000.00"), Decimal("1.5"))
    with trio.fail_after(10):
        snap = (await get(binance, "spot", "/api/v3/depth", symbol="BTCUSDT", limit=5000)).json()
    assert [f"{inside:.8f}", "1.50000000"] == snap["bids"][1]
    assert 5000 == len(snap["bids"])
    bids, _asks = binance.engine_book("binance", "spot", "BTCUSDT")
    assert (Decimal("1000.00"), Decimal("1.5")) == (bids[-1].price, bids[-1].qty)
