"""Simulator shapes the first shape tests left out, checked against real data.

Where each reference comes from:

* Binance partial depth (``<sym>@depth20`` and ``@depth20@100ms``): no public
  capture of a partial-depth stream is in ``../shared/fixtures``. Spot partial
  depth is documented as the REST depth body (``lastUpdateId/bids/asks``), so
  it is compared with the real REST snapshot in the hftbacktest spot capture.
  USDⓈ-M partial depth is documented as a ``depthUpdate`` with ``pu``; it is
  compared with the real ``depthUpdate`` frames of the hftbacktest USD-M
  capture and with nautilus' ``ws_futures_depth_update.json``, which is the
  USDⓈ-M docs example (same ``E``/``U``/``u``/``pu`` values) plus ``ps``
  (a COIN-M field) and ``st`` (added by nautilus): those two are removed.
* ``/fapi/v1/time``: gocryptotrader's Binance HTTP mock, route
  ``/fapi/v1/time`` (a real USD-M answer, 2021). ``/fapi/v1/ping``: no
  futures fixture exists; nautilus' recorded ping (``{}``) is the reference,
  and the USDⓈ-M docs also answer ``{}``.
* Bybit ``tickers`` deltas: the linear socket of the cryptofeed v3 capture.
* Bybit ``/v5/market/time``: nautilus has no server-time fixture, so the
  ``result`` is compared with the v5 docs example
  (https://bybit-exchange.github.io/docs/v5/market/time) and the envelope with
  the real REST answers in the cryptofeed v3 capture.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from connector import sim
from connector.model import Side
from tests.conftest import fixture_path
from tests.sim.binance.test_frontend import NT, first_frame, get, hft_frame, nt_json, shape
from tests.sim.bybit.test_frontend import _capture, real_http, skeleton
from tests.sim.sync_bybit_okx import bybit_subscribe

GCT_BINANCE_HTTP = "gocryptotrader/exchanges/binance/testdata/http.json"
NT_CRATE = "nautilus_trader/crates/adapters/binance/test_data/"

#: The Bybit v5 docs' response example for ``GET /v5/market/time``.
BYBIT_DOCS_TIME = {
    "retCode": 0,
    "retMsg": "OK",
    "result": {"timeSecond": "1688639403", "timeNano": "1688639403423213947"},
    "retExtInfo": {},
    "time": 1688639403423,
}


@pytest.fixture
async def binance() -> AsyncIterator[sim.SimRun]:
    with trio.fail_after(60):
        async with sim.run(venues=("binance",), rate=300, seed=5) as s:
            yield s


@pytest.fixture(scope="module")
def bybit_capture() -> list[dict[str, Any]]:
    return _capture()


def levels(side: list[list[str]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in side]


def engine_top(s: sim.SimRun, market: str, depth: int) -> tuple[list[Any], list[Any]]:
    bids, asks = s.engine_book("binance", market, "BTCUSDT", depth)
    return [(lv.price, lv.qty) for lv in bids], [(lv.price, lv.qty) for lv in asks]


def gct_binance_route(path: str) -> Any:
    """The recorded body of ``GET path`` in gocryptotrader's Binance HTTP mock."""
    with open(fixture_path(GCT_BINANCE_HTTP)) as fh:
        return json.load(fh)["routes"][path]["GET"][0]["data"]


def usdm_docs_partial_depth() -> dict[str, Any]:
    example = dict(nt_json(NT + "ws_messages/ws_futures_depth_update.json"))
    del example["ps"], example["st"]
    return example


async def frames_by_stream(ws: WebSocketConnection, names: set[str]) -> dict[str, Any]:
    """The first combined-stream frame of each of ``names``."""
    got: dict[str, Any] = {}
    while set(got) != names:
        frame = await first_frame(ws, lambda f: f.get("stream") in names)
        got.setdefault(frame["stream"], frame)
    return got


# ------------------------------------------------------ Binance partial depth


