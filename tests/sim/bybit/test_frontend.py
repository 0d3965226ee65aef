"""The simulator's Bybit v5 front-end: wire shapes against real captures, the
documented book procedure (run by an independent client), faults and limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
import zstandard
from trio_websocket import ConnectionRejected, open_websocket_url

from connector.sim.bybit.wire import BOOK_DEPTHS, INTERVALS, format_fixed, format_trim
from connector.sim.faults import FaultPlan
from connector.sim.standalone import run
from tests.conftest import fixture_path
from tests.sim.sync_bybit_okx import (
    BybitBook,
    SyncError,
    bybit_follow,
    bybit_rest_book,
    bybit_subscribe,
    next_json,
)

CAPTURE = "cryptofeed/v3/sample_data/BYBIT-dev.jsonl.zst"
LEVEL1 = "cryptofeed/pull-1085/sample_data/BYBIT.ws.1.0"
NT = "nautilus_trader/crates/adapters/bybit/test_data/"


def skeleton(value: Any) -> Any:
    """Keys in order and JSON types, lists reduced to their first element's skeleton."""
    if isinstance(value, dict):
        return [(k, skeleton(v)) for k, v in value.items()]
    if isinstance(value, list):
        return ["list", skeleton(value[0])] if value else ["list"]
    if isinstance(value, bool):
        return "bool"
    if value is None:
        return "null"
    return type(value).__name__


def top_keys(msg: dict[str, Any]) -> tuple[list[str], list[str]]:
    data = msg["data"]
    inner = data if isinstance(data, dict) else data[0]
    return list(msg), list(inner)


def _capture() -> list[dict[str, Any]]:
    raw = fixture_path(CAPTURE).read_bytes()
    text = zstandard.ZstdDecompressor().stream_reader(raw).read().decode()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def capture() -> list[dict[str, Any]]:
    return _capture()


