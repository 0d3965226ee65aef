"""Fault plans: the builder, the injector, and every Binance-applicable fault end to end."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    open_websocket_url,
)

from connector import sim
from connector.model import Side
from connector.sim.faults import FaultInjector, FaultKind, FaultPlan, corrupt_frame

STREAM = "btcusdt@depth@0ms"

# ----------------------------------------------------------------- pure parts


def test_builders_return_new_plans_and_leave_the_original_alone() -> None:
    base = FaultPlan(seed=7)
    plan = base.drop(0.5, venue="binance", stream="depth").disconnect(after_frames=10)
    assert () == base.rules
    assert [FaultKind.DROP, FaultKind.DISCONNECT] == [r.kind for r in plan.rules]
    assert 7 == plan.seed


def _verdicts(plan: FaultPlan, n: int) -> list[tuple[str, ...]]:
    conn = FaultInjector(plan, clock=lambda: 0.0).connection("binance", 1, "spot")
    return [conn.on_frame("btcusdt@depth", f"f{i}").frames for i in range(n)]


def test_same_seed_injects_the_same_faults() -> None:
    plan = FaultPlan(seed=11).drop(0.3).duplicate(0.2).reorder(0.1)
    assert _verdicts(plan, 300) == _verdicts(plan, 300)
    other = FaultPlan(seed=12).drop(0.3).duplicate(0.2).reorder(0.1)
    assert _verdicts(plan, 300) != _verdicts(other, 300)


def test_stream_filter_spares_other_streams() -> None:
    plan = FaultPlan(seed=1).drop(1.0, stream="depth")
    conn = FaultInjector(plan, clock=lambda: 0.0).connection("binance", 1, "spot")
    assert () == conn.on_frame("btcusdt@depth@100ms", "a").frames
    assert ("b",) == conn.on_frame("btcusdt@trade", "b").frames


@pytest.mark.parametrize(
    ("venue", "rule", "hit", "spared"),
    [
        # Bybit's private ``order`` topic, not the public ``orderbook.*`` ones.
        ("bybit", "order", ["order"], ["orderbook.50.BTCUSDT", "orderbook.1.ETHUSDT"]),
        ("bybit", "orderbook", ["orderbook.50.BTCUSDT", "orderbook.1.ETHUSDT"], ["order"]),
        ("bybit", "orderbook.5", ["orderbook.5.BTCUSDT"], ["orderbook.50.BTCUSDT"]),
        ("bybit", "execution", ["execution", "execution.fast"], ["position", "wallet"]),
        ("bybit", "BTCUSDT", ["tickers.BTCUSDT", "orderbook.50.BTCUSDT"], ["tickers.BTCUSDT2"]),
        # OKX channels: ``books`` is not ``books5`` nor ``books-l2-tbt``; ``orders`` is
        # not ``orders-algo``.
        ("okx", "books", ["books:BTC-USDT"], ["books5:BTC-USDT", "books-l2-tbt:BTC-USDT"]),
        ("okx", "orders", ["orders"], ["orders-algo"]),
        # Binance streams: a part, or a run of parts, of ``<symbol>@<stream>[@<speed>]``.
        ("binance", "depth", ["btcusdt@depth@100ms", "ethusdt@depth"], ["btcusdt@depth20"]),
        ("binance", "@depth", ["btcusdt@depth@0ms"], ["btcusdt@depth5@100ms"]),
        ("binance", "btcusdt@depth", ["btcusdt@depth@100ms"], ["btcusdt@aggTrade"]),
        ("binance", "userData", ["userData"], ["btcusdt@trade"]),
    ],
)
def test_stream_filters_name_whole_parts_of_stream_names(
    venue: str, rule: str, hit: list[str], spared: list[str]
) -> None:
    conn = FaultInjector(FaultPlan().drop(1.0, stream=rule), clock=lambda: 0.0).connection(venue, 1)
    assert [()] * len(hit) == [conn.on_frame(name, "x").frames for name in hit]
    assert [("x",)] * len(spared) == [conn.on_frame(name, "x").frames for name in spared]


async def test_a_bybit_order_rule_spares_the_public_order_books() -> None:
    """A rule on Bybit's private ``order`` topic leaves ``orderbook.*`` pushes alone."""
    plan = FaultPlan().drop(1.0, venue="bybit", stream="order")
    async with sim.run(venues=("bybit",), rate=50.0, faults=plan) as s:
        with trio.fail_after(10):
            async with open_websocket_url(s.urls["bybit"]["linear.ws"] + "/v5/public/linear") as ws:
                topic = "orderbook.50.BTCUSDT"
                await ws.send_message(json.dumps({"op": "subscribe", "args": [topic]}))
                pushed: list[str] = []
                while len(pushed) < 3:
                    message = json.loads(await ws.get_message())
                    if message.get("topic") == topic:
                        pushed.append(message["type"])
    assert "snapshot" == pushed[0]
    assert not s.fault_log


