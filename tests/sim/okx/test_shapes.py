"""The simulated OKX's private shapes carry every field of real OKX replies (captures in
``nautilus_trader/crates/adapters/okx/test_data``), with the same JSON types."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from connector.sim.standalone import run
from tests.conftest import fixture_path
from tests.sim.okx.okx_client import Okx, ws_login_args
from tests.sim.sync_bybit_okx import next_json

NT = "nautilus_trader/crates/adapters/okx/test_data/"


def real(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture_path(NT + name).read_text())
    return data


def assert_covers(real_item: dict[str, Any], sim_item: dict[str, Any]) -> None:
    missing = set(real_item) - set(sim_item)
    assert not missing, sorted(missing)
    for key, value in real_item.items():
        assert type(value) is type(sim_item[key]), (key, value, sim_item[key])


@pytest.fixture
async def traded() -> AsyncIterator[tuple[Okx, Any]]:
    with trio.fail_after(30):
        async with (
            run(venues=("okx",), paused=True) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as http,
        ):
            client = Okx(http)
            buy = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "market"}
            await client.post("/api/v5/trade/order", {**buy, "sz": "2"})
            bid = sim.venues["okx"].book("swap", "BTC-USDT-SWAP").engine.best_bid().price
            resting = {**buy, "ordType": "limit", "px": str(bid - 500), "sz": "1"}
            await client.post("/api/v5/trade/order", resting)
            yield client, sim


async def test_okx_rest_private_shapes_cover_the_real_ones(traded: tuple[Okx, Any]) -> None:
    client, _sim = traded
    _, pending = await client.get("/api/v5/trade/orders-pending")
    real_pending = real("http_get_orders_pending.json")
    assert list(real_pending) == list(pending)
    assert_covers(real_pending["data"][0], pending["data"][0])
    assert list(real_pending["data"][0]) == list(pending["data"][0])  # same order too
    _, positions = await client.get("/api/v5/account/positions")
    assert_covers(real("http_get_positions.json")["data"][0], positions["data"][0])
    _, balance = await client.get("/api/v5/account/balance")
    real_balance = real("http_get_account_balance.json")["data"][0]
    assert_covers({k: v for k, v in real_balance.items() if k != "details"}, balance["data"][0])
    assert_covers(real_balance["details"][0], balance["data"][0]["details"][0])
    _, fee = await client.get("/api/v5/account/trade-fee", instType="SPOT")
    assert_covers(real("http_get_trade_fee_response.json")["data"][0], fee["data"][0])


async def test_okx_orders_push_covers_the_real_one(traded: tuple[Okx, Any]) -> None:
    client, sim = traded
    async with open_websocket_url(str(sim.urls["okx"]["spot.ws"]) + "/ws/v5/private") as ws:
        await ws.send_message(json.dumps(ws_login_args()))
        await next_json(ws)
        sub = {"op": "subscribe", "args": [{"channel": "orders", "instType": "SWAP"}]}
        await ws.send_message(json.dumps(sub))
        await next_json(ws)
        body = {
            "instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "sell", "ordType": "market",
            "sz": "1",
        }  # fmt: skip
        await client.post("/api/v5/trade/order", body)
        push = await next_json(ws)
        while not push["data"][0]["tradeId"]:
            push = await next_json(ws)
    real_push = real("ws_orders.json")
    assert {"channel": "orders", "instType": "SWAP"} == {
        k: v for k, v in push["arg"].items() if k != "uid"
    }
    assert_covers(real_push["data"][0], push["data"][0])