def real_frame(
    capture: list[dict[str, Any]], category: str, pred: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    conns = {r["conn"] for r in capture if r["t"] == "connect" and r["addr"].endswith(category)}
    for record in capture:
        if record["t"] == "recv" and record["conn"] in conns:
            msg = json.loads(record["data"])
            if pred(msg):
                return dict(msg)
    raise AssertionError("no such frame in the capture")


def real_http(capture: list[dict[str, Any]], category: str) -> dict[str, Any]:
    for record in capture:
        if record["t"] == "http" and f"category={category}" in record["url"]:
            return dict(json.loads(record["data"]))
    raise AssertionError("no such response")


async def collect(
    ws: Any, pred: Callable[[dict[str, Any]], bool], count: int = 1
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < count:
        msg = await next_json(ws)
        if pred(msg):
            out.append(msg)
    return out


def engine_levels(sim: Any, market: str, symbol: str, depth: int) -> Any:
    bids, asks = sim.engine_book("bybit", market, symbol, depth)
    return [(lv.price, lv.qty) for lv in bids], [(lv.price, lv.qty) for lv in asks]


# ------------------------------------------------------------------- formats


def test_bybit_formats_linear_prices_with_tick_decimals_and_spot_trimmed() -> None:
    assert "65114.20" == format_fixed(Decimal("65114.2"), Decimal("0.10"))
    assert "65140" == format_trim(Decimal("65140.0"))
    assert "60000" == format_trim(Decimal("6E+4"))


# -------------------------------------------------------------------- shapes


@pytest.mark.parametrize("category", ["linear", "spot"])
async def test_bybit_websocket_frames_have_the_captured_shapes(
    capture: list[dict[str, Any]], category: str
) -> None:
    snap = real_frame(
        capture,
        category,
        lambda m: m.get("type") == "snapshot" and "orderbook" in m.get("topic", ""),
    )
    delta = real_frame(
        capture, category, lambda m: m.get("type") == "delta" and "orderbook" in m.get("topic", "")
    )
    trade = real_frame(capture, category, lambda m: m.get("topic", "").startswith("publicTrade"))
    ticker = real_frame(capture, category, lambda m: m.get("topic", "").startswith("tickers"))
    ack = real_frame(capture, category, lambda m: m.get("op") == "subscribe")
    with trio.fail_after(20):
        async with run(venues=("bybit",), rate=400) as sim:
            url = sim.urls["bybit"][f"{category}.ws"] + f"/v5/public/{category}"
            async with open_websocket_url(url) as ws:
                topics = ["orderbook.200.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT"]
                reply = await bybit_subscribe(ws, *topics)
                got: dict[str, dict[str, Any]] = {}
                while len(got) < 4:
                    msg = await next_json(ws)
                    topic = msg.get("topic", "")
                    kind = (
                        "orderbook." + msg["type"]
                        if topic.startswith("orderbook")
                        else topic.split(".")[0]
                    )
                    got.setdefault(kind, msg)
    assert skeleton(ack) == skeleton(reply)
    assert skeleton(snap) == skeleton(got["orderbook.snapshot"])
    assert top_keys(delta) == top_keys(got["orderbook.delta"])
    assert skeleton(trade) == skeleton(got["publicTrade"])
    assert skeleton(ticker) == skeleton(got["tickers"])
    assert all(
        isinstance(p, str) and isinstance(q, str) for p, q in got["orderbook.snapshot"]["data"]["b"]
    )


async def test_bybit_orderbook_1_pushes_snapshots_shaped_like_the_capture() -> None:
    line = next(
        ln for ln in fixture_path(LEVEL1).read_text().splitlines() if '"topic":"orderbook.1.' in ln
    )
    real = json.loads(line.split(": ", 1)[1])
    with trio.fail_after(20):
        async with run(venues=("bybit",), rate=400) as sim:
            url = sim.urls["bybit"]["linear.ws"] + "/v5/public/linear"
            async with open_websocket_url(url) as ws:
                await bybit_subscribe(ws, "orderbook.1.BTCUSDT")
                frames = await collect(ws, lambda m: m.get("topic") == "orderbook.1.BTCUSDT", 3)
    assert skeleton(real) == skeleton(frames[0])
    assert ["snapshot"] * 3 == [f["type"] for f in frames]
    assert all(len(f["data"]["b"]) == 1 and len(f["data"]["a"]) == 1 for f in frames)


async def test_bybit_rest_bodies_have_the_real_shapes(capture: list[dict[str, Any]]) -> None:
    nt_book = json.loads(fixture_path(NT + "http_get_orderbook.json").read_text())
    nt_trades = json.loads(fixture_path(NT + "http_get_trades_recent.json").read_text())
    with trio.fail_after(20):
        async with run(venues=("bybit",), rate=400) as sim:
            base = sim.urls["bybit"]["spot.rest"]
            async with httpx.AsyncClient(base_url=base) as client:
                inst = {
                    c: (
                        await client.get("/v5/market/instruments-info", params={"category": c})
                    ).json()
                    for c in ("linear", "spot")
                }
                book = (
                    await client.get(
                        "/v5/market/orderbook",
                        params={"category": "linear", "symbol": "BTCUSDT", "limit": 3},
                    )
                ).json()
                await trio.sleep(0.2)
                trades = (
                    await client.get(
                        "/v5/market/recent-trade",
                        params={"category": "linear", "symbol": "BTCUSDT", "limit": 2},
                    )
                ).json()
                t = (await client.get("/v5/market/time")).json()
                tick = {
                    c: (
                        await client.get(
                            "/v5/market/tickers", params={"category": c, "symbol": "BTCUSDT"}
                        )
                    ).json()
                    for c in ("linear", "spot")
                }
    for category in ("linear", "spot"):
        real = real_http(capture, category)
        real_item = next(i for i in real["result"]["list"] if i["symbol"] == "BTCUSDT")
        sim_item = next(i for i in inst[category]["result"]["list"] if i["symbol"] == "BTCUSDT")
        assert list(real) == list(inst[category])
        assert list(real["result"]) == list(inst[category]["result"])
        assert skeleton(real_item) == skeleton(sim_item)
    assert ["retCode", "retMsg", "result", "retExtInfo", "time"] == list(book)
    assert skeleton(nt_book["result"]) == skeleton(book["result"])
    assert skeleton(nt_trades["result"]["list"][0]) == skeleton(trades["result"]["list"][0])
    assert ["timeSecond", "timeNano"] == list(t["result"])
    assert t["result"]["timeNano"].startswith(t["result"]["timeSecond"])
    linear_keys = [
        "symbol", "lastPrice", "indexPrice", "markPrice", "prevPrice24h", "price24hPcnt",
        "highPrice24h", "lowPrice24h", "prevPrice1h", "openInterest", "openInterestValue",
        "turnover24h", "volume24h", "fundingRate", "nextFundingTime", "predictedDeliveryPrice",
        "basisRate", "deliveryFeeRate", "deliveryTime", "ask1Size", "bid1Price", "ask1Price",
        "bid1Size", "basis",
    ]  # fmt: skip
    spot_keys = [
        "symbol", "bid1Price", "bid1Size", "ask1Price", "ask1Size", "lastPrice", "prevPrice24h",
        "price24hPcnt", "highPrice24h", "lowPrice24h", "turnover24h", "volume24h", "usdIndexPrice",
    ]  # fmt: skip
    assert linear_keys == list(tick["linear"]["result"]["list"][0])
    assert spot_keys == list(tick["spot"]["result"]["list"][0])


# ---------------------------------------------------------- sync procedure


@pytest.mark.parametrize(("category", "immediate"), [("linear", False), ("spot", True)])
async def test_bybit_snapshot_and_deltas_rebuild_the_engine_book(
    category: str, immediate: bool
) -> None:
    with trio.fail_after(20):
        async with run(
            venues=("bybit",), paused=True, settings={"bybit": {"immediate": immediate}}
        ) as sim:
            hub = sim.venue("bybit")
            url = sim.urls["bybit"][f"{category}.ws"] + f"/v5/public/{category}"
            async with open_websocket_url(url) as ws:
                topic = "orderbook.50.ETHUSDT"
                reply = await bybit_subscribe(ws, topic)
                book = BybitBook()
                for _ in range(5):
                    hub.step(7, market=category, native_id="ETHUSDT")
                    await bybit_follow(ws, book, topic, sim.update_id("bybit", category, "ETHUSDT"))
                assert reply["success"] is True
                assert 1 == book.snapshots
                assert book.deltas >= 5
                assert engine_levels(sim, category, "ETHUSDT", 50) == book.levels()


async def test_bybit_rest_orderbook_u_is_the_1000_level_streams_and_chains_with_it() -> None:
    with trio.fail_after(20):
        async with run(venues=("bybit",), paused=True) as sim:
            hub = sim.venue("bybit")
            rest = sim.urls["bybit"]["linear.rest"]
            async with open_websocket_url(
                sim.urls["bybit"]["linear.ws"] + "/v5/public/linear"
            ) as ws:
                topic = "orderbook.1000.BTCUSDT"
                await bybit_subscribe(ws, topic)
                book = BybitBook()
                await bybit_follow(ws, book, topic, sim.update_id("bybit", "linear", "BTCUSDT"))
                hub.step(5, market="linear", native_id="BTCUSDT")
                snap = await bybit_rest_book(rest, "linear", "BTCUSDT", 1000)
                top = await bybit_rest_book(rest, "linear", "BTCUSDT", 200)
                await bybit_follow(ws, book, topic, snap["seq"])
    assert snap["u"] == book.u
    assert snap["seq"] == book.seq
    assert (1000, 1000) == (len(snap["b"]), len(snap["a"]))
    assert [
        [format_fixed(p, Decimal("0.10")), format_fixed(q, Decimal("0.001"))]
        for p, q in book.levels()[0]
    ] == snap["b"]
    assert (snap["u"], snap["b"][:200], snap["a"][:200]) == (top["u"], top["b"], top["a"])


async def test_bybit_u1_restart_snapshot_is_survived_by_the_documented_procedure() -> None:
    plan = FaultPlan(seed=3).restart_snapshot(after_frames=4, venue="bybit", max_count=1)
    with trio.fail_after(20):
        async with run(venues=("bybit",), paused=True, faults=plan) as sim:
            hub = sim.venue("bybit")
            async with open_websocket_url(
                sim.urls["bybit"]["linear.ws"] + "/v5/public/linear"
            ) as ws:
                topic = "orderbook.50.SOLUSDT"
                await bybit_subscribe(ws, topic)
                book = BybitBook()
                us: list[int] = []
                for _ in range(10):
                    hub.step(3, market="linear", native_id="SOLUSDT")
                    target = sim.update_id("bybit", "linear", "SOLUSDT")
                    while book.seq is None or book.seq < target:
                        msg = await next_json(ws)
                        if msg.get("topic") == topic:
                            book.on_message(msg)
                            us.append(msg["data"]["u"])
                assert 1 == book.restarts
                assert 1 in us[1:]
                assert engine_levels(sim, "linear", "SOLUSDT", 50) == book.levels()
    assert any(f.kind.value == "restart_snapshot" for f in sim.fault_log)


def test_bybit_sync_script_detects_a_gap() -> None:
    book = BybitBook()
    book.on_message({"type": "snapshot", "data": {"b": [], "a": [], "u": 10, "seq": 1}})
    with pytest.raises(SyncError):
        book.on_message({"type": "delta", "data": {"b": [], "a": [], "u": 12, "seq": 2}})


# ------------------------------------------------------- control messages


async def test_bybit_ping_gets_the_socket_specific_pong() -> None:
    with trio.fail_after(20):
        async with run(venues=("bybit",), paused=True) as sim:
            replies = {}
            for category in ("spot", "linear"):
                url = sim.urls["bybit"][f"{category}.ws"] + f"/v5/public/{category}"
                async with open_websocket_url(url) as ws:
                    await ws.send_message(json.dumps({"op": "ping"}))
                    replies[category] = await next_json(ws)
    assert ["success", "ret_msg", "conn_id", "op"] == list(replies["spot"])
    assert ["success", "ret_msg", "conn_id", "req_id", "op"] == list(replies["linear"])
    assert ("pong", "ping") == (replies["spot"]["ret_msg"], replies["spot"]["op"])
    assert ("pong", "ping", "") == (
        replies["linear"]["ret_msg"],
        replies["linear"]["op"],
        replies["linear"]["req_id"],
    )


async def test_bybit_subscribe_errors_and_unsubscribe_stop_the_topic() -> None:
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), rate=400) as sim,
            open_websocket_url(sim.urls["bybit"]["spot.ws"] + "/v5/public/spot") as ws,
        ):
            bad = await bybit_subscribe(ws, "orderbook.50.NOPEUSDT")
            await ws.send_message(
                json.dumps({"op": "subscribe", "args": ["orderbook.7.BTCUSDT"], "req_id": "r1"})
            )
            bad_depth = await collect(ws, lambda m: m.get("op") == "subscribe")
            good = await bybit_subscribe(ws, "publicTrade.BTCUSDT")
            await collect(ws, lambda m: m.get("topic") == "publicTrade.BTCUSDT")
            await ws.send_message(
                json.dumps({"op": "unsubscribe", "args": ["publicTrade.BTCUSDT"]})
            )
            unsub = await collect(ws, lambda m: m.get("op") == "unsubscribe")
            late = []
            with trio.move_on_after(0.5):
                while True:
                    late.append(await next_json(ws))
    assert (False, "error:handler not found,topic:orderbook.50.NOPEUSDT") == (
        bad["success"],
        bad["ret_msg"],
    )
    assert (False, "r1") == (bad_depth[0]["success"], bad_depth[0]["req_id"])
    assert (True, "subscribe") == (good["success"], good["ret_msg"])
    assert unsub[0]["success"] is True
    assert [] == [m for m in late if m.get("topic") == "publicTrade.BTCUSDT"]


