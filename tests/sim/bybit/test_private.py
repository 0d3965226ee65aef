"""Bybit v5 private stream (``/v5/private``) and websocket order entry (``/v5/trade``)."""

from __future__ import annotations

import json
import random
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from connector.sim.faults import FaultPlan
from connector.sim.standalone import SimRun, run
from tests.conftest import fixture_path
from tests.sim.bybit.client import Signed, auth_args, private_socket
from tests.sim.bybit.test_trading import below, bybit, one_order, place, touch

NT = "nautilus_trader/crates/adapters/bybit/test_data/"
GCT = "gocryptotrader/exchanges/bybit/testdata/wsAuth.json"


async def frames(ws: WebSocketConnection, seconds: float = 0.3) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with trio.move_on_after(seconds):
        while True:
            out.append(json.loads(await ws.get_message()))
    return out


async def ask(ws: WebSocketConnection, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send_message(json.dumps(message))
    reply: dict[str, Any] = json.loads(await ws.get_message())
    return reply


def eth_buy(sim: SimRun, **extra: str) -> dict[str, Any]:
    """A linear ETHUSDT limit buy of 0.10 under the touch (it rests), as REST and
    ``/v5/trade`` take it."""
    return {
        "category": "linear",
        "symbol": "ETHUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.10",
        "price": below(sim, "linear", "ETHUSDT"),
        **extra,
    }


def trade_request(req_id: str, op: str, *args: dict[str, Any]) -> dict[str, Any]:
    """A ``/v5/trade`` request stamped now."""
    stamp = {"X-BAPI-TIMESTAMP": str(int(time.time() * 1000))}
    return {"reqId": req_id, "header": stamp, "op": op, "args": list(args)}


def real_order_push() -> dict[str, Any]:
    lines = fixture_path(GCT).read_text().splitlines()
    pushes = [json.loads(line) for line in lines if '"topic": "order"' in line]
    return next(p for p in pushes if p["data"][0]["category"] == "linear")


async def test_bybit_private_auth_subscribe_rules_and_ping() -> None:
    async with bybit() as (sim, _api):
        base = sim.urls["bybit"]["linear.ws"]
        async with open_websocket_url(base + "/v5/private") as ws:
            early = await ask(ws, {"op": "subscribe", "args": ["order"]})
            bad = await ask(ws, {"op": "auth", "args": auth_args(secret="WRONG")})
            old = await ask(ws, {"op": "auth", "args": auth_args(ahead_ms=-1000)})
            good = await ask(ws, {"op": "auth", "args": auth_args()})
            again = await ask(ws, {"op": "auth", "args": auth_args()})
            mixed = await ask(ws, {"op": "subscribe", "args": ["order", "execution.linear"]})
            unknown = await ask(ws, {"op": "subscribe", "args": ["orders"]})
            ok = await ask(ws, {"op": "subscribe", "args": ["order.linear"], "req_id": "s1"})
            pong = await ask(ws, {"op": "ping", "req_id": "p1"})
    assert (False, "Request not authorized") == (early["success"], early["ret_msg"])
    assert [False, False, True, False] == [r["success"] for r in (bad, old, good, again)]
    assert ("auth", "") == (good["op"], good["ret_msg"])
    assert [False, False] == [mixed["success"], unknown["success"]]
    assert (True, "s1", "subscribe") == (ok["success"], ok["req_id"], ok["op"])
    assert ("pong", "p1") == (pong["op"], pong["req_id"])
    assert int(pong["args"][0]) > 0


async def test_bybit_private_stream_ends_in_the_state_rest_reports() -> None:
    real = real_order_push()
    async with bybit() as (sim, api):
        base = sim.urls["bybit"]["linear.ws"]
        async with private_socket(
            base, "order", "execution", "execution.fast", "position", "wallet"
        ) as ws:
            price = below(sim, "linear", "ETHUSDT")
            resting = await place(
                api,
                category="linear",
                symbol="ETHUSDT",
                side="Buy",
                orderType="Limit",
                qty="0.10",
                price=price,
                orderLinkId="ws-1",
            )
            await api.post(
                "/v5/order/cancel",
                {"category": "linear", "symbol": "ETHUSDT", "orderLinkId": "ws-1"},
            )
            market = await place(
                api,
                category="linear",
                symbol="ETHUSDT",
                side="Sell",
                orderType="Market",
                qty="0.20",
                orderLinkId="ws-2",
            )
            pushed = await frames(ws)
            rest_resting = await one_order(api, "linear", orderLinkId="ws-1")
            rest_market = await one_order(api, "linear", orderLinkId="ws-2")
            fills = await api.ok("GET", "/v5/execution/list", category="linear", symbol="ETHUSDT")
            positions = await api.ok(
                "GET", "/v5/position/list", category="linear", symbol="ETHUSDT"
            )
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for msg in pushed:
        by_topic.setdefault(msg["topic"], []).append(msg)
    orders = [d for m in by_topic["order"] for d in m["data"]]
    # Shape: the real push's keys are all there, in its order.
    first = orders[0]
    assert [k for k in first if k in real["data"][0]] == list(real["data"][0])
    assert set(real) == set(by_topic["order"][0])
    ids = (resting["result"]["orderId"], market["result"]["orderId"])
    last = {oid: [o for o in orders if o["orderId"] == oid][-1] for oid in ids}
    assert ["New", "Cancelled"] == [o["orderStatus"] for o in orders if o["orderId"] == ids[0]]
    for rest in (rest_resting, rest_market):
        pushed_last = dict(last[rest["orderId"]])
        pushed_last.pop("category")
        if Decimal(rest["cumExecQty"]) == 0:
            # Unfilled: avgPrice "" on a unified account, pushed and over REST (documented).
            assert ("", "") == (pushed_last["avgPrice"], rest["avgPrice"])
        assert rest == pushed_last
    assert "Filled" == rest_market["orderStatus"]
    executions = [d for m in by_topic["execution"] for d in m["data"]]
    fast = [d for m in by_topic["execution.fast"] for d in m["data"]]
    assert [f["execId"] for f in fills["list"]][::-1] == [e["execId"] for e in executions]
    assert [e["execId"] for e in executions] == [f["execId"] for f in fast]
    assert all("execFee" not in f for f in fast)
    assert sum(Decimal(e["execQty"]) for e in executions) == Decimal("0.2")
    position_push = by_topic["position"][-1]["data"][0]
    position = positions["list"][0]
    assert ("Sell", Decimal("0.2")) == (position_push["side"], Decimal(position_push["size"]))
    assert position_push["seq"] == position["seq"] == executions[-1]["seq"]
    assert by_topic["wallet"][-1]["data"][0]["coin"][0]["coin"] == "USDT"


async def test_bybit_category_topics_only_carry_their_category() -> None:
    async with (
        bybit() as (sim, api),
        private_socket(sim.urls["bybit"]["linear.ws"], "order.spot") as ws,
    ):
        await place(
            api,
            category="linear",
            symbol="ETHUSDT",
            side="Buy",
            orderType="Market",
            qty="0.10",
        )
        await place(
            api, category="spot", symbol="BTCUSDT", side="Buy", orderType="Market", qty="50"
        )
        pushed = await frames(ws)
    assert pushed and {"order.spot"} == {m["topic"] for m in pushed}
    assert {"spot"} == {d["category"] for m in pushed for d in m["data"]}


async def test_bybit_trade_socket_creates_amends_cancels_with_limit_headers() -> None:
    nt = json.loads(fixture_path(NT + "ws_order_response.json").read_text())
    async with bybit() as (sim, api):
        url = sim.urls["bybit"]["linear.ws"] + "/v5/trade"
        order = eth_buy(sim, orderLinkId="wsapi-1")
        async with open_websocket_url(url) as ws:
            early = await ask(ws, trade_request("r0", "order.create", order))
            auth = await ask(ws, {"op": "auth", "args": auth_args()})
            repeat = await ask(ws, {"op": "auth", "args": auth_args()})
            created = await ask(ws, trade_request("r1", "order.create", order))
            duplicate_req = await ask(ws, trade_request("r1", "order.create", order))
            stale = await ask(
                ws,
                {
                    "reqId": "r2",
                    "header": {"X-BAPI-TIMESTAMP": "1000", "X-BAPI-RECV-WINDOW": "5000"},
                    "op": "order.create",
                    "args": [order],
                },
            )
            amend = {"category": "linear", "symbol": "ETHUSDT", "orderLinkId": "wsapi-1"}
            amended = await ask(ws, trade_request("r3", "order.amend", {**amend, "qty": "0.2"}))
            cancelled = await ask(ws, trade_request("r4", "order.cancel", amend))
            bad_op = await ask(ws, trade_request("r5", "order.nope"))
            pong = await ask(ws, {"op": "ping"})
        rest = await one_order(api, "linear", orderLinkId="wsapi-1")
    assert 10003 == early["retCode"]
    assert (0, "OK", "auth") == (auth["retCode"], auth["retMsg"], auth["op"])
    assert 20001 == repeat["retCode"]
    assert set(nt) <= set(created)
    assert (0, "r1", "order.create", "wsapi-1") == (
        created["retCode"],
        created["reqId"],
        created["op"],
        created["data"]["orderLinkId"],
    )
    assert {"X-Bapi-Limit", "X-Bapi-Limit-Status", "X-Bapi-Limit-Reset-Timestamp"} <= set(
        created["header"]
    )
    assert ("10", "9") == (
        created["header"]["X-Bapi-Limit"],
        created["header"]["X-Bapi-Limit-Status"],
    )
    assert [20006, 10002, 0, 0, 10404] == [
        r["retCode"] for r in (duplicate_req, stale, amended, cancelled, bad_op)
    ]
    assert ("pong", 0) == (pong["op"], pong["retCode"])
    assert ("Cancelled", Decimal("0.2")) == (rest["orderStatus"], Decimal(rest["qty"]))


async def test_bybit_rest_and_trade_socket_share_the_order_limit() -> None:
    limits = {("/v5/order/create", "linear"): 2}
    async with bybit(order_limits=limits) as (sim, api):
        order = eth_buy(sim)
        rest = await place(api, **order)
        async with open_websocket_url(sim.urls["bybit"]["linear.ws"] + "/v5/trade") as ws:
            await ask(ws, {"op": "auth", "args": auth_args()})
            replies = [
                await ask(ws, trade_request(f"q{i}", "order.create", order)) for i in range(2)
            ]
    assert [0, 0, 10006] == [rest["retCode"]] + [r["retCode"] for r in replies]
    assert "0" == replies[1]["header"]["X-Bapi-Limit-Status"]


async def test_bybit_trade_socket_batches_answer_as_rest_batches() -> None:
    async with bybit() as (sim, _api):
        order = {
            "symbol": "ETHUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.10",
            "price": below(sim, "linear", "ETHUSDT"),
            "orderLinkId": "wsb-1",
        }
        stamp = {"X-BAPI-TIMESTAMP": str(int(time.time() * 1000))}
        async with open_websocket_url(sim.urls["bybit"]["linear.ws"] + "/v5/trade") as ws:
            await ask(ws, {"op": "auth", "args": auth_args()})
            created = await ask(
                ws,
                {
                    "reqId": "b1",
                    "header": stamp,
                    "op": "order.create-batch",
                    "args": [{"category": "linear", "request": [order, order]}],
                },
            )
            cancelled = await ask(
                ws,
                {
                    "reqId": "b2",
                    "header": stamp,
                    "op": "order.cancel-batch",
                    "args": [
                        {
                            "category": "linear",
                            "request": [{"symbol": "ETHUSDT", "orderLinkId": "wsb-1"}],
                        }
                    ],
                },
            )
    assert (0, "order.create-batch") == (created["retCode"], created["op"])
    assert [0, 110072] == [e["code"] for e in created["retExtInfo"]["list"]]
    assert ["wsb-1", "wsb-1"] == [i["orderLinkId"] for i in created["data"]["list"]]
    assert "8" == created["header"]["X-Bapi-Limit-Status"]  # two orders of 10
    assert [0] == [e["code"] for e in cancelled["retExtInfo"]["list"]]


async def test_bybit_flow_fills_a_resting_order_as_maker_and_the_stream_ends_in_rest_state() -> (
    None
):
    with trio.fail_after(30):
        async with (
            run(venues=("bybit",), rate=400, seed=3) as sim,
            httpx.AsyncClient(base_url=sim.urls["bybit"]["linear.rest"]) as client,
            private_socket(sim.urls["bybit"]["linear.ws"], "order", "execution.fast") as ws,
        ):
            api = Signed(client)
            bid, _ask = touch(sim, "linear", "ETHUSDT")
            placed = await place(
                api,
                category="linear",
                symbol="ETHUSDT",
                side="Buy",
                orderType="Limit",
                qty="0.10",
                price=str(bid),
                orderLinkId="maker-1",
            )
            order_id = placed["result"]["orderId"]
            pushes: list[dict[str, Any]] = []
            while not any(
                d["orderId"] == order_id and d.get("orderStatus") == "Filled"
                for m in pushes
                if m.get("topic") == "order"
                for d in m["data"]
            ):
                pushes.append(json.loads(await ws.get_message()))
            pushes += await frames(ws)  # the fill's execution pushes follow its order push
            rest = await one_order(api, "linear", orderId=order_id)
    fast = [d for m in pushes if m.get("topic") == "execution.fast" for d in m["data"]]
    assert fast and all(f["isMaker"] and f["orderLinkId"] == "" for f in fast)
    last = [
        d
        for m in pushes
        if m.get("topic") == "order"
        for d in m["data"]
        if d["orderId"] == order_id
    ][-1]
    last.pop("category")
    assert rest == last
    assert "Filled" == rest["orderStatus"]


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_bybit_every_orders_last_push_is_what_rest_reports_after_random_operations(
    seed: int,
) -> None:
    rng = random.Random(seed)
    async with bybit() as (sim, api):
        hub = sim.venues["bybit"]
        async with private_socket(sim.urls["bybit"]["linear.ws"], "order", "execution") as ws:
            for _step in range(40):
                category, symbol = rng.choice([("spot", "BTCUSDT"), ("linear", "ETHUSDT")])
                inst = hub.book(category, symbol).instrument
                bid, ask = touch(sim, category, symbol)
                action = rng.choice(
                    ["limit", "limit", "market", "ioc", "post", "amend", "cancel", "move"]
                )
                side = rng.choice(["Buy", "Sell"])
                qty = "0.002" if category == "spot" else "0.10"
                near = bid if side == "Buy" else ask
                offset = inst.tick_size * rng.randint(-3, 20)
                price = near - offset if side == "Buy" else near + offset
                params = {"category": category, "symbol": symbol, "side": side, "qty": qty}
                if action in ("limit", "ioc", "post"):
                    tif = {"limit": "GTC", "ioc": "IOC", "post": "PostOnly"}[action]
                    await place(api, **params, orderType="Limit", price=str(price), timeInForce=tif)
                elif action == "market":
                    market_qty = "20" if category == "spot" and side == "Buy" else qty
                    await place(api, **{**params, "qty": market_qty}, orderType="Market")
                elif action in ("amend", "cancel"):
                    open_ = await api.ok(
                        "GET", "/v5/order/realtime", category=category, symbol=symbol
                    )
                    if open_["list"]:
                        target = rng.choice(open_["list"])
                        body = {
                            "category": category,
                            "symbol": symbol,
                            "orderId": target["orderId"],
                        }
                        if action == "amend":
                            body["price"] = str(Decimal(target["price"]) + inst.tick_size)
                        await api.post(f"/v5/order/{action}", body)
                else:
                    hub.move_market(category, symbol, rng.choice([-0.2, 0.2]))
            pushed = await frames(ws)
        truth = sim.truth("bybit")
        rest: dict[str, dict[str, Any]] = {}
        for category in ("spot", "linear"):
            history = await api.ok("GET", "/v5/order/history", category=category, limit=50)
            live = await api.ok("GET", "/v5/order/realtime", category=category, settleCoin="USDT")
            for o in history["list"] + live["list"]:
                rest[o["orderId"]] = o
    last: dict[str, dict[str, Any]] = {}
    for msg in pushed:
        if msg["topic"] == "order":
            for d in msg["data"]:
                last[d["orderId"]] = {k: v for k, v in d.items() if k != "category"}
    assert last and set(last) == set(rest)
    for order_id, pushed_last in last.items():
        ours = dict(rest[order_id])
        if Decimal(ours["cumExecQty"]) == 0:
            pushed_last = {**pushed_last, "avgPrice": ours["avgPrice"]}
        assert ours == pushed_last, order_id
    # The venue's truth agrees with REST: the same orders, quantities filled and open sets.
    known = {o.order_id: o for o in truth.orders()}
    assert set(known) == set(rest)
    for order_id, order in rest.items():
        assert known[order_id].filled_qty == Decimal(order["cumExecQty"])
        assert known[order_id].is_open == (order["orderStatus"] in ("New", "PartiallyFilled"))
    fills = [d for m in pushed if m["topic"] == "execution" for d in m["data"]]
    for order_id, order in rest.items():
        mine = [Decimal(f["execQty"]) for f in fills if f["orderId"] == order_id]
        assert sum(mine, Decimal(0)) == Decimal(order["cumExecQty"])


async def test_bybit_private_frames_pass_through_the_fault_plan() -> None:
    plan = (
        FaultPlan(seed=1)
        .duplicate(1.0, venue="bybit", stream="order")
        .drop(1.0, venue="bybit", stream="execution")
    )
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), paused=True, faults=plan) as sim,
            httpx.AsyncClient(base_url=sim.urls["bybit"]["linear.rest"]) as client,
            private_socket(sim.urls["bybit"]["linear.ws"], "order", "execution") as ws,
        ):
            await place(
                Signed(client),
                category="linear",
                symbol="ETHUSDT",
                side="Buy",
                orderType="Market",
                qty="0.10",
            )
            pushed = await frames(ws)
            injected = sim.injector.statistics().injected
    topics = [m["topic"] for m in pushed]
    assert "execution" not in topics
    orders = [m["data"][0]["orderStatus"] for m in pushed if m["topic"] == "order"]
    assert orders and all(orders.count(s) == 2 for s in set(orders))
    assert injected  # counted and visible to tests