def test_fraction_is_honoured_roughly() -> None:
    kept = sum(len(v) for v in _verdicts(FaultPlan(seed=3).drop(0.25), 4000))
    assert 2800 < kept < 3200


def test_max_count_caps_injections_over_the_run() -> None:
    injector = FaultInjector(FaultPlan().drop(1.0, max_count=2), clock=lambda: 0.0)
    a = injector.connection("binance", 1)
    b = injector.connection("binance", 2)
    out = [a.on_frame("s", "1").frames, b.on_frame("s", "2").frames, b.on_frame("s", "3").frames]
    assert [(), (), ("3",)] == out
    assert 2 == injector.statistics().injected["drop"]


def test_a_rule_for_one_okx_market_spares_the_other_on_the_shared_socket() -> None:
    # OKX serves spot and swap books on one /ws/v5/public connection (no market of its
    # own): the instrument in the stream name says the market.
    plan = (
        FaultPlan(seed=1)
        .drop(1.0, market="spot", stream="books")
        .corrupt_checksum(1.0, market="swap")
    )
    conn = FaultInjector(plan, clock=lambda: 0.0).connection("okx", 1, None)
    assert () == conn.on_frame("books:ETH-USDT", "a").frames
    assert ("b",) == conn.on_frame("books:ETH-USDT-SWAP", "b").frames
    assert not conn.should(FaultKind.CORRUPT_CHECKSUM, "books:BTC-USDT")
    assert conn.should(FaultKind.CORRUPT_CHECKSUM, "books:BTC-USDT-SWAP")


def test_venue_specific_rules_fire_through_should() -> None:
    plan = FaultPlan(seed=2).restart_snapshot(after_frames=3).corrupt_checksum(1.0, max_count=1)
    injector = FaultInjector(plan, clock=lambda: 0.0)
    bybit = injector.connection("bybit", 1, "linear")
    fired = []
    for _ in range(5):
        bybit.on_frame("orderbook.50.BTCUSDT", "x")
        fired.append(bybit.should(FaultKind.RESTART_SNAPSHOT, "orderbook.50.BTCUSDT"))
    okx = injector.connection("okx", 2, "spot")
    assert [False, False, True, False, False] == fired
    assert [True, False] == [okx.should(FaultKind.CORRUPT_CHECKSUM, "books") for _ in range(2)]
    assert [FaultKind.RESTART_SNAPSHOT, FaultKind.CORRUPT_CHECKSUM] == [
        e.kind for e in injector.log()
    ]


frames = st.dictionaries(
    st.text("abcdefghij", min_size=1, max_size=5),
    st.one_of(st.integers(), st.text(max_size=8), st.lists(st.text("0123456789.", max_size=6))),
    min_size=1,
    max_size=6,
).map(lambda d: msgspec.json.encode(d).decode())