async def test_bybit_rest_rate_limit_answers_10006_with_limit_headers() -> None:
    with trio.fail_after(20):
        async with (
            run(
                venues=("bybit",),
                paused=True,
                settings={"bybit": {"rest_default_limit": 3, "rest_window": 60.0}},
            ) as sim,
            httpx.AsyncClient(base_url=sim.urls["bybit"]["spot.rest"]) as client,
        ):
            answers = [await client.get("/v5/market/time") for _ in range(4)]
    assert [0, 0, 0, 10006] == [a.json()["retCode"] for a in answers]
    assert [200] * 4 == [a.status_code for a in answers]
    assert ["2", "1", "0", "0"] == [a.headers["X-Bapi-Limit-Status"] for a in answers]
    assert "3" == answers[3].headers["X-Bapi-Limit"]
    assert int(answers[3].headers["X-Bapi-Limit-Reset-Timestamp"]) > answers[3].json()["time"]


async def test_bybit_rest_parameter_errors_use_retcode_10001() -> None:
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), paused=True) as sim,
            httpx.AsyncClient(base_url=sim.urls["bybit"]["spot.rest"]) as client,
        ):
            unknown = (
                await client.get(
                    "/v5/market/orderbook", params={"category": "spot", "symbol": "NOPE"}
                )
            ).json()
            category = (
                await client.get(
                    "/v5/market/orderbook", params={"category": "x", "symbol": "BTCUSDT"}
                )
            ).json()
            limit = (
                await client.get(
                    "/v5/market/orderbook",
                    params={"category": "spot", "symbol": "BTCUSDT", "limit": 1001},
                )
            ).json()
    assert [10001, 10001, 10001] == [unknown["retCode"], category["retCode"], limit["retCode"]]
    assert {} == unknown["result"]


