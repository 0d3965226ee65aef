"""The simulated OKX ``/ws/v5/private``: login codes, channels, websocket order ops, and
every ``orders`` sequence ending in the state REST reports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from connector.model import Side
from connector.sim.faults import FaultPlan
from connector.sim.okx.wire import inst_id_code
from connector.sim.standalone import run
from tests.sim.okx.okx_client import Okx, ws_login_args
from tests.sim.sync_bybit_okx import next_json


@pytest.fixture
async def sim() -> AsyncIterator[Any]:
    with trio.fail_after(30):
        async with run(venues=("okx",), paused=True) as running:
            yield running


async def send(ws: WebSocketConnection, value: dict[str, Any]) -> dict[str, Any]:
    await ws.send_message(json.dumps(value))
    reply: dict[str, Any] = await next_json(ws)
    return reply


async def login(ws: WebSocketConnection) -> None:
    reply = await send(ws, ws_login_args())
    assert ("login", "0", "") == (reply["event"], reply["code"], reply["msg"])


def private_url(sim: Any) -> str:
    return str(sim.urls["okx"]["spot.ws"]) + "/ws/v5/private"


async def test_okx_login_errors_and_channels_before_login(sim: Any) -> None:
    async with open_websocket_url(private_url(sim)) as ws:
        orders = {"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]}
        refused = await send(ws, orders)
        assert ("error", "60011") == (refused["event"], refused["code"])
        for args, code in (
            (ws_login_args(-60), "60006"),
            (ws_login_args(passphrase="nope"), "60024"),
            ({"op": "login", "args": [{"apiKey": "x"}]}, "60013"),
        ):
            reply = await send(ws, args)
            assert ("error", code) == (reply["event"], reply["code"]), reply
        await login(ws)
        fills = await send(ws, {"op": "subscribe", "args": [{"channel": "fills"}]})
        assert ("error", "64003") == (fills["event"], fills["code"])
        nope = await send(ws, {"op": "subscribe", "args": [{"channel": "nope"}]})
        assert "60018" == nope["code"]
        await ws.send_message("ping")
        assert "pong" == await ws.get_message()


@pytest.mark.parametrize("path", ["/ws/v5/public", "/ws/v5/business"])
async def test_okx_login_on_the_public_and_business_sockets(sim: Any, path: str) -> None:
    # The ``*-l2-tbt`` books need a login on /public, the business channels on
    # /business (ccxt.pro and python-okx send one there); a bad one is refused alike.
    async with open_websocket_url(str(sim.urls["okx"]["spot.ws"]) + path) as ws:
        refused = await send(ws, ws_login_args(passphrase="nope"))
        assert ("error", "60024") == (refused["event"], refused["code"])
        await login(ws)


async def test_okx_snapshots_on_subscribe(sim: Any) -> None:
    async with open_websocket_url(private_url(sim)) as ws:
        await login(ws)
        for arg in (
            {"channel": "account", "ccy": "USDT"},
            {"channel": "positions", "instType": "SWAP"},
            {"channel": "balance_and_position"},
        ):
            ack = await send(ws, {"op": "subscribe", "args": [arg]})
            assert ("subscribe", arg) == (ack["event"], ack["arg"])
            push = await next_json(ws)
            assert arg["channel"] == push["arg"]["channel"] and "uid" in push["arg"]
            if arg["channel"] == "account":
                (item,) = push["data"]
                assert ["USDT"] == [d["ccy"] for d in item["details"]]
            elif arg["channel"] == "balance_and_position":
                assert "snapshot" == push["data"][0]["eventType"]
                assert {"BTC", "USDT"} <= {b["ccy"] for b in push["data"][0]["balData"]}
            else:
                assert [] == push["data"]


async def test_okx_ws_order_ops_reply_first_and_need_inst_id_code(sim: Any) -> None:
    hub = sim.venues["okx"]
    bid = hub.book("spot", "BTC-USDT").engine.best_bid().price
    code = inst_id_code("BTC-USDT")
    async with open_websocket_url(private_url(sim)) as ws:
        await login(ws)
        await send(ws, {"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]})
        order = {"tdMode": "cash", "side": "buy", "ordType": "limit", "px": str(bid - 500)}
        old_style = await send(
            ws,
            {"id": "o0", "op": "order", "args": [{**order, "instId": "BTC-USDT", "sz": "0.001"}]},
        )
        assert ("o0", "50014", []) == (old_style["id"], old_style["code"], old_style["data"])
        bad_id = await send(ws, {"id": "o-1", "op": "order", "args": [order]})
        assert "60013" == bad_id["code"]
        reply = await send(
            ws, {"id": "o1", "op": "order", "args": [{**order, "instIdCode": code, "sz": "0.001"}]}
        )
        assert ("o1", "order", "0") == (reply["id"], reply["op"], reply["code"])
        assert {"inTime", "outTime"} <= set(reply)
        ord_id = reply["data"][0]["ordId"]
        push = await next_json(ws)
        assert ("orders", "live", ord_id) == (
            push["arg"]["channel"], push["data"][0]["state"], push["data"][0]["ordId"],
        )  # fmt: skip
        amend = {"instIdCode": code, "ordId": ord_id, "newSz": "0.002", "reqId": "q9"}
        reply = await send(ws, {"id": "a1", "op": "amend-order", "args": [amend]})
        assert ("0", "q9") == (reply["data"][0]["sCode"], reply["data"][0]["reqId"])
        push = await next_json(ws)
        assert ("0", "q9", "0.002") == (
            push["data"][0]["amendResult"], push["data"][0]["reqId"], push["data"][0]["sz"],
        )  # fmt: skip
        # mass-cancel is OKX's options-only MMP cancel: a SPOT one is a parameter error.
        reply = await send(ws, {"id": "m1", "op": "mass-cancel", "args": [{"instType": "SPOT"}]})
        assert ("51000", "Parameter instType error", []) == (
            reply["code"], reply["msg"], reply["data"],
        )  # fmt: skip
        cancel = {"instIdCode": code, "ordId": ord_id}
        reply = await send(ws, {"id": "c1", "op": "cancel-order", "args": [cancel]})
        assert "0" == reply["data"][0]["sCode"]
        push = await next_json(ws)
        assert ("canceled", ord_id) == (push["data"][0]["state"], push["data"][0]["ordId"])


async def test_okx_orders_sequence_ends_in_the_rest_state(sim: Any) -> None:
    """An order partly filled by the flow, then canceled: every push in order, fees negative,
    and the last push equals what ``GET /trade/order`` reports."""
    hub = sim.venues["okx"]
    engine = hub.book("swap", "ETH-USDT-SWAP").engine
    bid = engine.best_bid().price
    async with (
        open_websocket_url(private_url(sim)) as ws,
        httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as http,
    ):
        await login(ws)
        await send(ws, {"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
        await send(ws, {"op": "subscribe", "args": [{"channel": "positions", "instType": "SWAP"}]})
        assert [] == (await next_json(ws))["data"]
        client = Okx(http)
        body = {
            "instId": "ETH-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "limit",
            "px": str(bid), "sz": "5",
        }  # fmt: skip
        _, placed = await client.post("/api/v5/trade/order", body)
        ord_id = placed["data"][0]["ordId"]
        # The flow sells into the resting order (a taker order of the synthetic flow).
        hub.add_liquidity("swap", "ETH-USDT-SWAP", Side.SELL, bid, Decimal(2))
        hub.move_market("swap", "ETH-USDT-SWAP", -1)
        await client.post(
            "/api/v5/trade/cancel-order", {"instId": "ETH-USDT-SWAP", "ordId": ord_id}
        )
        _, rest = await client.get("/api/v5/trade/order", instId="ETH-USDT-SWAP", ordId=ord_id)
        (final,) = rest["data"]
        pushes: list[dict[str, Any]] = []
        positions: list[dict[str, Any]] = []
        # Each fill's order push comes before its position push.
        while not positions or not pushes or pushes[-1]["state"] not in ("canceled", "filled"):
            msg = await next_json(ws)
            if msg["arg"]["channel"] == "orders":
                pushes.append(msg["data"][0])
            else:
                positions.append(msg["data"][0])
        with trio.move_on_after(0.3):  # the last fill's position push, if it follows
            while True:
                msg = await next_json(ws)
                positions.append(msg["data"][0])
    assert "live" == pushes[0]["state"]
    fills = [p for p in pushes if p["tradeId"]]
    assert fills and all(Decimal(p["fillFee"]) < 0 for p in fills)
    assert len({p["tradeId"] for p in fills}) == len(fills)
    filled = [Decimal(p["accFillSz"]) for p in pushes]
    assert filled == sorted(filled)
    assert sum(Decimal(p["fillSz"]) for p in fills) == Decimal(final["accFillSz"])
    for key in ("state", "accFillSz", "avgPx", "fee", "sz", "cancelSource", "uTime"):
        assert final[key] == pushes[-1][key], key
    assert positions and positions[-1]["pos"] == final["accFillSz"]


@pytest.mark.parametrize(
    ("inst_id", "ord_type", "offset", "sz", "state", "source"),
    [
        ("BTC-USDT-SWAP", "market", None, "2", "filled", ""),
        ("BTC-USDT", "ioc", 0, "1.5", "canceled", "14"),
        ("BTC-USDT", "fok", 0, "1.5", "canceled", "13"),
        ("BTC-USDT", "post_only", 0, "0.001", "canceled", "31"),
        ("ETH-USDT-SWAP", "limit", -50, "1", "live", ""),
    ],
)
async def test_okx_every_orders_sequence_ends_in_the_rest_state(
    sim: Any, inst_id: str, ord_type: str, offset: int | None, sz: str, state: str, source: str
) -> None:
    hub = sim.venues["okx"]
    swap = inst_id.endswith("SWAP")
    ask = hub.book("swap" if swap else "spot", inst_id).engine.best_ask().price
    body = {
        "instId": inst_id, "tdMode": "cross" if swap else "cash", "side": "buy",
        "ordType": ord_type, "sz": sz,
    }  # fmt: skip
    if offset is not None:
        body["px"] = str(ask + offset)
    if not swap and ord_type == "market":
        body["tgtCcy"] = "base_ccy"
    async with (
        open_websocket_url(private_url(sim)) as ws,
        httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as http,
    ):
        await login(ws)
        await send(ws, {"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
        client = Okx(http)
        _, placed = await client.post("/api/v5/trade/order", body)
        assert "0" == placed["code"], placed
        ord_id = placed["data"][0]["ordId"]
        _, rest = await client.get("/api/v5/trade/order", instId=inst_id, ordId=ord_id)
        (final,) = rest["data"]
        pushes: list[dict[str, Any]] = []
        while (
            not pushes
            or pushes[-1]["uTime"] != final["uTime"]
            or pushes[-1]["state"] != final["state"]
        ):
            pushes.append((await next_json(ws))["data"][0])
    assert (state, source) == (final["state"], final["cancelSource"])
    assert all(p["ordId"] == ord_id for p in pushes)
    assert "live" == pushes[0]["state"] or ord_type == "market"
    for key in ("state", "accFillSz", "avgPx", "fee", "sz", "cancelSource", "ordType"):
        assert final[key] == pushes[-1][key], key


async def test_okx_fault_plan_applies_to_private_pushes_not_to_replies() -> None:
    plan = FaultPlan(seed=3).duplicate(1.0, venue="okx", stream="orders")
    with trio.fail_after(30):
        async with run(venues=("okx",), paused=True, faults=plan) as faulty:
            bid = faulty.venues["okx"].book("spot", "SOL-USDT").engine.best_bid().price
            order = {
                "instIdCode": inst_id_code("SOL-USDT"), "tdMode": "cash", "side": "buy",
                "ordType": "limit", "px": str(bid - 5), "sz": "0.1",
            }  # fmt: skip
            async with open_websocket_url(private_url(faulty)) as ws:
                await login(ws)
                await send(
                    ws, {"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]}
                )
                reply = await send(ws, {"id": "x1", "op": "order", "args": [order]})
                assert "0" == reply["code"]
                first, second = await next_json(ws), await next_json(ws)
                assert first == second and "orders" == first["arg"]["channel"]
                with trio.move_on_after(0.3):
                    extra = await next_json(ws)
                    raise AssertionError(f"one reply, one duplicated push: {extra}")


async def test_okx_rest_and_websocket_share_the_order_rate_limit(sim: Any) -> None:
    limits = sim.frontends["okx"].order_limits
    limits.per_instrument, limits.window_ms = 2, 10**12  # one long window
    bid = sim.venues["okx"].book("spot", "ETH-USDT").engine.best_bid().price
    order = {"tdMode": "cash", "side": "buy", "ordType": "limit", "px": str(bid - 50), "sz": "0.01"}
    async with (
        open_websocket_url(private_url(sim)) as ws,
        httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as http,
    ):
        client = Okx(http)
        for _ in range(2):
            _, placed = await client.post("/api/v5/trade/order", {**order, "instId": "ETH-USDT"})
            assert "0" == placed["code"]
        await login(ws)
        ws_order = {**order, "instIdCode": inst_id_code("ETH-USDT")}
        reply = await send(ws, {"id": "r1", "op": "order", "args": [ws_order]})
        assert ("r1", "50011", []) == (reply["id"], reply["code"], reply["data"])