@settings(max_examples=60, deadline=None)
@given(frames)
def test_truncated_frames_are_never_valid_json(frame: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(corrupt_frame(frame, "truncated"))


@settings(max_examples=60, deadline=None)
@given(frames)
def test_extra_field_frames_keep_every_original_field(frame: str) -> None:
    original = json.loads(frame)
    corrupted = json.loads(corrupt_frame(frame, "extra_field"))
    assert original == {k: v for k, v in corrupted.items() if k != "zz_unknown"}
    assert "zz_unknown" in corrupted


def test_wrong_type_turns_an_integer_field_into_a_string() -> None:
    frame = '{"stream":"x","data":{"e":"depthUpdate","E":123,"U":5}}'
    assert {"stream": "x", "data": {"e": "depthUpdate", "E": "123", "U": 5}} == json.loads(
        corrupt_frame(frame, "wrong_type")
    )


# ----------------------------------------------------------------- end to end


@asynccontextmanager
async def binance(plan: FaultPlan, **kw: Any) -> AsyncIterator[sim.SimRun]:
    # A hard limit on the simulator's whole life: start, the test, and shutdown.
    with trio.fail_after(60):
        async with sim.run(venues=("binance",), faults=plan, paused=True, **kw) as s:
            yield s


@asynccontextmanager
async def subscribed(s: sim.SimRun, market: str = "spot") -> AsyncIterator[WebSocketConnection]:
    async with open_websocket_url(s.urls["binance"][f"{market}.ws"] + "/ws") as ws:
        await ws.send_message(json.dumps({"method": "SUBSCRIBE", "params": [STREAM], "id": 1}))
        assert {"result": None, "id": 1} == json.loads(await ws.get_message())
        yield ws


def step_updates(s: sim.SimRun, n: int, market: str = "spot") -> list[int]:
    """Advance the book by exactly ``n`` updates (one hook order each)."""
    hub = s.venue("binance")
    start = s.update_id("binance", market, "BTCUSDT")
    for i in range(n):
        hub.add_liquidity(market, "BTCUSDT", Side.BUY, Decimal("1000") + i, Decimal("1"))
    return list(range(start + 1, start + n + 1))


async def read_ids(ws: WebSocketConnection, n: int) -> list[int]:
    return [json.loads(await ws.get_message())["u"] for _ in range(n)]


def logged(s: sim.SimRun, kind: FaultKind) -> list[sim.InjectedFault]:
    return [e for e in s.fault_log if e.kind is kind]


async def test_dropped_frames_are_missing_and_logged() -> None:
    async with binance(FaultPlan().drop(1.0, stream="@depth", max_count=3)) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                ids = step_updates(s, 6)
                seen = await read_ids(ws, 3)
    assert ids[3:] == seen
    assert 3 == len(logged(s, FaultKind.DROP))
    assert {STREAM} == {e.stream for e in logged(s, FaultKind.DROP)}


async def test_drops_after_frames_begin_once_the_connection_sent_that_many() -> None:
    plan = FaultPlan().drop(1.0, stream="@depth", after_frames=2, max_count=2)
    async with binance(plan) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                ids = step_updates(s, 6)
                seen = await read_ids(ws, 4)
    assert [ids[0], ids[1], ids[4], ids[5]] == seen
    assert 2 == len(logged(s, FaultKind.DROP))


async def test_duplicated_frames_arrive_twice() -> None:
    async with binance(FaultPlan().duplicate(1.0, max_count=2)) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                ids = step_updates(s, 3)
                seen = await read_ids(ws, 5)
    assert [ids[0], ids[0], ids[1], ids[1], ids[2]] == seen
    assert 2 == len(logged(s, FaultKind.DUPLICATE))


async def test_reordered_frame_arrives_after_the_next_one() -> None:
    async with binance(FaultPlan().reorder(1.0, max_count=1)) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                ids = step_updates(s, 3)
                seen = await read_ids(ws, 3)
    assert [ids[1], ids[0], ids[2]] == seen
    assert 1 == len(logged(s, FaultKind.REORDER))


async def test_reorders_after_frames_begin_once_the_connection_sent_that_many() -> None:
    async with binance(FaultPlan().reorder(1.0, after_frames=2, max_count=1)) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                ids = step_updates(s, 5)
                seen = await read_ids(ws, 5)
    assert [ids[0], ids[1], ids[3], ids[2], ids[4]] == seen
    assert 1 == len(logged(s, FaultKind.REORDER))


async def test_delayed_frame_holds_the_connection_back() -> None:
    async with binance(FaultPlan().delay(1.0, 0.4, max_count=1)) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                start = trio.current_time()
                ids = step_updates(s, 2)
                seen = await read_ids(ws, 2)
                elapsed = trio.current_time() - start
    assert ids == seen
    assert elapsed >= 0.35
    assert "seconds=0.4" in logged(s, FaultKind.DELAY)[0].detail


async def test_disconnect_after_n_frames_closes_with_going_away() -> None:
    async with binance(FaultPlan().disconnect(after_frames=4, venue="binance")) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                ids = step_updates(s, 6)
                seen: list[int] = []
                with pytest.raises(ConnectionClosed) as info:
                    while True:
                        seen.append(json.loads(await ws.get_message())["u"])
    assert ids[:4] == seen
    assert info.value.reason is not None
    assert 1001 == info.value.reason.code
    assert "frame=4" == logged(s, FaultKind.DISCONNECT)[0].detail


async def test_stall_sends_nothing_then_resumes_with_a_gap() -> None:
    async with binance(FaultPlan().stall(0.5, after_frames=2)) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                first = step_updates(s, 2)
                assert first == await read_ids(ws, 2)
                lost = step_updates(s, 3)
                with trio.move_on_after(0.3) as quiet:
                    await ws.get_message()
                await trio.sleep(0.3)
                later = step_updates(s, 1)
                seen = await read_ids(ws, 1)
    assert quiet.cancelled_caught
    assert later == seen
    assert lost[-1] < seen[0]
    assert 1 == len(logged(s, FaultKind.STALL))


async def test_refused_connections_get_503_until_the_window_ends() -> None:
    async with binance(FaultPlan().refuse_connections(0.6)) as s:
        url = s.urls["binance"]["spot.ws"] + "/ws"
        with trio.fail_after(10):
            with pytest.raises(ConnectionRejected) as info:
                async with open_websocket_url(url):
                    pass
            await trio.sleep(0.7)
            async with open_websocket_url(url) as ws:
                assert not ws.closed
    assert 503 == info.value.status_code
    assert 1 == len(logged(s, FaultKind.REFUSE))


async def test_refused_connections_stop_after_max_count_inside_the_window() -> None:
    async with binance(FaultPlan().refuse_connections(30.0, max_count=2)) as s:
        url = s.urls["binance"]["spot.ws"] + "/ws"
        with trio.fail_after(10):
            for _ in range(2):
                with pytest.raises(ConnectionRejected):
                    async with open_websocket_url(url):
                        pass
            async with open_websocket_url(url) as ws:
                assert not ws.closed
    assert 2 == len(logged(s, FaultKind.REFUSE))


async def test_rest_errors_with_a_code_are_http_200_error_bodies_on_bybit_and_okx() -> None:
    plan = (
        FaultPlan()
        .rest_error(1.0, code=10016, path="/v5/market/time", venue="bybit", max_count=1)
        .rest_error(1.0, code=50001, path="/api/v5/public/time", venue="okx", max_count=1)
        .rest_error(1.0, status=502, path="/v5/market/instruments-info", venue="bybit")
    )
    with trio.fail_after(60):
        async with sim.run(venues=("bybit", "okx"), faults=plan, paused=True) as s:
            bybit, okx = s.urls["bybit"]["linear.rest"], s.urls["okx"]["swap.rest"]
            async with httpx.AsyncClient() as client:
                said = await client.get(bybit + "/v5/market/time")
                later = await client.get(bybit + "/v5/market/time")
                busy = await client.get(okx + "/api/v5/public/time")
                bare = await client.get(bybit + "/v5/market/instruments-info")
    assert (200, 10016, "Internal server error.") == (
        said.status_code,
        said.json()["retCode"],
        said.json()["retMsg"],
    )
    assert (200, 0) == (later.status_code, later.json()["retCode"])
    assert (200, "50001", []) == (busy.status_code, busy.json()["code"], busy.json()["data"])
    assert (502, b"") == (bare.status_code, bare.content)
    details = [e.detail for e in s.fault_log if e.kind is FaultKind.REST_ERROR]
    assert ["200 code=10016", "200 code=50001", "502"] == details


async def test_okx_rest_faults_aimed_at_one_market_spare_the_other() -> None:
    # One OKX port serves spot and swap: a request's market is the one its instType or
    # instId names.
    books = "/api/v5/market/books"
    plan = FaultPlan().rest_error(1.0, venue="okx", market="spot", path=books)
    with trio.fail_after(60):
        async with sim.run(venues=("okx",), faults=plan, paused=True) as s:
            base = s.urls["okx"]["swap.rest"]
            async with httpx.AsyncClient() as client:
                spot = await client.get(base + books, params={"instId": "BTC-USDT"})
                swap = await client.get(base + books, params={"instId": "BTC-USDT-SWAP"})
    assert (503, 200) == (spot.status_code, swap.status_code)
    assert 1 == len(logged(s, FaultKind.REST_ERROR))


async def test_rest_5xx_429_and_slow_faults() -> None:
    plan = (
        FaultPlan()
        .rest_error(1.0, status=502, path="/api/v3/depth", max_count=1)
        .rest_rate_limited(1.0, retry_after=3, path="/api/v3/ticker", max_count=1)
        .slow_rest(1.0, 0.4, path="/api/v3/time", max_count=1)
    )
    async with binance(plan) as s:
        base = s.urls["binance"]["spot.rest"]
        with trio.fail_after(10):
            async with httpx.AsyncClient() as client:
                err = await client.get(base + "/api/v3/depth", params={"symbol": "BTCUSDT"})
                ok = await client.get(base + "/api/v3/depth", params={"symbol": "BTCUSDT"})
                limited = await client.get(base + "/api/v3/ticker/24hr")
                start = trio.current_time()
                await client.get(base + "/api/v3/time")
                slow = trio.current_time() - start
    assert (502, -1001) == (err.status_code, err.json()["code"])
    assert 200 == ok.status_code
    assert (429, -1003, "3") == (
        limited.status_code,
        limited.json()["code"],
        limited.headers["Retry-After"],
    )
    assert slow >= 0.35
    kinds = [e.kind for e in s.fault_log]
    assert [FaultKind.REST_ERROR, FaultKind.REST_429, FaultKind.REST_SLOW] == kinds


async def test_faults_after_the_handler_ran_spoil_only_the_answer_of_their_method() -> None:
    plan = (
        FaultPlan()
        .rest_error_after(1.0, status=503, path="/api/v3/depth", method="GET", max_count=1)
        .late_rest(1.0, 5.0, path="/api/v3/time", method="GET", max_count=1)
        .rest_error(1.0, path="/api/v3/ticker", method="POST")
    )
    async with binance(plan) as s:
        base = s.urls["binance"]["spot.rest"]
        with trio.fail_after(10):
            async with httpx.AsyncClient() as client:
                spoiled = await client.get(base + "/api/v3/depth", params={"symbol": "BTCUSDT"})
                with pytest.raises(httpx.ReadTimeout):
                    await client.get(base + "/api/v3/time", timeout=0.3)
                untouched = await client.get(base + "/api/v3/ticker/24hr")
    assert (503, -1001) == (spoiled.status_code, spoiled.json()["code"])
    assert 200 == untouched.status_code  # the rule names POST only
    kinds = [e.kind for e in s.fault_log]
    assert [FaultKind.REST_ERROR_AFTER, FaultKind.REST_LATE] == kinds


async def test_clock_skew_shifts_server_time_and_event_times() -> None:
    async with binance(FaultPlan().clock_skew(5000, venue="binance")) as s:
        with trio.fail_after(10):
            async with httpx.AsyncClient() as client:
                r = await client.get(s.urls["binance"]["spot.rest"] + "/api/v3/time")
            local = time.time_ns() // 1_000_000
            async with subscribed(s) as ws:
                step_updates(s, 1)
                event = json.loads(await ws.get_message())
    assert 4000 < r.json()["serverTime"] - local < 6000
    assert 4000 < event["E"] - local < 6000
    assert "ms=5000" == logged(s, FaultKind.CLOCK_SKEW)[0].detail


async def test_stale_snapshot_is_the_book_n_updates_ago() -> None:
    async with binance(FaultPlan().stale_snapshot(10, max_count=1)) as s:
        hub = s.venue("binance")
        book = hub.book("spot", "BTCUSDT")
        # As deep as the snapshots ask, so the stale one goes back over flow updates only.
        hub.publish(book, book.flow.deepen(5000))
        before_id = s.update_id("binance", "spot", "BTCUSDT")
        bids, asks = s.engine_book("binance", "spot", "BTCUSDT")
        step_updates(s, 10)
        with trio.fail_after(10):
            async with httpx.AsyncClient() as client:
                url = s.urls["binance"]["spot.rest"] + "/api/v3/depth"
                stale = (await client.get(url, params={"symbol": "BTCUSDT", "limit": 5000})).json()
                fresh = (await client.get(url, params={"symbol": "BTCUSDT", "limit": 5000})).json()
    assert before_id == stale["lastUpdateId"]
    assert [[Decimal(p), Decimal(q)] for p, q in stale["bids"]] == [
        [lv.price, lv.qty] for lv in bids
    ]
    assert [[Decimal(p), Decimal(q)] for p, q in stale["asks"]] == [
        [lv.price, lv.qty] for lv in asks
    ]
    assert before_id + 10 == fresh["lastUpdateId"]
    assert "updates=10" == logged(s, FaultKind.STALE_SNAPSHOT)[0].detail


@pytest.mark.parametrize("variant", ["truncated", "extra_field", "wrong_type"])
async def test_malformed_frames_reach_the_client(variant: str) -> None:
    plan = FaultPlan().malformed(1.0, variant=variant, max_count=1)  # type: ignore[arg-type]
    async with binance(plan) as s:
        with trio.fail_after(10):
            async with subscribed(s) as ws:
                ids = step_updates(s, 2)
                bad = await ws.get_message()
                good = json.loads(await ws.get_message())
    assert ids[1] == good["u"]
    if variant == "truncated":
        with pytest.raises(json.JSONDecodeError):
            json.loads(bad)
    elif variant == "extra_field":
        assert ids[0] == json.loads(bad)["u"]
        assert "zz_unknown" in json.loads(bad)
    else:
        assert isinstance(json.loads(bad)["E"], str)
    assert f"variant={variant}" in logged(s, FaultKind.MALFORMED)[0].detail
