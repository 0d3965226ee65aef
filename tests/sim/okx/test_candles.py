"""OKX candles: REST rows and paging, bars, and the ``candle*`` channels on ``/ws/v5/business``."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import trio
from trio_websocket import open_websocket_url

from connector.sim.okx.candles import CHANNEL_BARS, REST_BARS
from connector.sim.standalone import run
from tests.sim.sync_bybit_okx import next_json


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_okx_utc8_bars_open_at_16_utc_and_utc_bars_at_midnight() -> None:
    ts = _ms("2025-12-02T18:26:40+00:00")
    assert CHANNEL_BARS["1D"].open_ms(ts) == _ms("2025-12-02T16:00:00+00:00")
    assert CHANNEL_BARS["1Dutc"].open_ms(ts) == _ms("2025-12-02T00:00:00+00:00")
    assert CHANNEL_BARS["6H"].open_ms(ts) == _ms("2025-12-02T16:00:00+00:00")
    month = CHANNEL_BARS["1M"]
    assert month.open_ms(ts) == _ms("2025-12-01T00:00:00+08:00")
    assert month.next_open_ms(month.open_ms(ts)) == _ms("2026-01-01T00:00:00+08:00")
    assert CHANNEL_BARS["1Mutc"].open_ms(ts) == _ms("2025-12-01T00:00:00+00:00")
    assert CHANNEL_BARS["1W"].open_ms(ts) == _ms("2025-12-01T00:00:00+08:00")
    assert CHANNEL_BARS["1Wutc"].open_ms(ts) == _ms("2025-12-01T00:00:00+00:00")
    assert "1s" not in REST_BARS and "1s" in CHANNEL_BARS and "1Mutc" in REST_BARS


async def _get(client: httpx.AsyncClient, path: str, **params: str) -> Any:
    reply = await client.get(path, params=params)
    return reply.status_code, reply.json()


async def test_okx_rest_candles_rows_paging_and_errors() -> None:
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True) as sim:
            hub = sim.venues["okx"]
            hub.move_market("spot", "BTC-USDT", 1)
            hub.move_market("swap", "BTC-USDT-SWAP", -1)
            async with httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as client:
                status, body = await _get(client, "/api/v5/market/candles", instId="BTC-USDT")
                assert 200 == status and "0" == body["code"]
                (row,) = body["data"][:1]
                assert 9 == len(row) and all(isinstance(v, str) for v in row)
                ts, o, h, low, c, vol, vol_ccy, vol_quote, confirm = row
                assert Decimal(low) <= min(Decimal(o), Decimal(c))
                assert max(Decimal(o), Decimal(c)) <= Decimal(h)
                assert Decimal(vol) > 0 and vol_ccy == vol_quote and confirm == "0"
                assert int(ts) % 60_000 == 0

                _, swap = await _get(
                    client, "/api/v5/market/history-candles", instId="BTC-USDT-SWAP", bar="1m"
                )
                ts, *_, vol, vol_ccy, vol_quote, _confirm = swap["data"][0]
                # BTC-USDT-SWAP ctVal 0.01: volCcy is base, vol contracts.
                assert Decimal(vol_ccy) == Decimal(vol) * Decimal("0.01")
                assert Decimal(vol_quote) > Decimal(vol_ccy)

                _, older = await _get(
                    client, "/api/v5/market/candles", instId="BTC-USDT", after=ts, limit="5"
                )
                assert all(int(r[0]) < int(ts) for r in older["data"])
                _, newer = await _get(
                    client, "/api/v5/market/candles", instId="BTC-USDT", before=str(int(ts) - 1)
                )
                assert [r[0] for r in newer["data"]] == [ts]

                status, bad = await _get(
                    client, "/api/v5/market/candles", instId="BTC-USDT", bar="7m"
                )
                assert (400, "51000") == (status, bad["code"])
                status, bad = await _get(
                    client, "/api/v5/market/history-candles", instId="BTC-USDT", limit="101"
                )
                assert (400, "51000") == (status, bad["code"])
                status, bad = await _get(client, "/api/v5/market/candles", instId="NOPE-USDT")
                assert (200, "51001") == (status, bad["code"])
                status, bad = await _get(client, "/api/v5/market/candles")
                assert (400, "50014") == (status, bad["code"])


async def test_okx_candle_channel_on_business_pushes_current_then_changes() -> None:
    with trio.fail_after(20):
        async with run(venues=("okx",), paused=True) as sim:
            hub = sim.venues["okx"]
            base = sim.urls["okx"]["spot.ws"]
            async with open_websocket_url(base + "/ws/v5/public") as public:
                arg = {"channel": "candle1m", "instId": "BTC-USDT"}
                await public.send_message(json.dumps({"op": "subscribe", "args": [arg]}))
                refused = await next_json(public)
                assert ("error", "64001") == (refused["event"], refused["code"])
            async with open_websocket_url(base + "/ws/v5/business") as ws:
                await ws.send_message(
                    json.dumps(
                        {
                            "id": "7",
                            "op": "subscribe",
                            "args": [arg, {"channel": "books", "instId": "BTC-USDT"}],
                        }
                    )
                )
                ack = await next_json(ws)
                assert {"id": "7", "event": "subscribe", "arg": arg} == {
                    k: ack[k] for k in ("id", "event", "arg")
                }
                refused = await next_json(ws)
                assert ("error", "60018") == (refused["event"], refused["code"])
                first = await next_json(ws)
                assert arg == first["arg"] and 9 == len(first["data"][0])
                hub.move_market("spot", "BTC-USDT", 2)
                pushed = await next_json(ws)
                assert arg == pushed["arg"]
                assert Decimal(pushed["data"][0][5]) > Decimal(first["data"][0][5])


def test_okx_queued_trades_give_the_candles_of_one_update_per_trade() -> None:
    """Trades wait until a series is read; the candles are those of adding them one by one."""
    from types import SimpleNamespace

    from connector.sim.candles import CandleBook, CandleTrade
    from connector.sim.okx.candles import OkxCandles

    book = SimpleNamespace(
        market="spot",
        ticker=lambda: SimpleNamespace(last=Decimal(100)),
        instrument=SimpleNamespace(contract_size=Decimal(1)),
    )
    queued = OkxCandles({"X": book}, 0)  # type: ignore[dict-item]
    direct = CandleBook(CHANNEL_BARS, history=1440)
    direct.track("spot", "X", Decimal(100), 0)
    for i in range(1000):
        trade = CandleTrade(
            ts_ms=i * 1193, price=Decimal(100 + i % 13), qty=Decimal(i % 5 + 1),
            taker_buy=i % 2 == 0, trade_id=i,
        )  # fmt: skip
        queued._pending.setdefault("X", []).append(trade)
        direct.add_many("spot", "X", trade.ts_ms, [trade])
    now = 1000 * 1193
    for bar in CHANNEL_BARS:
        mine = queued.series("X", bar).last(1440, now)
        theirs = direct.series("spot", "X", bar).last(1440, now)
        strip = [(c.open_ms, c.open, c.high, c.low, c.close, c.volume, c.trades) for c in mine]
        assert strip == [
            (c.open_ms, c.open, c.high, c.low, c.close, c.volume, c.trades) for c in theirs
        ], bar
