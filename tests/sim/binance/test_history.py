"""Aggregate trades, klines, mini tickers, COIN-M exchangeInfo, deep books and error bodies.

Facts: docs/venues/binance.md, "Audit (checked 2026-12-02)" B16, B17, B25
and "Facts for issue 10" (spot and USDⓈ-M market-data docs; real answers in
gocryptotrader's ``exchanges/binance/testdata/http.json``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from connector import sim
from tests.conftest import fixture_path
from tests.sim.binance.weights import inside_one_weight_window

GCT = "gocryptotrader/exchanges/binance/testdata/http.json"


def gct(path: str) -> Any:
    """The first recorded answer of ``path`` in gocryptotrader's capture of the real venue."""
    with open(fixture_path(GCT)) as fh:
        routes = json.load(fh)["routes"]
    return routes[path]["GET"][0]["data"]


def types(value: dict[str, Any]) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in value.items() if k}


@pytest.fixture
async def binance() -> AsyncIterator[sim.SimRun]:
    with trio.fail_after(60):
        async with sim.run(venues=("binance",), rate=300, seed=3) as s:
            yield s


async def get(s: sim.SimRun, market: str, path: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(s.urls["binance"][f"{market}.rest"] + path, params=params)


PREFIX = {"spot": "/api/v3", "linear": "/fapi/v1"}


# ------------------------------------------------------------ aggregate trades


@pytest.mark.parametrize(
    ("market", "keys"),
    [
        ("spot", ["a", "p", "q", "f", "l", "T", "m", "M"]),
        ("linear", ["a", "p", "q", "f", "l", "T", "m"]),
    ],
)
async def test_agg_trades_have_the_documented_fields_and_weight(
    binance: sim.SimRun, market: str, keys: list[str]
) -> None:
    real = gct(PREFIX[market] + "/aggTrades")[0]
    binance.venue("binance").move_market(market, "BTCUSDT", 1)
    with trio.fail_after(10):
        r = await get(binance, market, PREFIX[market] + "/aggTrades", symbol="BTCUSDT", limit=3)
    body = r.json()
    assert 3 == len(body)
    assert [keys] * 3 == [list(a) for a in body]
    assert types(real) == types(body[0])
    assert [a["a"] for a in body] == sorted(a["a"] for a in body)
    assert ("4" if market == "spot" else "20") == r.headers["X-MBX-USED-WEIGHT-1M"]


@pytest.mark.parametrize(("market", "path"), [("spot", "/ws"), ("linear", "/market/ws")])
async def test_agg_trade_ids_are_the_same_on_the_stream_and_in_rest(
    binance: sim.SimRun, market: str, path: str
) -> None:
    hub = binance.venue("binance")
    streamed: list[Any] = []
    with trio.fail_after(20):
        async with open_websocket_url(
            binance.urls["binance"][f"{market}.ws"] + path + "/btcusdt@aggTrade"
        ) as ws:
            hub.move_market(market, "BTCUSDT", 0.3)
            while len(streamed) < 5:
                streamed.append(json.loads(await ws.get_message()))
        rest = (
            await get(
                binance,
                market,
                PREFIX[market] + "/aggTrades",
                symbol="BTCUSDT",
                fromId=streamed[0]["a"],
                limit=5,
            )
        ).json()
    fields = ("a", "p", "q", "f", "l", "T", "m")
    assert [tuple(e[k] for k in fields) for e in streamed] == [
        tuple(r[k] for k in fields) for r in rest
    ]
    # Aggregates follow each other: no trade id is skipped or counted twice.
    assert all(b["f"] == a["l"] + 1 for a, b in itertools.pairwise(rest))


async def test_agg_trades_select_by_time_and_refuse_an_hour_on_usdm(binance: sim.SimRun) -> None:
    hub = binance.venue("binance")
    hub.move_market("linear", "BTCUSDT", 1)
    with trio.fail_after(10):
        recent = (
            await get(binance, "linear", "/fapi/v1/aggTrades", symbol="BTCUSDT", limit=1)
        ).json()
        t = recent[0]["T"]
        window = (
            await get(
                binance,
                "linear",
                "/fapi/v1/aggTrades",
                symbol="BTCUSDT",
                startTime=t,
                endTime=t,
                limit=1000,
            )
        ).json()
        too_long = await get(
            binance, "linear", "/fapi/v1/aggTrades", symbol="BTCUSDT", startTime=0, endTime=t
        )
        spot_long = await get(
            binance, "spot", "/api/v3/aggTrades", symbol="BTCUSDT", startTime=0, endTime=t
        )
    assert window and all(a["T"] == t for a in window)
    assert (400, -1127) == (too_long.status_code, too_long.json()["code"])
    assert 200 == spot_long.status_code


# ---------------------------------------------------------------------- klines


@pytest.mark.parametrize("market", ["spot", "linear"])
async def test_klines_agree_with_the_trades_they_are_built_from(
    binance: sim.SimRun, market: str
) -> None:
    hub = binance.venue("binance")
    hub.move_market(market, "BTCUSDT", 0.5)
    await trio.sleep(1.2)
    hub.move_market(market, "BTCUSDT", -0.5)
    hub.pause()
    interval = "1m"
    with trio.fail_after(10):
        trades = (
            await get(binance, market, PREFIX[market] + "/trades", symbol="BTCUSDT", limit=1000)
        ).json()
        klines = (
            await get(
                binance,
                market,
                PREFIX[market] + "/klines",
                symbol="BTCUSDT",
                interval=interval,
                limit=5,
            )
        ).json()
    # Trade ids count from 1: when the ring still starts there, no trade was forgotten.
    complete_from = 0 if trades[0]["id"] == 1 else trades[0]["time"] + 1
    checked = 0
    for row in klines:
        open_ms, o, h, low, c, v, close_ms, q, n, bv, bq, ignore = row
        mine = [t for t in trades if open_ms <= t["time"] <= close_ms]
        if not mine or open_ms < complete_from:
            continue  # part of this candle's trades may have left the trade ring
        prices = [Decimal(t["price"]) for t in mine]
        assert Decimal(o) == prices[0]
        assert Decimal(c) == prices[-1]
        assert (Decimal(h), Decimal(low)) == (max(prices), min(prices))
        assert Decimal(v) == sum(Decimal(t["qty"]) for t in mine)
        assert n == len(mine)
        taker_buys = [t for t in mine if not t["isBuyerMaker"]]
        assert Decimal(bv) == sum((Decimal(t["qty"]) for t in taker_buys), Decimal(0))
        assert Decimal(q) == pytest.approx(
            sum(Decimal(t["price"]) * Decimal(t["qty"]) for t in mine), rel=Decimal("1e-6")
        )
        assert Decimal(bq) >= 0
        assert "0" == ignore
        checked += 1
    assert checked >= 1


@pytest.mark.parametrize("market", ["spot", "linear"])
async def test_klines_have_the_shape_of_the_real_ones(binance: sim.SimRun, market: str) -> None:
    real = gct(PREFIX[market] + "/klines")[0]
    with trio.fail_after(10):
        r = await get(binance, market, PREFIX[market] + "/klines", symbol="BTCUSDT", interval="1m")
    rows = r.json()
    assert rows
    assert [type(x).__name__ for x in real] == [type(x).__name__ for x in rows[-1]]
    assert rows[-1][6] - rows[-1][0] == 59_999
    # Spot klines weigh 2; USDⓈ-M by limit: the default 500 weighs 5.
    assert ("2" if market == "spot" else "5") == r.headers["X-MBX-USED-WEIGHT-1M"]


async def test_klines_parameter_errors_use_the_real_codes(binance: sim.SimRun) -> None:
    await inside_one_weight_window()
    with trio.fail_after(10):
        bad = await get(binance, "linear", "/fapi/v1/klines", symbol="BTCUSDT", interval="1s")
        missing = await get(binance, "spot", "/api/v3/klines", symbol="BTCUSDT")
        too_many = await get(
            binance, "spot", "/api/v3/klines", symbol="BTCUSDT", interval="1m", limit=1001
        )
        usdm_many = await get(
            binance, "linear", "/fapi/v1/klines", symbol="BTCUSDT", interval="1m", limit=1500
        )
    assert (400, -1120) == (bad.status_code, bad.json()["code"])
    assert (400, -1102) == (missing.status_code, missing.json()["code"])
    assert -1130 == too_many.json()["code"]
    # The header counts the minute's weight: a 1500-candle request adds 10.
    used_before = int(bad.headers["X-MBX-USED-WEIGHT-1M"])
    assert (200, used_before + 10) == (
        usdm_many.status_code,
        int(usdm_many.headers["X-MBX-USED-WEIGHT-1M"]),
    )


@pytest.mark.parametrize(
    ("market", "path", "stream"),
    [("spot", "/ws/", "btcusdt@kline_1s"), ("linear", "/market/ws/", "btcusdt@kline_1m")],
)
async def test_kline_stream_has_the_documented_fields_and_closes_candles(
    binance: sim.SimRun, market: str, path: str, stream: str
) -> None:
    keys = ["t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"]
    url = binance.urls["binance"][f"{market}.ws"] + path + stream
    with trio.fail_after(15):
        async with open_websocket_url(url) as ws:
            frames = [json.loads(await ws.get_message()) for _ in range(3)]
    assert all(["e", "E", "s", "k"] == list(f) for f in frames)
    assert all(keys == list(f["k"]) for f in frames)
    assert {stream.split("_")[1]} == {f["k"]["i"] for f in frames}
    if market == "spot":  # one-second candles: a later push closes an earlier one
        assert any(f["k"]["x"] for f in frames)


@pytest.mark.parametrize(
    ("market", "path", "keys"),
    [
        ("spot", "/ws/", ["e", "E", "s", "c", "o", "h", "l", "v", "q"]),
        ("linear", "/market/ws/", ["e", "E", "s", "c", "o", "h", "l", "v", "q", "ps", "st"]),
    ],
)
async def test_mini_ticker_stream_has_the_documented_fields(
    binance: sim.SimRun, market: str, path: str, keys: list[str]
) -> None:
    url = binance.urls["binance"][f"{market}.ws"] + path + "btcusdt@miniTicker"
    with trio.fail_after(15):
        async with open_websocket_url(url) as ws:
            frame = json.loads(await ws.get_message())
    assert keys == list(frame)
    assert "24hrMiniTicker" == frame["e"]
    ticker = binance.venue("binance").book(market, "BTCUSDT").ticker()
    assert ticker.open == Decimal(frame["o"])


# ------------------------------------------------- COIN-M, errors, deep books


async def test_coin_m_exchange_info_has_the_real_top_level_keys_and_no_symbols(
    binance: sim.SimRun,
) -> None:
    real = gct("/dapi/v1/exchangeInfo")
    with trio.fail_after(10):
        r = await get(binance, "linear", "/dapi/v1/exchangeInfo")
    body = r.json()
    assert sorted(real) == sorted(body)
    assert [] == body["symbols"]
    assert types(real["rateLimits"][0]) == types(body["rateLimits"][0])


@pytest.mark.parametrize(("market", "path"), [("spot", "/api/v3/nope"), ("linear", "/fapi/v9/x")])
async def test_unknown_path_is_a_404_html_page(binance: sim.SimRun, market: str, path: str) -> None:
    with trio.fail_after(10):
        r = await get(binance, market, path)
    assert 404 == r.status_code
    assert r.headers["content-type"].startswith("text/html")
    assert "<html>" in r.text


@pytest.mark.parametrize(
    ("market", "limit", "levels", "weight"),
    [("spot", 5000, 5000, "250"), ("spot", 9000, 5000, "250"), ("linear", 1000, 1000, "20")],
)
async def test_depth_snapshots_are_as_deep_as_the_venue_serves(
    binance: sim.SimRun, market: str, limit: int, levels: int, weight: str
) -> None:
    with trio.fail_after(10):
        r = await get(binance, market, PREFIX[market] + "/depth", symbol="BTCUSDT", limit=limit)
    body = r.json()
    assert (levels, levels) == (len(body["bids"]), len(body["asks"]))
    assert weight == r.headers["X-MBX-USED-WEIGHT-1M"]
    bids = [Decimal(p) for p, _q in body["bids"]]
    asks = [Decimal(p) for p, _q in body["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]


async def test_deep_books_stay_deep_while_the_flow_runs(binance: sim.SimRun) -> None:
    with trio.fail_after(10):
        await get(binance, "spot", "/api/v3/depth", symbol="BTCUSDT", limit=5000)
    hub = binance.venue("binance")
    hub.move_market("spot", "BTCUSDT", 2)  # sweeps hundreds of far levels
    hub.step(2000)
    book = hub.book("spot", "BTCUSDT")
    stats = book.engine.statistics()
    assert 4000 < stats.bid_levels <= 5000
    assert 4000 < stats.ask_levels <= 5000
