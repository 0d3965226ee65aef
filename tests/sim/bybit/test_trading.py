"""Bybit v5 order entry over signed REST: auth codes, orders, queries, batches, limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio

from connector.model import Side
from connector.sim.faults import FaultPlan
from connector.sim.standalone import SimRun, run
from tests.conftest import fixture_path
from tests.sim.bybit.client import KEY, SECRET, Signed
from tests.sim.bybit.test_frontend import skeleton

NT = "nautilus_trader/crates/adapters/bybit/test_data/"


@asynccontextmanager
async def bybit(**settings: Any) -> AsyncIterator[tuple[SimRun, Signed]]:
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), paused=True, settings={"bybit": settings}) as sim,
            httpx.AsyncClient(base_url=sim.urls["bybit"]["linear.rest"]) as client,
        ):
            yield sim, Signed(client)


def touch(sim: SimRun, category: str, symbol: str) -> tuple[Decimal, Decimal]:
    bids, asks = sim.engine_book("bybit", category, symbol, 1)
    return bids[0].price, asks[0].price


def below(sim: SimRun, category: str, symbol: str) -> str:
    """A buy price 10 % under the touch, on the tick grid (never fills)."""
    bid, _ = touch(sim, category, symbol)
    tick = sim.venues["bybit"].book(category, symbol).instrument.tick_size
    return str(bid * Decimal("0.9") // tick * tick)


async def place(api: Signed, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = (await api.post("/v5/order/create", params)).json()
    return body


async def one_order(api: Signed, category: str, **ids: str) -> dict[str, Any]:
    result = await api.ok("GET", "/v5/order/realtime", category=category, **ids)
    assert 1 == len(result["list"]), result
    order: dict[str, Any] = result["list"][0]
    return order


# ------------------------------------------------------------------ auth


async def test_bybit_signed_rest_answers_auth_errors_with_http_200() -> None:
    async with bybit() as (sim, api):
        unknown = await Signed(api.client, key="NOPE").get("/v5/account/info")
        bad_sign = await Signed(api.client, secret=SECRET[:-1] + "X").get("/v5/account/info")
        stale = await Signed(api.client, skew_ms=-60_000).get("/v5/account/info")
        ahead = await Signed(api.client, skew_ms=5_000).get("/v5/account/info")
        not_json = await api.post("/v5/order/create", "category=spot")
        good = await api.get("/v5/account/info")
        stats = sim.frontends["bybit"].statistics()
    assert 4 == stats.auth_failures
    assert [200] * 5 == [r.status_code for r in (unknown, bad_sign, stale, ahead, not_json)]
    assert [10003, 10004, 10002, 10002, 10001, 0] == [
        r.json()["retCode"] for r in (unknown, bad_sign, stale, ahead, not_json, good)
    ]


# ---------------------------------------------------------------- orders


@pytest.mark.parametrize(("category", "symbol"), [("spot", "BTCUSDT"), ("linear", "ETHUSDT")])
async def test_bybit_limit_order_rests_is_listed_amended_and_cancelled(
    category: str, symbol: str
) -> None:
    async with bybit() as (sim, api):
        price = below(sim, category, symbol)
        qty = "0.01" if category == "spot" else "0.10"
        placed = await place(
            api,
            category=category,
            symbol=symbol,
            side="Buy",
            orderType="Limit",
            qty=qty,
            price=price,
            orderLinkId="rest-1",
        )
        order = await one_order(api, category, orderLinkId="rest-1")
        open_list = await api.ok("GET", "/v5/order/realtime", category=category, symbol=symbol)
        amended = (
            await api.post(
                "/v5/order/amend",
                {"category": category, "symbol": symbol, "orderLinkId": "rest-1", "qty": "0.02"},
            )
        ).json()
        after_amend = await one_order(api, category, orderId=placed["result"]["orderId"])
        cancelled = (
            await api.post(
                "/v5/order/cancel",
                {"category": category, "symbol": symbol, "orderLinkId": "rest-1"},
            )
        ).json()
        again = (
            await api.post(
                "/v5/order/cancel",
                {"category": category, "symbol": symbol, "orderLinkId": "rest-1"},
            )
        ).json()
        final = await one_order(api, category, orderLinkId="rest-1")
        no_open = await api.ok("GET", "/v5/order/realtime", category=category, symbol=symbol)
        history = await api.ok("GET", "/v5/order/history", category=category)
        reused = await place(
            api,
            category=category,
            symbol=symbol,
            side="Buy",
            orderType="Limit",
            qty=qty,
            price=price,
            orderLinkId="rest-1",
        )
    assert 0 == placed["retCode"]
    assert {"orderId", "orderLinkId"} == set(placed["result"])
    assert ("New", "rest-1", "Limit", "GTC") == (
        order["orderStatus"],
        order["orderLinkId"],
        order["orderType"],
        order["timeInForce"],
    )
    assert [order["orderId"]] == [o["orderId"] for o in open_list["list"]]
    assert 0 == amended["retCode"]
    assert Decimal("0.02") == Decimal(after_amend["qty"])
    assert (0, "Cancelled", "CancelByUser") == (
        cancelled["retCode"],
        final["orderStatus"],
        final["cancelType"],
    )
    assert (170213 if category == "spot" else 110001) == again["retCode"]
    assert [] == no_open["list"]
    assert [order["orderId"]] == [o["orderId"] for o in history["list"]]
    # orderLinkId is "always unique": reusing a closed order's id is refused.
    assert (170141 if category == "spot" else 110072) == reused["retCode"]


async def test_bybit_post_only_that_would_take_is_accepted_then_cancelled() -> None:
    async with bybit() as (sim, api):
        _bid, ask = touch(sim, "linear", "ETHUSDT")
        placed = await place(
            api,
            category="linear",
            symbol="ETHUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.10",
            price=str(ask),
            timeInForce="PostOnly",
        )
        order = await one_order(api, "linear", orderId=placed["result"]["orderId"])
    assert (0, "") == (placed["retCode"], placed["result"]["orderLinkId"])
    assert ("Cancelled", "EC_PostOnlyWillTakeLiquidity", "0.00") == (
        order["orderStatus"],
        order["rejectReason"],
        order["cumExecQty"],
    )


async def test_bybit_spot_market_buy_is_in_quote_units_unless_market_unit_says_base() -> None:
    async with bybit() as (_sim, api):
        quote = await place(
            api, category="spot", symbol="BTCUSDT", side="Buy", orderType="Market", qty="100"
        )
        base = await place(
            api,
            category="spot",
            symbol="BTCUSDT",
            side="Buy",
            orderType="Market",
            qty="0.001",
            marketUnit="baseCoin",
        )
        by_quote = await one_order(api, "spot", orderId=quote["result"]["orderId"])
        by_base = await one_order(api, "spot", orderId=base["result"]["orderId"])
        fills = await api.ok("GET", "/v5/execution/list", category="spot")
    assert ("Filled", "100", "IOC") == (
        by_quote["orderStatus"],
        by_quote["qty"],
        by_quote["timeInForce"],
    )
    assert Decimal(0) < Decimal(by_quote["cumExecValue"]) <= Decimal(100)
    assert ("Filled", Decimal("0.001"), "baseCoin") == (
        by_base["orderStatus"],
        Decimal(by_base["cumExecQty"]),
        by_base["marketUnit"],
    )
    assert {by_quote["orderId"], by_base["orderId"]} == {f["orderId"] for f in fills["list"]}
    assert all(f["feeCurrency"] == "BTC" and not f["isMaker"] for f in fills["list"])


@pytest.mark.parametrize(
    ("category", "symbol", "change", "code"),
    [
        ("spot", "BTCUSDT", {"qty": "30", "price": "10000"}, 170131),
        ("linear", "ETHUSDT", {"qty": "5000"}, 110007),
        ("spot", "BTCUSDT", {"price": "100.123456789"}, 170134),
        ("spot", "BTCUSDT", {"side": "Up"}, 170117),
        ("linear", "ETHUSDT", {"orderType": "Stop"}, 10001),
        ("linear", "ETHUSDT", {"orderLinkId": "x" * 37}, 10001),
        ("linear", "NOPEUSDT", {}, 10001),
        ("spot", "NOPEUSDT", {}, 170121),
        ("linear", "ETHUSDT", {"positionIdx": 1}, 10001),
    ],
)
async def test_bybit_refusals_use_the_category_codes(
    category: str, symbol: str, change: dict[str, Any], code: int
) -> None:
    async with bybit() as (_sim, api):
        params = {
            "category": category,
            "symbol": symbol,
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.01" if category == "spot" else "0.10",
            "price": "1000",
            **change,
        }
        body = await place(api, **params)
    assert (code, {}) == (body["retCode"], body["result"])


async def test_bybit_batch_create_splits_results_and_limits_the_size() -> None:
    async with bybit() as (sim, api):
        good = {"symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.10"}
        good["price"] = below(sim, "linear", "ETHUSDT")
        body = (
            await api.post(
                "/v5/order/create-batch",
                {
                    "category": "linear",
                    "request": [{**good, "orderLinkId": "b1"}, {**good, "orderLinkId": "b1"}],
                },
            )
        ).json()
        too_many = (
            await api.post(
                "/v5/order/create-batch",
                {"category": "spot", "request": [{**good, "symbol": "BTCUSDT"}] * 11},
            )
        ).json()
        cancel = (
            await api.post(
                "/v5/order/cancel-batch",
                {"category": "linear", "request": [{"symbol": "ETHUSDT", "orderLinkId": "b1"}]},
            )
        ).json()
    items, ext = body["result"]["list"], body["retExtInfo"]["list"]
    assert [0, 110072] == [e["code"] for e in ext]
    assert ["b1", "b1"] == [i["orderLinkId"] for i in items]
    assert items[0]["orderId"] and "" == items[1]["orderId"]
    assert items[0]["createAt"] and "" == items[1]["createAt"]
    assert 10001 == too_many["retCode"]
    assert [0] == [e["code"] for e in cancel["retExtInfo"]["list"]]


async def test_bybit_order_limits_are_per_uid_with_headers_and_10006() -> None:
    limits = {("/v5/order/create", "linear"): 2}
    async with bybit(order_limits=limits) as (sim, api):
        params = {"category": "linear", "symbol": "ETHUSDT", "side": "Buy"}
        params |= {"orderType": "Limit", "qty": "0.10", "price": below(sim, "linear", "ETHUSDT")}
        replies = [await api.post("/v5/order/create", params) for _ in range(3)]
        spot = await api.post(
            "/v5/order/create", {**params, "category": "spot", "symbol": "BTCUSDT"}
        )
        refusals = sim.frontends["bybit"].statistics().order_limit_refusals
    assert 1 == refusals
    assert [0, 0, 10006] == [r.json()["retCode"] for r in replies]
    assert ["1", "0", "0"] == [r.headers["X-Bapi-Limit-Status"] for r in replies]
    assert ["2"] * 3 == [r.headers["X-Bapi-Limit"] for r in replies]
    resets = [int(r.headers["X-Bapi-Limit-Reset-Timestamp"]) for r in replies]
    # Allowed: the current time; refused: when the first request leaves the rolling
    # second (counted in 10 ms steps; the wait in ms is rounded up).
    assert resets[0] <= resets[1] < resets[2] <= resets[0] + 1011
    # Spot counts apart (its own documented limit).
    assert "20" == spot.headers["X-Bapi-Limit"]


async def test_bybit_account_reads_answer_with_their_own_per_uid_limit() -> None:
    async with bybit() as (_sim, api):
        positions = await api.get("/v5/position/list", category="linear", settleCoin="USDT")
        wallet = await api.get("/v5/account/wallet-balance", accountType="UNIFIED")
    # The rate-limit table: 50/s per UID each (not the IP's 600 per 5 s).
    assert ["50", "50"] == [r.headers["X-Bapi-Limit"] for r in (positions, wallet)]


# ------------------------------------------------------------- account


async def test_bybit_account_endpoints_have_the_documented_shapes() -> None:
    nt_wallet = json.loads(fixture_path(NT + "http_get_wallet_balance.json").read_text())
    nt_position = json.loads(fixture_path(NT + "http_get_positions.json").read_text())
    async with bybit() as (_sim, api):
        await place(
            api, category="linear", symbol="ETHUSDT", side="Buy", orderType="Market", qty="0.10"
        )
        wallet = await api.ok("GET", "/v5/account/wallet-balance", accountType="UNIFIED")
        wrong_type = (await api.get("/v5/account/wallet-balance", accountType="SPOT")).json()
        positions = await api.ok("GET", "/v5/position/list", category="linear", settleCoin="USDT")
        flat = await api.ok("GET", "/v5/position/list", category="linear", symbol="BTCUSDT")
        fills = await api.ok("GET", "/v5/execution/list", category="linear")
        leverage = await api.post(
            "/v5/position/set-leverage",
            {"category": "linear", "symbol": "ETHUSDT", "buyLeverage": "5", "sellLeverage": "5"},
        )
        same = await api.post(
            "/v5/position/set-leverage",
            {"category": "linear", "symbol": "ETHUSDT", "buyLeverage": "5", "sellLeverage": "5"},
        )
        one_way = await api.post("/v5/position/switch-mode", {"category": "linear", "mode": 0})
        fees = await api.ok("GET", "/v5/account/fee-rate", category="linear", symbol="ETHUSDT")
        info = await api.ok("GET", "/v5/account/info")
        key = await api.ok("GET", "/v5/user/query-api")
        coins = await api.ok("GET", "/v5/asset/coin/query-info")
    account = wallet["list"][0]
    assert set(nt_wallet["result"]["list"][0]) <= set(account)
    assert set(nt_wallet["result"]["list"][0]["coin"][0]) <= set(account["coin"][0])
    assert "UNIFIED" == account["accountType"]
    assert 10001 == wrong_type["retCode"]
    position = positions["list"][0]
    assert set(nt_position["result"]["list"][0]) <= set(position)
    assert ("ETHUSDT", "Buy", Decimal("0.1"), 0) == (
        position["symbol"],
        position["side"],
        Decimal(position["size"]),
        position["positionIdx"],
    )
    assert ("", "0.000") == (flat["list"][0]["side"], flat["list"][0]["size"])
    assert position["seq"] == fills["list"][0]["seq"] > 0
    assert [0, 110043, 110025] == [r.json()["retCode"] for r in (leverage, same, one_way)]
    assert {"symbol": "ETHUSDT", "takerFeeRate": "0.00055", "makerFeeRate": "0.0002"} == {
        k: fees["list"][0][k] for k in ("symbol", "takerFeeRate", "makerFeeRate")
    }
    assert 6 == info["unifiedMarginStatus"]
    assert (KEY, 1) == (key["apiKey"], key["uta"])
    assert {"BTC", "USDT", "ETH"} <= {row["coin"] for row in coins["rows"]}


async def test_bybit_realtime_order_matches_the_recorded_shape() -> None:
    nt = json.loads(fixture_path(NT + "http_get_orders_realtime.json").read_text())
    async with bybit() as (sim, api):
        await place(
            api,
            category="linear",
            symbol="ETHUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.10",
            price=below(sim, "linear", "ETHUSDT"),
        )
        result = await api.ok("GET", "/v5/order/realtime", category="linear", settleCoin="USDT")
        missing_scope = (await api.get("/v5/order/realtime", category="linear")).json()
    real = nt["result"]["list"][0]
    ours = result["list"][0]
    assert set(real) <= set(ours)
    skip = {"avgPrice", "blockTradeId", "orderIv", "orderId", "orderLinkId"}
    assert [(k, v) for k, v in skeleton(real) if k not in skip] == [
        (k, v) for k, v in skeleton({k: ours[k] for k in real}) if k not in skip
    ]
    assert 10001 == missing_scope["retCode"]


async def test_bybit_rest_faults_aimed_at_a_category_hit_its_signed_posts_only() -> None:
    plan = FaultPlan(seed=1).rest_error(
        1.0, venue="bybit", market="linear", path="/v5/order/create"
    )
    with trio.fail_after(20):
        async with (
            run(venues=("bybit",), paused=True, faults=plan) as sim,
            httpx.AsyncClient(base_url=sim.urls["bybit"]["linear.rest"]) as client,
        ):
            api = Signed(client)
            order = {"side": "Buy", "orderType": "Market"}
            linear = await api.post(
                "/v5/order/create",
                {**order, "category": "linear", "symbol": "ETHUSDT", "qty": "0.10"},
            )
            spot = await api.post(
                "/v5/order/create", {**order, "category": "spot", "symbol": "BTCUSDT", "qty": "10"}
            )
            orders = sim.venues["bybit"].desk.orders(sim.venues["bybit"].desk.accounts()[0])
    assert (503, 200) == (linear.status_code, spot.status_code)
    assert ["spot"] == [o.market for o in orders]


async def test_bybit_amend_to_the_filled_quantity_is_refused_with_110064() -> None:
    async with bybit() as (sim, api):
        hub = sim.venues["bybit"]
        inst = hub.book("linear", "ETHUSDT").instrument
        bid, _ask = touch(sim, "linear", "ETHUSDT")
        price = bid + inst.tick_size
        placed = await place(
            api,
            category="linear",
            symbol="ETHUSDT",
            side="Buy",
            orderType="Limit",
            qty="0.20",
            price=str(price),
        )
        hub.add_liquidity("linear", "ETHUSDT", Side.SELL, price, Decimal("0.05"))
        target = {"category": "linear", "symbol": "ETHUSDT", "orderId": placed["result"]["orderId"]}
        partial = await one_order(api, "linear", orderId=target["orderId"])
        refused = (await api.post("/v5/order/amend", {**target, "qty": "0.05"})).json()
        grown = (await api.post("/v5/order/amend", {**target, "qty": "0.30"})).json()
        after = await one_order(api, "linear", orderId=target["orderId"])
    assert ("PartiallyFilled", "0.05") == (partial["orderStatus"], partial["cumExecQty"])
    assert 110064 == refused["retCode"]
    assert 0 == grown["retCode"]
    assert ("PartiallyFilled", "0.30", "0.25") == (
        after["orderStatus"],
        after["qty"],
        after["leavesQty"],
    )


async def test_bybit_spot_ioc_partly_filled_ends_partially_filled_canceled() -> None:
    async with bybit() as (sim, api):
        _bids, asks = sim.engine_book("bybit", "spot", "ETHUSDT", 1)
        top = asks[0]
        step = sim.venues["bybit"].book("spot", "ETHUSDT").instrument.lot_step
        qty = (top.qty * 2).quantize(step)
        assert qty * top.price < Decimal(90_000), "the test needs a thinner top level"
        placed = await place(
            api,
            category="spot",
            symbol="ETHUSDT",
            side="Buy",
            orderType="Limit",
            qty=str(qty),
            price=str(top.price),
            timeInForce="IOC",
        )
        order = await one_order(api, "spot", orderId=placed["result"]["orderId"])
    assert ("PartiallyFilledCanceled", "EC_NoImmediateQtyToFill") == (
        order["orderStatus"],
        order["rejectReason"],
    )
    assert Decimal(order["cumExecQty"]) == top.qty
    assert Decimal(order["leavesQty"]) == 0


@pytest.mark.parametrize(
    ("smp", "maker_status"), [("None", "Filled"), ("CancelMaker", "Cancelled")]
)
async def test_bybit_self_trades_follow_smp_type(smp: str, maker_status: str) -> None:
    async with bybit() as (sim, api):
        inst = sim.venues["bybit"].book("linear", "ETHUSDT").instrument
        _bid, ask = touch(sim, "linear", "ETHUSDT")
        price = str(ask - inst.tick_size)  # the new best ask, ours
        base = {"category": "linear", "symbol": "ETHUSDT", "orderType": "Limit", "qty": "0.10"}
        maker = await place(api, **base, side="Sell", price=price)
        taker = await place(api, **base, side="Buy", price=price, smpType=smp)
        resting = await one_order(api, "linear", orderId=maker["result"]["orderId"])
        crossing = await one_order(api, "linear", orderId=taker["result"]["orderId"])
        unsupported = await place(api, **base, side="Buy", price=price, smpType="CancelBoth")
    assert maker_status == resting["orderStatus"]
    if smp == "CancelMaker":
        assert ("CancelBySmp", "New") == (resting["cancelType"], crossing["orderStatus"])
    else:
        assert "Filled" == crossing["orderStatus"]
    assert 10001 == unsupported["retCode"]


async def test_bybit_locked_is_what_spot_orders_hold() -> None:
    # Wallet docs: "locked - Locked balance due to the Spot open order"; a linear
    # order's margin is totalOrderIM, its fee reserve neither.
    async def usdt(api: Signed) -> dict[str, Any]:
        wallet = await api.ok("GET", "/v5/account/wallet-balance", accountType="UNIFIED")
        (coin,) = [c for c in wallet["list"][0]["coin"] if c["coin"] == "USDT"]
        return coin

    async with bybit() as (sim, api):
        linear = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
        await api.ok(
            "POST", "/v5/order/create", **linear, qty="0.01", price=below(sim, "linear", "BTCUSDT")
        )
        with_linear = await usdt(api)
        spot_price = below(sim, "spot", "BTCUSDT")
        spot = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit"}
        await api.ok("POST", "/v5/order/create", **spot, qty="0.01", price=spot_price)
        with_spot = await usdt(api)
    assert "0" == with_linear["locked"] and Decimal(with_linear["totalOrderIM"]) > 0
    assert Decimal(spot_price) * Decimal("0.01") == Decimal(with_spot["locked"])
