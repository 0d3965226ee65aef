"""Bybit klines: `/v5/market/kline` and `kline.{interval}.{symbol}` from the simulated trades."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from connector.sim.bybit.klines import KLINE_INTERVALS
from connector.sim.standalone import run
from tests.sim.bybit.test_frontend import capture, collect, real_frame, skeleton
from tests.sim.sync_bybit_okx import bybit_subscribe, next_json

__all__ = ["capture"]

#: Pushes every 0.1 s instead of about 1 s, to keep the tests short.
FAST = {"bybit": {"kline_push": 0.1}}

# 2026-12-02 (a Wednesday) 13:45:10 UTC.
WEDNESDAY_MS = 1_796_219_110_000
MONDAY_MS = 1_795_996_800_000  # 2026-11-30 00:00 UTC


def test_bybit_kline_intervals_are_the_documented_ones_weeks_start_monday() -> None:
    assert [
        "1",
        "3",
        "5",
        "15",
        "30",
        "60",
        "120",
        "240",
        "360",
        "720",
        "D",
        "W",
        "M",
    ] == list(KLINE_INTERVALS)
    assert MONDAY_MS == KLINE_INTERVALS["W"].open_ms(WEDNESDAY_MS)
    assert MONDAY_MS + 86_400_000 * 2 == KLINE_INTERVALS["D"].open_ms(WEDNESDAY_MS)
    assert MONDAY_MS + 86_400_000 == KLINE_INTERVALS["M"].open_ms(WEDNESDAY_MS)  # 2026-12-01


@pytest.mark.parametrize("category", ["spot", "linear"])
async def test_bybit_rest_kline_holds_the_trades_newest_first(category: str) -> None:
    symbol = "BTCUSDT"
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), paused=True) as sim,
            httpx.AsyncClient(base_url=sim.urls["bybit"][f"{category}.rest"]) as client,
        ):
            hub = sim.venues["bybit"]
            hub.move_market(category, symbol, 1)
            hub.move_market(category, symbol, -0.5)
            params = {"category": category, "symbol": symbol, "interval": "1"}
            trades = (
                await client.get(
                    "/v5/market/recent-trade",
                    params={**params, "limit": 60 if category == "spot" else 1000},
                )
            ).json()["result"]["list"]
            body = (await client.get("/v5/market/kline", params={**params, "limit": 3})).json()
    result = body["result"]
    assert (0, symbol, category) == (body["retCode"], result["symbol"], result["category"])
    rows = result["list"]
    assert len(rows) <= 3
    starts = [int(r[0]) for r in rows]
    assert starts == sorted(starts, reverse=True)
    assert all(len(r) == 7 and all(isinstance(v, str) for v in r) for r in rows)
    newest = rows[0]
    in_candle = [t for t in trades if int(t["time"]) // 60_000 * 60_000 == int(newest[0])]
    assert in_candle
    assert Decimal(newest[4]) == Decimal(in_candle[0]["price"])  # close = last trade
    prices = [Decimal(t["price"]) for t in in_candle]
    assert Decimal(newest[2]) >= max(prices)
    assert Decimal(newest[3]) <= min(prices)
    assert Decimal(newest[5]) >= sum(Decimal(t["size"]) for t in in_candle)


async def test_bybit_rest_kline_bounds_limit_and_errors() -> None:
    # The minute before the simulator started (read before it starts: a start on a
    # minute's edge would otherwise put its first candle inside the window asked).
    current = time.time_ns() // 1_000_000 // 60_000 * 60_000
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), paused=True) as sim,
            httpx.AsyncClient(base_url=sim.urls["bybit"]["linear.rest"]) as client,
        ):
            params = {"category": "linear", "symbol": "ETHUSDT", "interval": "1"}
            bounded = (
                await client.get(
                    "/v5/market/kline",
                    params={**params, "start": current - 600_000, "end": current - 1},
                )
            ).json()
            bad_interval = (
                await client.get("/v5/market/kline", params={**params, "interval": "2"})
            ).json()
            bad_start = (
                await client.get("/v5/market/kline", params={**params, "start": "x"})
            ).json()
            missing = (
                await client.get("/v5/market/kline", params={"category": "linear", "interval": "1"})
            ).json()
    # The series starts with the simulator: nothing before the current candle.
    assert (0, []) == (bounded["retCode"], bounded["result"]["list"])
    assert [10001, 10001, 10001] == [
        bad_interval["retCode"],
        bad_start["retCode"],
        missing["retCode"],
    ]


@pytest.mark.parametrize("category", ["linear", "spot"])
async def test_bybit_kline_topic_shape_snapshot_and_pushes(
    capture: list[dict[str, Any]], category: str
) -> None:
    real = real_frame(capture, category, lambda m: str(m.get("topic", "")).startswith("kline."))
    topic = "kline.1.BTCUSDT"
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), paused=True, settings=FAST) as sim,
            open_websocket_url(
                sim.urls["bybit"][f"{category}.ws"] + f"/v5/public/{category}"
            ) as ws,
        ):
            reply = await bybit_subscribe(ws, topic)
            first = (await collect(ws, lambda m: m.get("topic") == topic))[0]
            sim.venues["bybit"].move_market(category, "BTCUSDT", 1)
            pushed = (await collect(ws, lambda m: m.get("topic") == topic))[0]
            bad = await bybit_subscribe(ws, "kline.2.BTCUSDT")
    assert reply["success"] is True
    assert skeleton(real) == skeleton(first)
    candle = first["data"][0]
    assert candle["end"] == candle["start"] + 59_999
    assert candle["confirm"] is False
    latest = pushed["data"][-1]
    assert Decimal(latest["volume"]) > 0 or latest["start"] > candle["start"]
    assert Decimal(latest["low"]) <= Decimal(latest["close"]) <= Decimal(latest["high"])
    assert (False, "error:handler not found,topic:kline.2.BTCUSDT") == (
        bad["success"],
        bad["ret_msg"],
    )


async def test_bybit_kline_topic_is_quiet_without_trades() -> None:
    topic = "kline.5.SOLUSDT"
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), paused=True, settings=FAST) as sim,
            open_websocket_url(sim.urls["bybit"]["linear.ws"] + "/v5/public/linear") as ws,
        ):
            await ws.send_message(json.dumps({"op": "subscribe", "args": [topic]}))
            frames: list[dict[str, Any]] = []
            with trio.move_on_after(0.35):
                while True:
                    msg = await next_json(ws)
                    if msg.get("topic") == topic:
                        frames.append(msg)
    # The snapshot on subscribe, then nothing until a trade (unless a candle closed meanwhile).
    assert 1 <= len(frames) <= 2