async def test_bybit_trade_service_restart_refuses_new_orders_then_closes() -> None:
    # Bybit v5 error.mdx, "WS OE General code" (checked 2026-12-06): 10019 "ws trade
    # service is restarting, do not accept new request ... You can build new connection
    # to be routed to normal service".
    plan = FaultPlan().server_shutdown(at=(0.5,), seconds=1.0, venue="bybit")
    with trio.fail_after(10):
        async with run(venues=("bybit",), rate=20.0, faults=plan) as sim:
            url = sim.urls["bybit"]["linear.ws"] + "/v5/trade"
            order = eth_buy(sim)

            async with open_websocket_url(url) as old:
                await ask(old, {"op": "auth", "args": auth_args()})
                await trio.sleep(0.6)  # the restart began at 0.5 s
                assert sim.fault_log
                refused = await ask(old, trade_request("r1", "order.create", order))
                async with open_websocket_url(url) as new:
                    await ask(new, {"op": "auth", "args": auth_args()})
                    placed = await ask(new, trade_request("r2", "order.create", order))
                    try:
                        while True:
                            await old.get_message()
                    except ConnectionClosed as closed:
                        code = closed.reason.code
            orders = sim.truth("bybit").orders()
    assert (10019, "order.create", "r1") == (refused["retCode"], refused["op"], refused["reqId"])
    assert 0 == placed["retCode"]
    assert 1001 == code
    assert [placed["data"]["orderId"]] == [o.order_id for o in orders]  # r1 placed nothing
