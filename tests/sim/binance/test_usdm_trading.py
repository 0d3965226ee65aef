"""The simulated Binance USDⓈ-M trading side: codes, shapes, user data, ws-fapi."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from connector import sim
from tests.conftest import fixture_path
from tests.sim.binance.usdm_client import (
    KEY,
    call,
    listen_key,
    next_event,
    sign,
    touch,
    trading,
)

NT = "nautilus_trader/crates/adapters/binance/test_data/futures/"


def nt(name: str) -> Any:
    with open(fixture_path(NT + name)) as fh:
        return json.load(fh)


def kinds(value: dict[str, Any]) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in value.items()}


@pytest.fixture
async def s() -> AsyncIterator[sim.SimRun]:
    with trio.fail_after(60):
        # Shallow books: the simulator starts in milliseconds instead of a second.
        shallow = {"binance": {"spot_book_depth": 25, "linear_book_depth": 25}}
        async with sim.run(venues=("binance",), rate=100, seed=5, settings=shallow) as run:
            yield run


def limit(price: Decimal | str, side: str = "BUY", **extra: Any) -> dict[str, Any]:
    return {
        "symbol": "BTCUSDT",
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01",
        "price": str(price),
        **extra,
    }


def far(s: sim.SimRun) -> Decimal:
    return (touch(s, "BUY") * Decimal("0.8")).quantize(Decimal("0.1"))


# ------------------------------------------------------------------ shapes


async def test_order_query_balance_and_position_have_the_real_shapes(s: sim.SimRun) -> None:
    with trio.fail_after(10):
        placed = (await call(s, "POST", "/fapi/v1/order", limit(far(s)))).json()
        queried = await call(
            s, "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
        )
        balances = (await call(s, "GET", "/fapi/v3/balance")).json()
        positions = (await call(s, "GET", "/fapi/v2/positionRisk", {"symbol": "BTCUSDT"})).json()
    assert kinds(nt("http_json/order_response.json")) == kinds(queried.json())
    assert list(nt("http_json/order_response.json")) == list(queried.json())
    assert kinds(nt("http_json/balance.json")[0]) == kinds(balances[0])
    assert set(nt("http_json/position_risk.json")[0]) <= set(positions[0])
    assert "NEW" == placed["status"] and "0.010" == placed["origQty"]
    assert re.fullmatch(r"[0-9A-Za-z]{22}", placed["clientOrderId"])  # venue-made


async def test_user_data_events_have_the_real_shapes_and_end_as_rest_says(
    s: sim.SimRun,
) -> None:
    with trio.fail_after(10):
        key = (await listen_key(s)).json()["listenKey"]
        url = s.urls["binance"]["linear.ws"] + f"/private/ws?listenKey={key}"
        async with open_websocket_url(url) as ws:
            market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
            placed = (await call(s, "POST", "/fapi/v1/order", market)).json()
            events = [await next_event(ws)]
            while events[-1]["e"] != "ORDER_TRADE_UPDATE" or events[-1]["o"]["X"] != "FILLED":
                events.append(await next_event(ws))
            events.append(await next_event(ws))  # the fill's ACCOUNT_UPDATE
        rest = (
            await call(
                s, "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
            )
        ).json()
    by_kind = [e["e"] for e in events]
    assert "ORDER_TRADE_UPDATE" == by_kind[0] and "NEW" == events[0]["o"]["x"]
    assert ["TRADE_LITE", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE"] == by_kind[1:4]
    lite, trade, account = events[1:4]
    assert set(nt("user_data_json/trade_lite.json")) == set(lite)
    real = kinds(nt("user_data_json/order_update_trade_partial.json")["o"])
    for trailing_only in ("AP", "cr"):  # activation price, callback rate: trailing stops only
        del real[trailing_only]
    assert real.items() <= kinds(trade["o"]).items()
    real_account = nt("user_data_json/account_update.json")
    assert kinds(real_account["a"]["B"][0]) == kinds(account["a"]["B"][0])
    assert kinds(real_account["a"]["P"][0]) == kinds(account["a"]["P"][0])
    assert "ORDER" == account["a"]["m"] and "BOTH" == account["a"]["P"][0]["ps"]
    last = [e for e in events if e["e"] == "ORDER_TRADE_UPDATE"][-1]["o"]
    assert (rest["status"], rest["executedQty"]) == (last["X"], last["z"]) == ("FILLED", "0.010")


async def test_private_stream_with_subscribe_wraps_events_and_cancel_ends_canceled(
    s: sim.SimRun,
) -> None:
    with trio.fail_after(10):
        key = (await listen_key(s)).json()["listenKey"]
        url = s.urls["binance"]["linear.ws"] + "/private/stream"
        async with open_websocket_url(url) as ws:
            await ws.send_message(json.dumps({"method": "SUBSCRIBE", "params": [key], "id": 1}))
            assert {"result": None, "id": 1} == json.loads(await ws.get_message())
            placed = (await call(s, "POST", "/fapi/v1/order", limit(far(s)))).json()
            frame = json.loads(await ws.get_message())
            await call(
                s, "DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
            )
            cancelled = await next_event(ws, "ORDER_TRADE_UPDATE")
            await call(s, "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "7"})
            config = await next_event(ws, "ACCOUNT_CONFIG_UPDATE")
    assert {"s": "BTCUSDT", "l": 7} == config["ac"]
    assert key == frame["stream"] and "NEW" == frame["data"]["o"]["X"]
    assert ("CANCELED", "CANCELED", 0) == (
        cancelled["o"]["x"],
        cancelled["o"]["X"],
        cancelled["o"]["t"],
    )


async def test_an_expired_listen_key_sends_listen_key_expired_with_a_string_e(
    s: sim.SimRun,
) -> None:
    side = trading(s)
    with trio.fail_after(10):
        key = (await listen_key(s)).json()["listenKey"]
        async with open_websocket_url(s.urls["binance"]["linear.ws"] + f"/private/ws/{key}") as ws:
            side.keys.lifetime_ms = 0  # the next keepalive ends it at once
            assert {"listenKey": key} == (await listen_key(s, "PUT")).json()
            side.streams.expire()
            event = json.loads(await ws.get_message())
            gone = (await listen_key(s, "PUT")).json()
    assert {"code": -1125, "msg": "This listenKey does not exist."} == gone
    assert "listenKeyExpired" == event["e"] and isinstance(event["E"], str)
    assert key == event["listenKey"]


async def test_listen_key_post_returns_the_active_key_and_an_unknown_key_is_refused(
    s: sim.SimRun,
) -> None:
    with trio.fail_after(10):
        first = (await listen_key(s)).json()["listenKey"]
        again = (await listen_key(s)).json()["listenKey"]
        assert first == again
        assert {} == (await listen_key(s, "DELETE")).json()
        assert -1125 == (await listen_key(s, "PUT")).json()["code"]
        url = s.urls["binance"]["linear.ws"] + f"/private/ws?listenKey={first}"
        async with open_websocket_url(url) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.get_message()
            assert ws.closed is not None and 1008 == ws.closed.code


# ------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"side": "BUY", "type": "LIMIT", "timeInForce": "GTX"}, 400, -5022),  # post-only takes
        ({"positionSide": "LONG"}, 400, -4061),
        ({"type": "STOP_MARKET"}, 400, -4120),
        ({"newClientOrderId": "x" * 37}, 400, -4015),
        ({"newClientOrderId": "bad id"}, 400, -1100),
        ({"quantity": "1000000"}, 400, -4005),
        ({"quantity": "50"}, 400, -2019),  # margin
        ({"reduceOnly": "true"}, 400, -2022),  # no position to reduce
        ({"symbol": "NOPEUSDT"}, 400, -1121),
        ({"side": "UP"}, 400, -1117),
        ({"price": "1.01"}, 400, -4014),
        ({"side": "SELL", "price": "5000000"}, 400, -4002),  # above PRICE_FILTER maxPrice
    ],
)
async def test_order_refusals_have_the_venue_codes(
    s: sim.SimRun, params: dict[str, Any], status: int, code: int
) -> None:
    price = touch(s, "SELL") if params.get("timeInForce") == "GTX" else far(s)
    with trio.fail_after(10):
        reply = await call(s, "POST", "/fapi/v1/order", {**limit(price), **params})
    assert (status, code) == (reply.status_code, reply.json()["code"])


async def test_duplicate_client_id_unknown_orders_and_signature(s: sim.SimRun) -> None:
    price = far(s)
    with trio.fail_after(10):
        first = await call(s, "POST", "/fapi/v1/order", limit(price, newClientOrderId="dup.1:a/b"))
        dup = await call(s, "POST", "/fapi/v1/order", limit(price, newClientOrderId="dup.1:a/b"))
        cancel = await call(s, "DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": 1})
        query = await call(s, "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": 1})
        same = await call(
            s,
            "PUT",
            "/fapi/v1/order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "origClientOrderId": "dup.1:a/b",
                "quantity": "0.01",
                "price": str(price),
            },
        )
        forged = await call(s, "GET", "/fapi/v3/balance", secret="x" * 64)
    assert 200 == first.status_code and "dup.1:a/b" == first.json()["clientOrderId"]
    assert (400, -4116) == (dup.status_code, dup.json()["code"])
    assert -2011 == cancel.json()["code"]
    assert -2013 == query.json()["code"]
    assert -5027 == same.json()["code"]
    assert -1022 == forged.json()["code"]


async def test_modify_loses_nothing_but_the_queue_and_cancel_all(s: sim.SimRun) -> None:
    with trio.fail_after(10):
        placed = (await call(s, "POST", "/fapi/v1/order", limit(far(s)))).json()
        new_price = str(far(s) - 1)
        modified = await call(
            s,
            "PUT",
            "/fapi/v1/order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "orderId": placed["orderId"],
                "quantity": "0.02",
                "price": new_price,
            },
        )
        done = await call(s, "DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"})
        after = await call(s, "GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"})
    body = modified.json()
    assert (placed["orderId"], "0.020", "NEW") == (body["orderId"], body["origQty"], body["status"])
    assert Decimal(new_price) == Decimal(body["price"])
    assert {"code": 200, "msg": "The operation of cancel all open order is done."} == done.json()
    assert [] == after.json()
    used = int(after.headers["x-mbx-used-weight-1m"])
    every = await call(s, "GET", "/fapi/v1/openOrders")
    # No symbol: weight 40 (the count restarts when a new minute began in between).
    assert int(every.headers["x-mbx-used-weight-1m"]) in (used + 40, 40)


async def test_order_counts_go_out_as_headers_and_batches_answer_in_place(s: sim.SimRun) -> None:
    items = [limit(far(s)), {**limit(far(s)), "type": "STOP"}]
    with trio.fail_after(10):
        one = await call(s, "POST", "/fapi/v1/order", limit(far(s)))
        batch = await call(s, "POST", "/fapi/v1/batchOrders", {"batchOrders": json.dumps(items)})
    assert ("1", "1") == (one.headers["x-mbx-order-count-10s"], one.headers["x-mbx-order-count-1m"])
    assert ("3", "2") == (
        batch.headers["x-mbx-order-count-10s"],
        batch.headers["x-mbx-order-count-1m"],
    )
    first, second = batch.json()
    assert "NEW" == first["status"]
    assert -4120 == second["code"]


def test_the_order_counter_refuses_with_1015_over_its_limit() -> None:
    from connector.sim.binance.usdm_trading import OrderCounter

    now = [10_000]
    counter = OrderCounter(lambda: now[0], limit_10s=2, limit_1m=3)
    assert counter.charge("a") is None and counter.charge("a") is None
    refused = counter.charge("a")
    assert refused is not None and (429, -1015) == (refused.status, refused.code)
    assert "2 orders per 10 seconds" in refused.msg
    now[0] += 10_100  # the first two left the 10 s window
    assert counter.charge("a") is None
    assert counter.charge("a") is not None  # the minute's 3 are used
    assert counter.charge("b") is None  # per account


# ----------------------------------------------------------------- ws-fapi


def ws_request(method: str, params: dict[str, Any], req_id: str = "r1") -> str:
    import time

    full = {**params, "apiKey": KEY.api_key, "timestamp": int(time.time() * 1000)}
    payload = "&".join(f"{k}={full[k]}" for k in sorted(full))
    return json.dumps(
        {"id": req_id, "method": method, "params": {**full, "signature": sign(payload)}}
    )


async def test_ws_fapi_places_queries_and_cancels_with_rate_limits(s: sim.SimRun) -> None:
    url = s.urls["binance"]["linear.ws"] + "/ws-fapi/v1"
    with trio.fail_after(10):
        async with open_websocket_url(url) as ws:
            await ws.send_message(ws_request("order.place", limit(far(s))))
            placed = json.loads(await ws.get_message())
            assert 200 == placed["status"], placed
            order_id = placed["result"]["orderId"]
            ref = {"symbol": "BTCUSDT", "orderId": order_id}
            await ws.send_message(ws_request("order.status", ref, "r2"))
            status = json.loads(await ws.get_message())
            change = {**ref, "side": "BUY", "quantity": "0.01", "price": str(far(s) - 1)}
            await ws.send_message(ws_request("order.modify", change, "r6"))
            modified = json.loads(await ws.get_message())
            await ws.send_message(ws_request("order.cancel", ref, "r3"))
            cancelled = json.loads(await ws.get_message())
            await ws.send_message(ws_request("session.logon", {}, "r4"))
            logon = json.loads(await ws.get_message())
            bad = json.loads(ws_request("order.status", ref, "r5"))
            bad["params"]["signature"] = "0" * 64
            await ws.send_message(json.dumps(bad))
            forged = json.loads(await ws.get_message())
    assert ("r1", 200, "NEW") == (placed["id"], placed["status"], placed["result"]["status"])
    orders = [r for r in placed["rateLimits"] if r["rateLimitType"] == "ORDERS"]
    assert [(10, "SECOND", 300, 1), (1, "MINUTE", 1200, 1)] == [
        (r["intervalNum"], r["interval"], r["limit"], r["count"]) for r in orders
    ]
    assert "NEW" == status["result"]["status"]
    assert 200 == modified["status"], modified
    # Modify Order and Cancel Order (websocket API, checked 2026-12-06): a modification
    # counts 1 on each order counter and weighs 1, a cancel weighs 1 (a new order 0).
    assert [1 + 1, 1 + 1] == [
        r["count"] for r in modified["rateLimits"] if r["rateLimitType"] == "ORDERS"
    ]
    weights = [
        next(r["count"] for r in reply["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT")
        for reply in (modified, cancelled)
    ]
    assert weights[1] in (weights[0] + 1, 1)  # 1 when a new minute began in between
    assert "CANCELED" == cancelled["result"]["status"]
    assert -4056 == logon["error"]["code"]  # HMAC keys cannot log on
    assert (400, -1022) == (forged["status"], forged["error"]["code"])


async def test_ws_fapi_shares_the_ips_request_weight_with_rest() -> None:
    # websocket-api-general-info (checked 2026-12-06): the WebSocket API counts the
    # IP's REQUEST_WEIGHT with REST; over it 429, banned 418, both -1003 with
    # error.data {serverTime, retryAfter}; an order (weight 0) from a banned IP is
    # refused too.
    settings = {
        "binance": {
            "linear_book_depth": 25,
            "linear_weight_limit": 12,
            "weight_window": 5.0,
            "strikes_before_ban": 1,
            "ban_seconds": 60.0,
        }
    }
    with trio.fail_after(20):
        async with sim.run(venues=("binance",), rate=100, seed=5, settings=settings) as run:
            url = run.urls["binance"]["linear.ws"] + "/ws-fapi/v1"
            depth = run.urls["binance"]["linear.rest"] + "/fapi/v1/depth"
            async with httpx.AsyncClient() as rest, open_websocket_url(url) as ws:
                await trio.sleep_until((trio.current_time() // 5 + 1) * 5 + 0.05)
                await rest.get(depth, params={"symbol": "BTCUSDT", "limit": 500})  # weight 10
                unknown = {"symbol": "BTCUSDT", "orderId": 1}
                await ws.send_message(ws_request("order.status", unknown, "w1"))
                counted = json.loads(await ws.get_message())
                over = await rest.get(depth, params={"symbol": "BTCUSDT", "limit": 500})
                replies = []
                for i in range(3):
                    await ws.send_message(ws_request("session.status", {}, f"s{i}"))
                    replies.append(json.loads(await ws.get_message()))
                await ws.send_message(ws_request("order.place", limit(far(run)), "o1"))
                banned_order = json.loads(await ws.get_message())
    (weight,) = [r for r in counted["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT"]
    assert (12, 11) == (weight["limit"], weight["count"])  # REST's 10 and its own 1
    assert 429 == over.status_code  # REST over the shared weight: a first strike
    # One more request fits (12), the next is over (429), the one after is banned.
    assert [200, 429, 418] == [r["status"] for r in replies]
    for reply in replies[1:]:
        error = reply["error"]
        assert -1003 == error["code"]
        assert error["data"]["retryAfter"] > error["data"]["serverTime"]
    assert 418 == banned_order["status"]


async def test_account_endpoints_answer_as_clients_expect(s: sim.SimRun) -> None:
    with trio.fail_after(10):
        mode = (await call(s, "GET", "/fapi/v1/positionSide/dual")).json()
        no_change = (
            await call(s, "POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "false"})
        ).json()
        lev = (
            await call(s, "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "20"})
        ).json()
        bad_lev = (
            await call(s, "POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "500"})
        ).json()
        fees = (await call(s, "GET", "/fapi/v1/commissionRate", {"symbol": "BTCUSDT"})).json()
        brackets = (await call(s, "GET", "/fapi/v1/leverageBracket")).json()
        one = (await call(s, "GET", "/fapi/v1/leverageBracket", {"symbol": "ETHUSDT"})).json()
        account = (await call(s, "GET", "/fapi/v3/account")).json()
        risk = (await call(s, "GET", "/fapi/v2/positionRisk", {"symbol": "BTCUSDT"})).json()
    assert {"dualSidePosition": False} == mode
    assert -4059 == no_change["code"]
    assert {"leverage": 20, "symbol": "BTCUSDT"}.items() <= lev.items()
    assert -4028 == bad_lev["code"]
    assert ("0.0002", "0.0005") == (fees["makerCommissionRate"], fees["takerCommissionRate"])
    assert "BTCUSDT" in {b["symbol"] for b in brackets}
    assert "ETHUSDT" == one["symbol"] and 125 == one["brackets"][0]["initialLeverage"]
    assert Decimal(account["totalWalletBalance"]) > 0 and isinstance(account["assets"], list)
    assert "20" == risk[0]["leverage"]


async def test_a_resting_order_filled_by_the_flow_streams_maker_fills_to_filled(
    s: sim.SimRun,
) -> None:
    with trio.fail_after(10):
        key = (await listen_key(s)).json()["listenKey"]
        url = s.urls["binance"]["linear.ws"] + f"/private/ws?listenKey={key}"
        async with open_websocket_url(url) as ws:
            bid = touch(s, "BUY")
            placed = (await call(s, "POST", "/fapi/v1/order", limit(bid))).json()
            assert "NEW" == (await next_event(ws, "ORDER_TRADE_UPDATE"))["o"]["X"]
            s.venues["binance"].move_market("linear", "BTCUSDT", -1)  # trades through the bid
            fills = []
            while not fills or fills[-1]["o"]["X"] != "FILLED":
                fills.append(await next_event(ws, "ORDER_TRADE_UPDATE"))
            account = await next_event(ws, "ACCOUNT_UPDATE")
        ref = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
        rest = (await call(s, "GET", "/fapi/v1/order", ref)).json()
        trades = (await call(s, "GET", "/fapi/v1/userTrades", ref)).json()
    assert all(f["o"]["x"] == "TRADE" and f["o"]["m"] is True for f in fills)
    assert [f["o"]["t"] for f in fills] == [t["id"] for t in trades]
    assert all(t["maker"] for t in trades)
    assert ("FILLED", "0.010") == (rest["status"], rest["executedQty"])
    assert Decimal(fills[-1]["o"]["z"]) == Decimal(rest["executedQty"])
    assert "BTCUSDT" == account["a"]["P"][0]["s"] and Decimal(account["a"]["P"][0]["pa"]) > 0


async def test_every_orders_stream_ends_in_the_state_rest_reports(s: sim.SimRun) -> None:
    ask = touch(s, "SELL")
    orders = [
        {**limit(ask), "timeInForce": "IOC"},
        {**limit(ask), "timeInForce": "FOK", "quantity": "5"},
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.02"},
        limit(far(s)),
        {**limit(far(s)), "timeInForce": "GTX"},
        {**limit(ask * 2, "SELL"), "reduceOnly": "true"},
    ]
    with trio.fail_after(10):
        key = (await listen_key(s)).json()["listenKey"]
        url = s.urls["binance"]["linear.ws"] + f"/private/ws?listenKey={key}"
        async with open_websocket_url(url) as ws:
            ids = []
            for params in orders:
                reply = (await call(s, "POST", "/fapi/v1/order", params)).json()
                assert "orderId" in reply, reply
                ids.append(reply["orderId"])
            await call(s, "DELETE", "/fapi/v1/allOpenOrders", {"symbol": "BTCUSDT"})
            last: dict[int, dict[str, Any]] = {}
            while len(last) < len(ids) or any(
                last[i]["X"] in ("NEW", "PARTIALLY_FILLED") for i in last
            ):
                event = await next_event(ws, "ORDER_TRADE_UPDATE")
                last[event["o"]["i"]] = event["o"]
        rest = [
            (await call(s, "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": i})).json()
            for i in ids
        ]
    for order in rest:
        final = last[order["orderId"]]
        assert (order["status"], order["executedQty"]) == (final["X"], final["z"])
    assert {"EXPIRED", "FILLED", "CANCELED"} >= {o["status"] for o in rest}
    assert "EXPIRED" == rest[1]["status"]  # FOK larger than the book's top


def test_listen_keys_live_sixty_minutes_from_their_last_keepalive() -> None:
    from connector.sim.binance.usdm_account import ListenKeys

    now = [0]
    keys = ListenKeys(lambda: now[0])
    key = keys.create("alice")
    assert key == keys.create("alice") and key != keys.create("bob")
    now[0] = 59 * 60_000
    assert key == keys.keepalive("alice")
    now[0] = 118 * 60_000
    assert "alice" == keys.account_of(key)
    now[0] = 119 * 60_000
    assert keys.account_of(key) is None and keys.keepalive("alice") is None
    assert key != keys.create("alice")  # a new key once the old one expired


async def test_ws_fapi_session_logon_with_ed25519_then_unsigned_orders() -> None:
    import base64
    import time

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from connector.sim.accounts import AccountSpec, Credentials, default_accounts

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    api_key = "E" * 64
    ed = AccountSpec(
        account_id="ed",
        venue="binance",
        credentials=Credentials(api_key=api_key, key_type="ed25519", public_key=public.decode()),
    )
    accounts = [*default_accounts(), ed]
    shallow = {"binance": {"spot_book_depth": 25, "linear_book_depth": 25}}
    with trio.fail_after(20):
        async with sim.run(venues=("binance",), seed=5, settings=shallow, accounts=accounts) as s:
            params = {"apiKey": api_key, "timestamp": int(time.time() * 1000)}
            payload = "&".join(f"{k}={params[k]}" for k in sorted(params)).encode()
            signature = base64.b64encode(private.sign(payload)).decode()
            signed = {**params, "signature": signature}
            logon = {"id": 1, "method": "session.logon", "params": signed}
            async with open_websocket_url(s.urls["binance"]["linear.ws"] + "/ws-fapi/v1") as ws:
                await ws.send_message(json.dumps(logon))
                logged = json.loads(await ws.get_message())
                place = {"id": 2, "method": "order.place", "params": limit(far(s))}
                await ws.send_message(json.dumps(place))
                placed = json.loads(await ws.get_message())
            truth = s.venues["binance"].desk.open_orders("ed", "linear")
    assert 200 == logged["status"] and api_key == logged["result"]["apiKey"]
    assert 200 == placed["status"], placed
    assert [placed["result"]["orderId"]] == [int(o.order_id) for o in truth]


async def test_a_drop_fault_on_user_data_loses_one_usdm_event() -> None:
    """USDⓈ-M user data frames pass the fault plan under the stream name ``userData``."""
    plan = sim.FaultPlan().drop(1.0, venue="binance", stream="userData", max_count=1)
    shallow = {"binance": {"spot_book_depth": 25, "linear_book_depth": 25}}
    with trio.fail_after(20):
        async with sim.run(venues=("binance",), seed=5, settings=shallow, faults=plan) as s:
            key = (await listen_key(s)).json()["listenKey"]
            url = s.urls["binance"]["linear.ws"] + f"/private/ws?listenKey={key}"
            async with open_websocket_url(url) as ws:
                placed = (await call(s, "POST", "/fapi/v1/order", limit(far(s)))).json()
                ref = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
                await call(s, "DELETE", "/fapi/v1/order", ref)
                first = await next_event(ws, "ORDER_TRADE_UPDATE")
            assert 1 == s.injector.statistics().injected.get("drop", 0)
    # The NEW event was dropped: the first to arrive is the cancel.
    assert (placed["orderId"], "CANCELED") == (first["o"]["i"], first["o"]["x"])


async def test_user_trades_keeps_to_seven_day_windows(s: sim.SimRun) -> None:
    week = 7 * 86_400_000
    with trio.fail_after(10):
        market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
        placed = (await call(s, "POST", "/fapi/v1/order", market)).json()
        trades = "/fapi/v1/userTrades"
        recent = (await call(s, "GET", trades, {"symbol": "BTCUSDT"})).json()
        assert [placed["orderId"]] == list({t["orderId"] for t in recent})
        when = recent[0]["time"]
        # Only startTime: the 7 days from it; only endTime: the 7 days before it.
        early = await call(s, "GET", trades, {"symbol": "BTCUSDT", "startTime": when - week - 1})
        late = await call(s, "GET", trades, {"symbol": "BTCUSDT", "endTime": when + week + 1})
        both = {"symbol": "BTCUSDT", "startTime": when - 1, "endTime": when + 1}
        inside = await call(s, "GET", trades, both)
        too_long = {"symbol": "BTCUSDT", "startTime": when - week - 1, "endTime": when}
        far = await call(s, "GET", trades, too_long)
        mixed = {"symbol": "BTCUSDT", "fromId": recent[0]["id"], "startTime": when}
        combined = await call(s, "GET", trades, mixed)
        by_id = await call(s, "GET", trades, {"symbol": "BTCUSDT", "fromId": recent[0]["id"]})
    assert ([], []) == (early.json(), late.json())
    assert recent == inside.json() == by_id.json()[: len(recent)]
    assert (400, -1127) == (far.status_code, far.json()["code"])
    assert (400, -1128) == (combined.status_code, combined.json()["code"])


async def test_a_reduce_only_order_below_the_minimum_notional_closes_a_small_position(
    s: sim.SimRun,
) -> None:
    # -4164 "Order's notional must be no smaller than %s (unless you choose reduce
    # only)" (USDⓈ-M error codes, checked 2026-12-06); BTCUSDT's minimum is 100 USDT.
    small = {"symbol": "BTCUSDT", "side": "SELL", "quantity": "0.001"}
    with trio.fail_after(10):
        opened = await call(
            s,
            "POST",
            "/fapi/v1/order",
            {**small, "side": "BUY", "type": "MARKET", "quantity": "0.003"},
        )
        above = (touch(s, "SELL") * Decimal("1.02")).quantize(Decimal("0.1"))
        plain = await call(s, "POST", "/fapi/v1/order", limit(above, "SELL", quantity="0.001"))
        rests = await call(
            s, "POST", "/fapi/v1/order", limit(above, "SELL", quantity="0.001", reduceOnly="true")
        )
        market = await call(
            s,
            "POST",
            "/fapi/v1/order",
            {**small, "type": "MARKET", "reduceOnly": "true", "newOrderRespType": "RESULT"},
        )
    assert 200 == opened.status_code, opened.json()
    assert Decimal("0.001") * above < 100
    assert (400, -4164) == (plain.status_code, plain.json()["code"])
    assert "(unless you choose reduce only)" in plain.json()["msg"]
    assert (200, "NEW", True) == (
        rests.status_code,
        rests.json()["status"],
        rests.json()["reduceOnly"],
    )
    assert (200, "FILLED") == (market.status_code, market.json()["status"])
