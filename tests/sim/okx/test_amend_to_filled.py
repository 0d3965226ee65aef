"""The simulated OKX: an amend to ``newSz`` at or below ``accFillSz`` fills the order.

OKX "POST / Amend order", ``newSz``: "If the new quantity of the order is less than or
equal to the filled quantity when you are amending a partially-filled order, the order
status will be changed to filled."
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from connector.model import Side
from connector.sim.standalone import run
from tests.sim.okx.okx_client import Okx
from tests.sim.okx.test_private import login, private_url, send
from tests.sim.sync_bybit_okx import next_json

INST = "ETH-USDT-SWAP"


@pytest.mark.parametrize("new_sz", ["2", "1"])
async def test_okx_amend_to_at_most_the_filled_size_fills_the_order(new_sz: str) -> None:
    with trio.fail_after(30):
        async with (
            run(venues=("okx",), paused=True) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as http,
            open_websocket_url(private_url(sim)) as ws,
        ):
            hub = sim.venues["okx"]
            book = hub.book("swap", INST)
            best_bid = book.engine.best_bid()
            assert best_bid is not None
            px = best_bid.price + book.instrument.tick_size
            client = Okx(http)
            await login(ws)
            await send(ws, {"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
            body = {
                "instId": INST, "tdMode": "cross", "side": "buy", "ordType": "limit",
                "px": str(px), "sz": "5",
            }  # fmt: skip
            _, placed = await client.post("/api/v5/trade/order", body)
            ord_id = placed["data"][0]["ordId"]
            hub.add_liquidity("swap", INST, Side.SELL, px, Decimal(2))
            _, amended = await client.post(
                "/api/v5/trade/amend-order",
                {"instId": INST, "ordId": ord_id, "newSz": new_sz, "reqId": "r1"},
            )
            _, got = await client.get("/api/v5/trade/order", instId=INST, ordId=ord_id)
            _, pending = await client.get("/api/v5/trade/orders-pending", instType="SWAP")
            pushes: list[dict[str, Any]] = []
            while not pushes or pushes[-1]["state"] in ("live", "partially_filled"):
                pushes.append((await next_json(ws))["data"][0])
    assert ("0", "r1") == (amended["data"][0]["sCode"], amended["data"][0]["reqId"])
    (order,) = got["data"]
    assert ("filled", "2", "2", "") == (
        order["state"], order["accFillSz"], order["sz"], order["cancelSource"],
    )  # fmt: skip
    assert [] == pending["data"]
    last = pushes[-1]
    assert ("filled", "2", "2", "", "0", "r1") == (
        last["state"], last["accFillSz"], last["sz"], last["cancelSource"],
        last["amendResult"], last["reqId"],
    )  # fmt: skip