@pytest.mark.parametrize("market", ["spot", "linear"])
async def test_binance_depth20_partial_streams_have_the_real_shape_and_the_engine_top(
    binance: sim.SimRun, market: str
) -> None:
    if market == "spot":
        real = [hft_frame("spot", lambda f: "lastUpdateId" in f)]
    else:
        real = [
            hft_frame("usdm", lambda f: f.get("stream") == "btcusdt@depth@0ms")["data"],
            usdm_docs_partial_depth(),
        ]
    names = {"btcusdt@depth20@100ms", "btcusdt@depth20"}
    hub = binance.venue("binance")
    hub.pause()
    base = binance.urls["binance"][f"{market}.ws"]
    with trio.fail_after(10):
        async with open_websocket_url(base + "/stream?streams=" + "/".join(sorted(names))) as ws:
            frames = await frames_by_stream(ws, names)
        async with open_websocket_url(base + "/ws/btcusdt@depth20@100ms") as ws:
            raw = json.loads(await ws.get_message())
    top_bids, top_asks = engine_top(binance, market, 20)
    update_id = binance.update_id("binance", market, "BTCUSDT")
    for name, frame in frames.items():
        assert ["stream", "data"] == list(frame)
        data = frame["data"]
        for reference in real:
            assert shape(reference) == shape(data), name
        if market == "spot":
            assert update_id == data["lastUpdateId"]
            assert (top_bids, top_asks) == (levels(data["bids"]), levels(data["asks"]))
        else:
            assert ("depthUpdate", "BTCUSDT", update_id) == (data["e"], data["s"], data["u"])
            assert (top_bids, top_asks) == (levels(data["b"]), levels(data["a"]))
    assert 20 == len(top_bids) == len(top_asks)
    assert shape(frames["btcusdt@depth20@100ms"]["data"]) == shape(raw)


async def test_binance_usdm_partial_depth_pu_is_the_previous_frames_u(
    binance: sim.SimRun,
) -> None:
    url = binance.urls["binance"]["linear.ws"] + "/ws/btcusdt@depth20@100ms"
    with trio.fail_after(10):
        async with open_websocket_url(url) as ws:
            frames = [json.loads(await ws.get_message()) for _ in range(5)]
    assert [f["u"] for f in frames[:-1]] == [f["pu"] for f in frames[1:]]
    assert all(f["pu"] < f["U"] <= f["u"] for f in frames[1:])
    assert frames[-1]["u"] > frames[0]["u"]


# ---------------------------------------------------- Binance futures REST


async def test_binance_futures_ping_and_time_have_the_real_shapes(binance: sim.SimRun) -> None:
    real_time = gct_binance_route("/fapi/v1/time")
    real_ping = nt_json(NT_CRATE + "spot/http_json/ping_response.json")
    hub = binance.venue("binance")
    with trio.fail_after(10):
        ping = await get(binance, "linear", "/fapi/v1/ping")
        before = hub.now_ms()
        time = await get(binance, "linear", "/fapi/v1/time")
        after = hub.now_ms()
    assert (200, real_ping) == (ping.status_code, ping.json())
    assert {} == ping.json()
    assert 200 == time.status_code
    assert shape(real_time) == shape(time.json())
    assert before <= time.json()["serverTime"] <= after
    assert "application/json" in time.headers["content-type"]


# ------------------------------------------------------ Bybit tickers deltas