# --------------------------------------------------------- one host, depth


async def test_bybit_serves_every_category_socket_and_rest_on_one_port() -> None:
    with trio.fail_after(20):
        async with run(venues=("bybit",), paused=True) as sim:
            urls = sim.urls["bybit"]
            frontend = sim.frontends["bybit"]
            base = urls["spot.ws"]
            replies = {}
            for category in ("spot", "linear"):
                async with open_websocket_url(f"{base}/v5/public/{category}") as ws:
                    replies[category] = await bybit_subscribe(ws, "orderbook.1.BTCUSDT")
            async with httpx.AsyncClient(base_url=urls["spot.rest"]) as client:
                books = {
                    c: (
                        await client.get(
                            "/v5/market/orderbook", params={"category": c, "symbol": "BTCUSDT"}
                        )
                    ).json()
                    for c in ("spot", "linear")
                }
    assert {urls["spot.ws"]} == {urls["linear.ws"]}
    assert {urls["spot.rest"]} == {urls["linear.rest"]}
    assert 1 == len({id(s) for s in frontend.servers.values()})  # type: ignore[attr-defined]
    assert [True, True] == [replies[c]["success"] for c in ("spot", "linear")]
    assert [0, 0] == [books[c]["retCode"] for c in ("spot", "linear")]
    # The documented defaults: spot 1 level, linear 25.
    assert (1, 25) == (len(books["spot"]["result"]["b"]), len(books["linear"]["result"]["b"]))


