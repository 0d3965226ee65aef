"""Binance spot WebSocket API and user data: methods, codes, event sequences.

Facts: docs/simulator.md "Binance spot trading" (Binance spot
web-socket-api.md, user-data-stream.md, checked 2026-12-03). Every user data
sequence of an order ends in the state REST reports. In memory.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest

from tests.sim.binance.spot_harness import KEY, Spot, ed25519_accounts, ws_sign

ORDER = "/api/v3/order"


@pytest.fixture
def spot() -> Spot:
    return Spot()


def subscribe(spot: Spot, session: Any, req_id: object = "s1") -> Any:
    params = ws_sign({"apiKey": KEY, "timestamp": spot.venue.now_ms()})
    return spot.ws(session, req_id, "userDataStream.subscribe.signature", params)


def reports(events: list[dict[str, Any]], order_id: int) -> list[dict[str, Any]]:
    return [
        e["event"]
        for e in events
        if e["event"]["e"] == "executionReport" and e["event"]["i"] == order_id
    ]


def assert_ends_as_rest(spot: Spot, last: dict[str, Any]) -> None:
    status, rest, _ = spot.call("GET", ORDER, {"symbol": last["s"], "orderId": last["i"]})
    assert status == 200
    assert last["X"] == rest["status"]
    assert last["z"] == rest["executedQty"] and last["Z"] == rest["cummulativeQuoteQty"]
    assert last["q"] == rest["origQty"]


def test_subscribe_signature_then_order_events_wrapped(spot: Spot) -> None:
    session, conn = spot.session()
    reply = subscribe(spot, session)
    assert reply["status"] == 200 and reply["result"] == {"subscriptionId": 0}
    assert reply["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    again = subscribe(spot, session, "s2")
    assert again["status"] == 400 and again["error"]["code"] == -2035
    bid, _ = spot.touch()
    params = ws_sign(
        {
            "apiKey": KEY,
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": str(bid - 100),
            "newClientOrderId": "ws-1",
            "timestamp": spot.venue.now_ms(),
        }
    )
    placed = spot.ws(session, 7, "order.place", params)
    assert placed["status"] == 200 and placed["result"]["status"] == "NEW"
    orders = [r for r in placed["rateLimits"] if r["rateLimitType"] == "ORDERS"]
    assert [(r["interval"], r["count"]) for r in orders] == [("SECOND", 1), ("DAY", 1)]
    oid = placed["result"]["orderId"]
    spot.call("DELETE", ORDER, {"symbol": "BTCUSDT", "orderId": oid, "newClientOrderId": "cx"})
    events = conn.events()
    assert all(e["subscriptionId"] == 0 for e in events)
    mine = reports(events, oid)
    assert [(r["x"], r["X"]) for r in mine] == [("NEW", "NEW"), ("CANCELED", "CANCELED")]
    assert mine[0]["c"] == "ws-1" and mine[0]["C"] == "" and mine[0]["t"] == -1
    assert mine[1]["c"] == "cx" and mine[1]["C"] == "ws-1"
    assert len({r["I"] for r in mine}) == 2
    kinds = [e["event"]["e"] for e in events]
    assert kinds.count("outboundAccountPosition") >= 2
    position = next(e["event"] for e in events if e["event"]["e"] == "outboundAccountPosition")
    assert "USDT" in {b["a"] for b in position["B"]}
    assert all(set(b) == {"a", "f", "l"} for b in position["B"])
    assert_ends_as_rest(spot, mine[-1])


def test_market_order_reports_new_then_trades_and_matches_rest(spot: Spot) -> None:
    session, conn = spot.session()
    subscribe(spot, session)
    params = ws_sign(
        {
            "apiKey": KEY,
            "symbol": "BTCUSDT",
            "side": "SELL",
            "type": "MARKET",
            "quantity": "0.05",
            "timestamp": spot.venue.now_ms(),
        }
    )
    placed = spot.ws(session, "m", "order.place", params)
    assert placed["result"]["status"] == "FILLED"
    mine = reports(conn.events(), placed["result"]["orderId"])
    assert mine[0]["x"] == "NEW" and all(r["x"] == "TRADE" for r in mine[1:])
    assert sum(Decimal(r["l"]) for r in mine[1:]) == Decimal("0.05")
    assert all(r["N"] == "USDT" and r["m"] is False and r["t"] > 0 for r in mine[1:])
    assert_ends_as_rest(spot, mine[-1])
    status = spot.ws(
        session,
        "q",
        "order.status",
        ws_sign(
            {
                "apiKey": KEY,
                "symbol": "BTCUSDT",
                "orderId": placed["result"]["orderId"],
                "timestamp": spot.venue.now_ms(),
            }
        ),
    )
    assert status["result"]["status"] == "FILLED"


def test_flow_fills_a_resting_order_as_maker(spot: Spot) -> None:
    session, conn = spot.session()
    subscribe(spot, session)
    bid, _ = spot.touch()
    _, placed, _ = spot.call(
        "POST",
        ORDER,
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.001",
            "price": str(bid),
        },
    )
    for _ in range(20):
        spot.venue.move_market("spot", "BTCUSDT", -0.2)
        if (
            spot.desk.order(
                "binance-demo", "spot", "BTCUSDT", order_id=str(placed["orderId"])
            ).state.name
            == "FILLED"
        ):
            break
    mine = reports(conn.events(), placed["orderId"])
    assert mine[0]["x"] == "NEW" and mine[-1]["X"] == "FILLED"
    assert all(r["m"] is True for r in mine if r["x"] == "TRADE")
    assert_ends_as_rest(spot, mine[-1])
    _, trades, _ = spot.call("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
    assert {t["id"] for t in trades} == {r["t"] for r in mine if r["x"] == "TRADE"}


def test_order_counts_are_shared_by_rest_and_the_websocket_api(spot: Spot) -> None:
    bid, _ = spot.touch()
    spot.call(
        "POST",
        ORDER,
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": str(bid - 100),
        },
    )
    session, _ = spot.session()
    params = ws_sign(
        {
            "apiKey": KEY,
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": str(bid - 100),
            "timestamp": spot.venue.now_ms(),
        }
    )
    reply = spot.ws(session, 1, "order.place", params)
    counts = {
        r["interval"]: r["count"] for r in reply["rateLimits"] if r["rateLimitType"] == "ORDERS"
    }
    assert counts == {"SECOND": 2, "DAY": 2}


def test_unsubscribe_ends_the_stream(spot: Spot) -> None:
    session, conn = spot.session()
    subscribe(spot, session)
    reply = spot.ws(session, "u", "userDataStream.unsubscribe", {})
    assert reply["status"] == 200 and reply["result"] == {}
    terminated = [e for e in conn.events() if e["event"]["e"] == "eventStreamTerminated"]
    assert len(terminated) == 1 and terminated[0]["subscriptionId"] == 0
    again = spot.ws(session, "u2", "userDataStream.unsubscribe", {})
    assert again["status"] == 400 and again["error"]["code"] == -2036
    assert spot.users.subscribed("binance-demo") == 0


def test_errors_and_unknown_methods(spot: Spot) -> None:
    session, _ = spot.session()
    bad = ws_sign({"apiKey": KEY, "timestamp": spot.venue.now_ms()}, secret="nope")
    reply = spot.ws(session, 1, "userDataStream.subscribe.signature", bad)
    assert reply["status"] == 400 and reply["error"]["code"] == -1022
    reply = spot.ws(session, 2, "userDataStream.subscribe", {})
    assert reply["status"] == 401 and reply["error"]["code"] == -1002
    reply = spot.ws(session, 3, "order.place", {"symbol": "BTCUSDT"})
    assert reply["error"]["code"] == -1102 and "apiKey" in reply["error"]["msg"]
    reply = spot.ws(session, 4, "no.such", {})
    assert reply["status"] == 400 and reply["error"]["code"] == -1100
    reply = spot.ws(session, 5, "ping", {"returnRateLimits": False})
    assert reply == {"id": 5, "status": 200, "result": {}}
    reply = spot.ws(
        session, 6, "session.logon", ws_sign({"apiKey": KEY, "timestamp": spot.venue.now_ms()})
    )
    assert reply["status"] == 400 and reply["error"]["code"] == -4056


def test_over_the_weight_429_then_the_ban_418_say_until_when(spot: Spot) -> None:
    # Binance spot web-socket-api.md "IP limits" (checked 2026-12-06): both carry
    # error.data {serverTime, retryAfter}, the ban's message names the same time.
    spot.limiter.limit = 3
    spot.limiter.strikes_before_ban = 1
    session, _ = spot.session()
    replies = [spot.ws(session, i, "time", {}) for i in range(7)]
    assert [200, 200, 200, 429, 429, 418, 418] == [r["status"] for r in replies]
    for reply in replies[3:]:
        error = reply["error"]
        assert -1003 == error["code"]
        assert error["data"]["retryAfter"] > error["data"]["serverTime"]
        assert "REQUEST_WEIGHT" == reply["rateLimits"][0]["rateLimitType"]
    assert "request weight per 1 MINUTE" in replies[3]["error"]["msg"]
    for banned in (replies[5]["error"], replies[6]["error"]):
        assert f"IP banned until {banned['data']['retryAfter']}." in banned["msg"]


def test_session_logon_with_ed25519_then_unsigned_requests() -> None:
    book, api_key, private = ed25519_accounts()
    spot = Spot(accounts=book)
    session, conn = spot.session()
    params: dict[str, object] = {"apiKey": api_key, "timestamp": spot.venue.now_ms()}
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params)).encode()
    params["signature"] = base64.b64encode(private.sign(payload)).decode()
    reply = spot.ws(session, "L", "session.logon", params)
    assert reply["status"] == 200 and reply["result"]["apiKey"] == api_key
    assert reply["result"]["authorizedSince"] is not None
    sub = spot.ws(session, "S", "userDataStream.subscribe", {})
    assert sub["result"] == {"subscriptionId": 0}
    bid, _ = spot.touch()
    placed = spot.ws(
        session,
        "P",
        "order.place",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.01",
            "price": str(bid - 100),
            "timestamp": spot.venue.now_ms(),
        },
    )
    assert placed["status"] == 200
    assert spot.desk.order("ed-user", "spot", "BTCUSDT", order_id=str(placed["result"]["orderId"]))
    assert reports(conn.events(), placed["result"]["orderId"])[0]["x"] == "NEW"
    account = spot.ws(session, "A", "account.status", {"timestamp": spot.venue.now_ms()})
    assert account["result"]["accountType"] == "SPOT"
    out = spot.ws(session, "O", "session.logout", {})
    assert out["result"]["apiKey"] is None
    assert any(e["event"]["e"] == "eventStreamTerminated" for e in conn.events())


def test_cancel_replace_and_keep_priority_amend_over_the_websocket_api(spot: Spot) -> None:
    session, conn = spot.session()
    subscribe(spot, session)
    bid, _ = spot.touch()
    base = {
        "apiKey": KEY,
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.02",
        "price": str(bid - 100),
    }
    placed = spot.ws(session, 1, "order.place", ws_sign({**base, "timestamp": spot.venue.now_ms()}))
    oid = placed["result"]["orderId"]
    amended = spot.ws(
        session,
        2,
        "order.amend.keepPriority",
        ws_sign(
            {
                "apiKey": KEY,
                "symbol": "BTCUSDT",
                "orderId": oid,
                "newQty": "0.01",
                "timestamp": spot.venue.now_ms(),
            }
        ),
    )
    assert amended["status"] == 200 and amended["result"]["amendedOrder"]["qty"] == "0.01000000"
    assert [r["x"] for r in reports(conn.events(), oid)] == ["NEW", "REPLACED"]
    assert reports(conn.events(), oid)[-1]["q"] == "0.01000000"
    # Sent without newClientOrderId: the order gets a new client id, streamed as ``c``.
    new_id = amended["result"]["amendedOrder"]["clientOrderId"]
    assert placed["result"]["clientOrderId"] != new_id == reports(conn.events(), oid)[-1]["c"]
    replace = {
        **base,
        "cancelReplaceMode": "STOP_ON_FAILURE",
        "cancelOrderId": oid,
        "timestamp": spot.venue.now_ms(),
    }
    done = spot.ws(session, 3, "order.cancelReplace", ws_sign(replace))
    assert done["status"] == 200 and done["result"]["cancelResult"] == "SUCCESS"
    orders = {r["rateLimitType"] for r in done["rateLimits"]}
    assert orders == {"REQUEST_WEIGHT", "ORDERS"}
    failed = spot.ws(
        session, 4, "order.cancelReplace", ws_sign({**replace, "timestamp": spot.venue.now_ms()})
    )
    assert failed["status"] == 400 and failed["error"]["code"] == -2022
    assert failed["error"]["data"]["newOrderResult"] == "NOT_ATTEMPTED"
    assert_ends_as_rest(spot, reports(conn.events(), oid)[-1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_order_stream_ends_in_the_rest_state(seed: int) -> None:
    """Random orders, cancels, amendments and market moves: for every order the last
    execution report is what REST reports, and fills on the stream are myTrades."""
    import random

    rng = random.Random(seed)
    spot = Spot(seed=seed)
    session, conn = spot.session()
    subscribe(spot, session)
    open_ids: list[int] = []
    for _ in range(40):
        bid, ask = spot.touch()
        action = rng.choice(["limit", "limit", "market", "ioc", "cancel", "amend", "move"])
        side = rng.choice(["BUY", "SELL"])
        if action in ("limit", "ioc"):
            offset = Decimal(rng.choice([0, 1, 5, 30]))
            price = bid - offset if side == "BUY" else ask + offset
            _, body, _ = spot.call(
                "POST",
                ORDER,
                {
                    "symbol": "BTCUSDT",
                    "side": side,
                    "type": "LIMIT",
                    "timeInForce": "IOC" if action == "ioc" else "GTC",
                    "quantity": "0.002",
                    "price": str(price),
                    "newOrderRespType": "ACK",
                },
            )
            if "orderId" in body:
                open_ids.append(body["orderId"])
        elif action == "market":
            spot.call(
                "POST",
                ORDER,
                {"symbol": "BTCUSDT", "side": side, "type": "MARKET", "quantity": "0.001"},
            )
        elif action == "cancel" and open_ids:
            spot.call("DELETE", ORDER, {"symbol": "BTCUSDT", "orderId": open_ids.pop(0)})
        elif action == "amend" and open_ids:
            spot.call(
                "PUT",
                "/api/v3/order/amend/keepPriority",
                {"symbol": "BTCUSDT", "orderId": open_ids[-1], "newQty": "0.001"},
            )
        else:
            spot.venue.move_market("spot", "BTCUSDT", rng.choice([-0.1, 0.1]))
    events = conn.events()
    _, every, _ = spot.call("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"})
    assert len({o["status"] for o in every}) >= 3  # several end states were reached
    for order in every:
        mine = reports(events, order["orderId"])
        assert mine and mine[0]["x"] == "NEW"
        assert_ends_as_rest(spot, mine[-1])
    _, trades, _ = spot.call("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "limit": 1000})
    streamed = {
        (e["event"]["i"], e["event"]["t"])
        for e in events
        if e["event"]["e"] == "executionReport" and e["event"]["x"] == "TRADE"
    }
    assert streamed == {(t["orderId"], t["id"]) for t in trades}
    assert len(streamed) >= 3  # the run did trade