def real_ticker_messages(capture: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The linear socket's ``tickers`` pushes, snapshots and deltas, in order."""
    linear = {r["conn"] for r in capture if r["t"] == "connect" and r["addr"].endswith("linear")}
    out: list[dict[str, Any]] = []
    for record in capture:
        if record["t"] == "recv" and record["conn"] in linear:
            msg = json.loads(record["data"])
            if msg.get("topic", "").startswith("tickers."):
                out.append(msg)
    return out


def unchanged_fields(state: dict[str, str], data: dict[str, str]) -> set[str]:
    """Fields of a delta whose value the merged state already had."""
    return {k for k, v in data.items() if k != "symbol" and state.get(k) == v}


def envelope(msg: dict[str, Any]) -> list[tuple[str, str]]:
    return [(k, type(v).__name__) for k, v in msg.items()]


PAIRS = (("bid1Price", "bid1Size"), ("ask1Price", "ask1Size"))


def check_delta_rules(state: dict[str, str], msg: dict[str, Any]) -> None:
    """The rules every real linear ``tickers`` delta follows."""
    data = msg["data"]
    assert "symbol" == next(iter(data))
    assert all(isinstance(v, str) for v in data.values())
    for price, size in PAIRS:
        assert (price in data) == (size in data), data
    # Only changed fields, except a best price or size sent again beside its changed partner.
    unchanged = unchanged_fields(state, data)
    assert unchanged <= {f for pair in PAIRS for f in pair}, data
    for pair in PAIRS:
        assert not set(pair) <= unchanged, data


def test_real_bybit_ticker_deltas_obey_the_rules_the_simulator_is_held_to(
    bybit_capture: list[dict[str, Any]],
) -> None:
    states: dict[str, dict[str, str]] = {}
    deltas = 0
    for msg in real_ticker_messages(bybit_capture):
        if msg["type"] == "snapshot":
            states[msg["topic"]] = dict(msg["data"])
            continue
        state = states[msg["topic"]]
        assert set(msg["data"]) <= set(state)
        check_delta_rules(state, msg)
        state.update(msg["data"])
        deltas += 1
    assert deltas > 100


async def test_bybit_linear_ticker_deltas_carry_only_changed_fields_in_the_real_envelope(
    bybit_capture: list[dict[str, Any]],
) -> None:
    real_envelope = envelope(
        next(m for m in real_ticker_messages(bybit_capture) if m["type"] == "delta")
    )
    topic = "tickers.BTCUSDT"
    with trio.fail_after(20):
        async with sim.run(venues=("bybit",), paused=True, seed=4) as s:
            hub = s.venue("bybit")
            url = s.urls["bybit"]["linear.ws"] + "/v5/public/linear"
            async with open_websocket_url(url) as ws:
                await bybit_subscribe(ws, topic)
                snapshot = await first_frame(ws, lambda m: m.get("topic") == topic)
                state = dict(snapshot["data"])
                got: list[dict[str, Any]] = []
                for _ in range(4):
                    delta: dict[str, Any] | None = None
                    while delta is None:  # some steps leave every ticker field as it was
                        hub.step(5, market="linear", native_id="BTCUSDT")
                        with trio.move_on_after(0.5):
                            delta = await first_frame(ws, lambda m: m.get("topic") == topic)
                    got.append(delta)
                best_bid = s.engine_book("bybit", "linear", "BTCUSDT", 1)[0][0]
                hub.add_liquidity("linear", "BTCUSDT", Side.BUY, best_bid.price, Decimal("0.005"))
                size_only = await first_frame(ws, lambda m: m.get("topic") == topic)
                got.append(size_only)
                async with open_websocket_url(url) as fresh:
                    await bybit_subscribe(fresh, topic)
                    resnapshot = await first_frame(fresh, lambda m: m.get("topic") == topic)
    assert "snapshot" == snapshot["type"]
    for msg in got:
        assert real_envelope == envelope(msg)
        assert (topic, "delta") == (msg["topic"], msg["type"])
        assert set(msg["data"]) <= set(snapshot["data"])
        check_delta_rules(state, msg)
        state.update(msg["data"])
    assert {"symbol", "bid1Price", "bid1Size"} == set(size_only["data"])
    assert best_bid.qty + Decimal("0.005") == Decimal(size_only["data"]["bid1Size"])
    assert resnapshot["data"] == state


# ----------------------------------------------------------- Bybit time


async def test_bybit_server_time_has_the_documented_shape_in_the_real_envelope(
    bybit_capture: list[dict[str, Any]],
) -> None:
    real_envelope = envelope(real_http(bybit_capture, "linear"))
    with trio.fail_after(20):
        async with (
            sim.run(venues=("bybit",), paused=True) as s,
            httpx.AsyncClient(base_url=s.urls["bybit"]["linear.rest"]) as client,
        ):
            before = s.venue("bybit").now_ns()
            answer = await client.get("/v5/market/time")
            after = s.venue("bybit").now_ns()
    body = answer.json()
    assert 200 == answer.status_code
    assert skeleton(BYBIT_DOCS_TIME) == skeleton(body)
    assert real_envelope == envelope(body)
    assert (0, "OK", {}) == (body["retCode"], body["retMsg"], body["retExtInfo"])
    nano = int(body["result"]["timeNano"])
    assert before <= nano <= after
    assert str(nano // 1_000_000_000) == body["result"]["timeSecond"]
    assert 0 <= body["time"] - nano // 1_000_000 < 1000