async def test_bybit_faults_aimed_at_one_category_hit_only_it_on_the_shared_port() -> None:
    plan = (
        FaultPlan(seed=1)
        .refuse_connections(60.0, venue="bybit", market="linear")
        .rest_error(1.0, venue="bybit", market="linear", path="/v5/market/orderbook")
    )
    with trio.fail_after(20):
        async with run(venues=("bybit",), paused=True, faults=plan) as sim:
            base = sim.urls["bybit"]["spot.ws"]
            async with open_websocket_url(f"{base}/v5/public/spot") as ws:
                spot = await bybit_subscribe(ws, "orderbook.1.BTCUSDT")
            with pytest.raises(ConnectionRejected) as refused:
                async with open_websocket_url(f"{base}/v5/public/linear"):
                    pass
            async with httpx.AsyncClient(base_url=sim.urls["bybit"]["spot.rest"]) as client:
                statuses = {
                    c: (
                        await client.get(
                            "/v5/market/orderbook", params={"category": c, "symbol": "BTCUSDT"}
                        )
                    ).status_code
                    for c in ("spot", "linear")
                }
    assert spot["success"] is True
    assert 503 == refused.value.status_code
    assert {"spot": 200, "linear": 503} == statuses


async def test_bybit_subscribe_error_has_the_documented_shape_and_nothing_follows() -> None:
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), rate=400) as sim,
            open_websocket_url(sim.urls["bybit"]["linear.ws"] + "/v5/public/linear") as ws,
        ):
            await ws.send_message(
                json.dumps(
                    {"op": "subscribe", "args": ["orderbook.500.BTCUSDT"], "req_id": "10001"}
                )
            )
            reply = await next_json(ws)
            late = []
            with trio.move_on_after(0.5):
                while True:
                    late.append(await next_json(ws))
    # Level 500 was taken offline on 2025-09-11.
    assert {
        "success": False,
        "ret_msg": "error:handler not found,topic:orderbook.500.BTCUSDT",
        "conn_id": reply["conn_id"],
        "req_id": "10001",
        "op": "subscribe",
    } == reply
    assert ["success", "ret_msg", "conn_id", "req_id", "op"] == list(reply)
    assert [] == late


def test_bybit_book_depths_and_push_intervals_are_the_documented_ones() -> None:
    assert {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 1000)} == BOOK_DEPTHS
    assert {1: 0.010, 50: 0.020, 200: 0.100, 1000: 0.200} == INTERVALS["spot"]
    assert {1: 0.010, 50: 0.020, 200: 0.100, 1000: 0.200} == INTERVALS["linear"]


@pytest.mark.parametrize("category", ["spot", "linear"])
async def test_bybit_serves_books_1000_levels_deep_on_the_stream_and_rest(category: str) -> None:
    with trio.fail_after(30):
        async with run(venues=("bybit",), paused=True) as sim:
            url = sim.urls["bybit"][f"{category}.ws"] + f"/v5/public/{category}"
            async with open_websocket_url(url) as ws:
                await bybit_subscribe(ws, "orderbook.1000.SOLUSDT")
                snap = await collect(ws, lambda m: m.get("type") == "snapshot")
            rest = await bybit_rest_book(
                sim.urls["bybit"][f"{category}.rest"], category, "SOLUSDT", 1000
            )
            engine = engine_levels(sim, category, "SOLUSDT", 2000)
    data = snap[0]["data"]
    assert (1000, 1000) == (len(data["b"]), len(data["a"]))
    assert (1000, 1000) == (len(rest["b"]), len(rest["a"]))
    assert min(len(engine[0]), len(engine[1])) >= 1000
    bids = [Decimal(p) for p, _ in data["b"]]
    asks = [Decimal(p) for p, _ in data["a"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]
    assert [(Decimal(p), Decimal(q)) for p, q in data["b"]] == engine[0][:1000]


async def test_bybit_deep_books_off_keeps_the_synthetic_flows_depth() -> None:
    with trio.fail_after(20):
        async with run(
            venues=("bybit",), paused=True, settings={"bybit": {"deep_books": False}}
        ) as sim:
            rest = await bybit_rest_book(
                sim.urls["bybit"]["linear.rest"], "linear", "BTCUSDT", 1000
            )
    assert len(rest["b"]) < 50
