"""Binance spot private REST: order entry, codes, shapes, counts, account endpoints.

Facts: docs/simulator.md "Binance spot trading" (Binance spot rest-api.md,
errors.md, checked 2026-12-03; venues-trading.md 2-6). In memory, no sockets.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from connector.sim.binance.spot_limits import OrderCountLimiter, OrderWindow
from tests.sim.binance.spot_harness import KEY, Spot

ORDER = "/api/v3/order"


@pytest.fixture
def spot() -> Spot:
    return Spot()


def limit(
    price: Decimal, side: str = "BUY", qty: str = "0.01", **extra: object
) -> dict[str, object]:
    return {
        "symbol": "BTCUSDT",
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": qty,
        "price": str(price),
        **extra,
    }


def test_limit_order_rests_and_answers_full_result_and_ack_with_order_counts(spot: Spot) -> None:
    bid, _ = spot.touch()
    status, body, headers = spot.call("POST", ORDER, limit(bid - 100, newClientOrderId="my-1"))
    assert status == 200
    assert body["status"] == "NEW" and body["type"] == "LIMIT" and body["timeInForce"] == "GTC"
    assert body["clientOrderId"] == "my-1" and body["fills"] == []
    assert body["price"] == format(bid - 100, ".8f") and body["origQty"] == "0.01000000"
    assert isinstance(body["orderId"], int) and body["orderListId"] == -1
    assert headers["x-mbx-order-count-10s"] == "1" and headers["x-mbx-order-count-1d"] == "1"
    status, body, _ = spot.call("POST", ORDER, limit(bid - 100, newOrderRespType="RESULT"))
    assert "fills" not in body and body["status"] == "NEW"
    status, body, headers = spot.call("POST", ORDER, limit(bid - 100, newOrderRespType="ACK"))
    assert set(body) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    assert headers["x-mbx-order-count-10s"] == "3"
    # Sent in the form body instead of the query string: the same.
    status, body, _ = spot.call("POST", ORDER, limit(bid - 100), in_body=True)
    assert status == 200 and body["status"] == "NEW"


def test_market_order_fills_at_once_with_fills_fees_and_trades(spot: Spot) -> None:
    _, ask = spot.touch()
    status, body, _ = spot.call(
        "POST", ORDER, {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    )
    assert status == 200 and body["status"] == "FILLED" and body["type"] == "MARKET"
    assert body["executedQty"] == "0.01000000" and body["price"] == "0.00000000"
    fills = body["fills"]
    assert (
        fills and fills[0]["commissionAsset"] == "BTC" and fills[0]["price"] == format(ask, ".8f")
    )
    assert sum(Decimal(f["qty"]) for f in fills) == Decimal("0.01")
    status, trades, _ = spot.call("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
    assert status == 200 and [t["id"] for t in trades] == [f["tradeId"] for f in fills]
    assert trades[0]["isBuyer"] is True and trades[0]["isMaker"] is False
    # quoteOrderQty: spend 100 USDT.
    status, body, _ = spot.call(
        "POST",
        ORDER,
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "100"},
    )
    assert status == 200 and body["status"] == "FILLED"
    assert body["origQuoteOrderQty"] == "100.00000000"
    assert Decimal(body["cummulativeQuoteQty"]) <= Decimal(100)


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        ({"side": "BUY", "type": "LIMIT"}, -1102, "Mandatory parameter 'symbol'"),
        ({"symbol": "NOPE", "side": "BUY", "type": "LIMIT"}, -1121, "Invalid symbol."),
        ({"symbol": "BTCUSDT", "side": "UP", "type": "LIMIT"}, -1117, "Invalid side."),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMITED"}, -1116, "Invalid orderType."),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_LOSS"}, -1014, "Unsupported"),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "price": "1"},
            -1102,
            "'timeInForce'",
        ),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTD"},
            -1115,
            "Invalid timeInForce.",
        ),
        ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}, -1102, "'quoteOrderQty'"),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1", "price": "1"},
            -1106,
            "'price' sent when not required",
        ),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.123456789"},
            -1111,
            "too much precision",
        ),
        (
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1e3"},
            -1100,
            "Illegal characters found in parameter 'quantity'",
        ),
        (
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.01",
                "newClientOrderId": "has.dot",
            },
            -1100,
            "^[a-zA-Z0-9-_]{1,36}$",
        ),
    ],
)
def test_parameter_errors(spot: Spot, params: dict[str, object], code: int, msg: str) -> None:
    status, body, _ = spot.call("POST", ORDER, params)
    assert status == 400 and body["code"] == code and msg in body["msg"]
    assert spot.desk.orders("binance-demo") == []


def test_refusals_use_the_venue_codes(spot: Spot) -> None:
    bid, ask = spot.touch()
    # LIMIT_MAKER that would take: -2010 at once, nothing on the desk.
    status, body, _ = spot.call(
        "POST",
        ORDER,
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT_MAKER",
            "quantity": "0.01",
            "price": str(ask),
        },
    )
    assert (status, body) == (
        400,
        {"code": -2010, "msg": "Order would immediately match and take."},
    )
    assert spot.desk.orders("binance-demo") == []
    # A resting LIMIT_MAKER reports its type and GTC.
    status, body, _ = spot.call(
        "POST",
        ORDER,
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT_MAKER",
            "quantity": "0.01",
            "price": str(bid - 50),
            "newClientOrderId": "dup",
            "newOrderRespType": "RESULT",  # LIMIT_MAKER defaults to ACK
        },
    )
    assert status == 200 and body["type"] == "LIMIT_MAKER" and body["status"] == "NEW"
    status, body, _ = spot.call("POST", ORDER, limit(bid - 50, newClientOrderId="dup"))
    assert body == {"code": -2010, "msg": "Duplicate order sent."}
    status, body, _ = spot.call("POST", ORDER, limit(bid - 50, qty="50"))
    assert body == {"code": -2010, "msg": "Account has insufficient balance for requested action."}
    status, body, _ = spot.call("POST", ORDER, limit(bid - Decimal("0.005")))
    assert body == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    status, body, _ = spot.call("POST", ORDER, limit(Decimal(1000001), side="SELL"))  # > maxPrice
    assert body == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    status, body, _ = spot.call("POST", ORDER, limit(bid - 50, qty="0.000001"))
    assert body["code"] == -1013 and "LOT_SIZE" in body["msg"]
    status, body, _ = spot.call("POST", ORDER, limit(Decimal(100), qty="0.00002"))
    assert body == {"code": -1013, "msg": "Filter failure: NOTIONAL"}
    status, body, _ = spot.call("POST", ORDER, limit(Decimal(0)))
    assert body == {"code": -1013, "msg": "Invalid price."}
    status, body, _ = spot.call("POST", ORDER, limit(bid, qty="0"))
    assert body == {"code": -1013, "msg": "Invalid quantity."}


def test_ioc_and_fok_away_from_the_book_expire(spot: Spot) -> None:
    bid, _ = spot.touch()
    for tif in ("IOC", "FOK"):
        status, body, _ = spot.call("POST", ORDER, limit(bid - 100, timeInForce=tif))
        assert status == 200 and body["status"] == "EXPIRED" and body["timeInForce"] == tif
        assert body["executedQty"] == "0.00000000"


def test_query_cancel_and_their_errors(spot: Spot) -> None:
    bid, _ = spot.touch()
    _, placed, _ = spot.call("POST", ORDER, limit(bid - 100, newClientOrderId="q-1"))
    oid = placed["orderId"]
    _, by_id, _ = spot.call("GET", ORDER, {"symbol": "BTCUSDT", "orderId": oid})
    _, by_client, _ = spot.call("GET", ORDER, {"symbol": "BTCUSDT", "origClientOrderId": "q-1"})
    assert by_id == by_client and by_id["status"] == "NEW" and by_id["isWorking"] is True
    assert by_id["time"] == placed["transactTime"]
    status, body, _ = spot.call("GET", ORDER, {"symbol": "BTCUSDT", "orderId": 1})
    assert (status, body) == (400, {"code": -2013, "msg": "Order does not exist."})
    status, body, _ = spot.call(
        "GET", ORDER, {"symbol": "BTCUSDT", "orderId": oid, "origClientOrderId": "other"}
    )
    assert body["code"] == -2039
    status, body, _ = spot.call("GET", ORDER, {"symbol": "BTCUSDT"})
    assert body["code"] == -1102
    status, body, _ = spot.call(
        "DELETE", ORDER, {"symbol": "BTCUSDT", "orderId": oid, "newClientOrderId": "cx-1"}
    )
    assert status == 200 and body["status"] == "CANCELED"
    assert body["origClientOrderId"] == "q-1" and body["clientOrderId"] == "cx-1"
    status, body, _ = spot.call("DELETE", ORDER, {"symbol": "BTCUSDT", "orderId": oid})
    assert (status, body) == (400, {"code": -2011, "msg": "Unknown order sent."})
    _, all_orders, _ = spot.call("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"})
    assert [o["status"] for o in all_orders] == ["CANCELED"]


def test_open_orders_and_cancel_all(spot: Spot) -> None:
    bid, _ = spot.touch()
    for _ in range(3):
        spot.call("POST", ORDER, limit(bid - 100))
    _, eth_bid = spot.touch("ETHUSDT")
    spot.call("POST", ORDER, {**limit(eth_bid - 10, qty="0.01"), "symbol": "ETHUSDT"})
    _, mine, _ = spot.call("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert len(mine) == 3
    _, every, _ = spot.call("GET", "/api/v3/openOrders")
    assert len(every) == 4
    status, done, _ = spot.call("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert status == 200 and [o["status"] for o in done] == ["CANCELED"] * 3
    status, body, _ = spot.call("DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert body["code"] == -2011
    assert len(spot.desk.open_orders("binance-demo")) == 1


def test_amend_keep_priority_reduces_only(spot: Spot) -> None:
    bid, _ = spot.touch()
    _, placed, _ = spot.call("POST", ORDER, limit(bid - 100, qty="0.02"))
    path = "/api/v3/order/amend/keepPriority"
    ref = {"symbol": "BTCUSDT", "orderId": placed["orderId"]}
    status, body, _ = spot.call("PUT", path, {**ref, "newQty": "0.03"})
    assert status == 400 and body["code"] == -2038
    status, body, _ = spot.call("PUT", path, {**ref, "newQty": "0.01"})
    assert status == 200 and body["amendedOrder"]["qty"] == "0.01000000"
    _, now, _ = spot.call("GET", ORDER, ref)
    assert now["origQty"] == "0.01000000" and now["status"] == "NEW"


def test_amend_keep_priority_gives_a_new_client_id_unless_one_is_sent(spot: Spot) -> None:
    # "By default, amended orders get a random new client order ID, but you can pass the
    # current client order ID in the newClientOrderId parameter if you wish to keep it."
    # (spot FAQ order_amend_keep_priority.md, checked 2026-12-06)
    bid, _ = spot.touch()
    path = "/api/v3/order/amend/keepPriority"
    spot.call("POST", ORDER, limit(bid - 100, qty="0.04", newClientOrderId="mine-1"))
    spot.call("POST", ORDER, limit(bid - 100, newClientOrderId="other-1"))
    ref = {"symbol": "BTCUSDT", "origClientOrderId": "mine-1"}
    _, kept, _ = spot.call("PUT", path, {**ref, "newQty": "0.03", "newClientOrderId": "mine-1"})
    assert ("mine-1", "mine-1") == (
        kept["amendedOrder"]["origClientOrderId"],
        kept["amendedOrder"]["clientOrderId"],
    )
    _, default, _ = spot.call("PUT", path, {**ref, "newQty": "0.02"})
    new_id = default["amendedOrder"]["clientOrderId"]
    assert "mine-1" == default["amendedOrder"]["origClientOrderId"]
    assert new_id != "mine-1" and re.fullmatch(r"[0-9A-Za-z]{22}", new_id)
    _, found, _ = spot.call("GET", ORDER, {"symbol": "BTCUSDT", "origClientOrderId": new_id})
    assert (new_id, "0.02000000") == (found["clientOrderId"], found["origQty"])
    status, gone, _ = spot.call("GET", ORDER, ref)
    assert (400, -2013) == (status, gone["code"])
    named = {"symbol": "BTCUSDT", "origClientOrderId": new_id, "newQty": "0.01"}
    status, taken, _ = spot.call("PUT", path, {**named, "newClientOrderId": "other-1"})
    assert (400, -2010) == (status, taken["code"])  # another open order has that id
    _, renamed, _ = spot.call("PUT", path, {**named, "newClientOrderId": "mine-2"})
    assert "mine-2" == renamed["amendedOrder"]["clientOrderId"]
    assert {"mine-2", "other-1"} == {
        o.client_order_id for o in spot.desk.open_orders("binance-demo")
    }


def test_cancel_replace_success_and_partial_failure(spot: Spot) -> None:
    bid, _ = spot.touch()
    _, placed, _ = spot.call("POST", ORDER, limit(bid - 100))
    path = "/api/v3/order/cancelReplace"
    status, body, _ = spot.call(
        "POST",
        path,
        {
            **limit(bid - 90),
            "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrderId": placed["orderId"],
        },
    )
    assert status == 200 and body["cancelResult"] == "SUCCESS"
    assert body["newOrderResult"] == "SUCCESS" and body["cancelResponse"]["status"] == "CANCELED"
    new_id = body["newOrderResponse"]["orderId"]
    # ALLOW_FAILURE with a cancel that fails: the new order goes in, HTTP 409 -2021.
    status, body, _ = spot.call(
        "POST",
        path,
        {
            **limit(bid - 80),
            "cancelReplaceMode": "ALLOW_FAILURE",
            "cancelOrderId": placed["orderId"],
        },
    )
    assert status == 409 and body["code"] == -2021
    assert body["data"]["cancelResult"] == "FAILURE" and body["data"]["newOrderResult"] == "SUCCESS"
    # STOP_ON_FAILURE with a failing cancel: nothing placed, HTTP 400 -2022.
    status, body, _ = spot.call(
        "POST",
        path,
        {
            **limit(bid - 70),
            "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrderId": placed["orderId"],
        },
    )
    assert status == 400 and body["code"] == -2022
    assert body["data"]["newOrderResult"] == "NOT_ATTEMPTED"
    assert {o.order_id for o in spot.desk.open_orders("binance-demo")} == {
        str(new_id),
        str(new_id + 1),
    }


def test_order_count_limit_refuses_with_1015_and_429(spot: Spot) -> None:
    spot.trading.limiter = OrderCountLimiter(
        (OrderWindow(interval="SECOND", interval_num=10, limit=2),)
    )
    bid, _ = spot.touch()
    spot.call("POST", ORDER, limit(bid - 100))
    spot.call("POST", ORDER, limit(bid - 100))
    status, body, headers = spot.call("POST", ORDER, limit(bid - 100))
    assert status == 429 and body["code"] == -1015
    assert body["msg"] == "Too many new orders; current limit is 2 orders per 10 SECOND."
    assert headers["x-mbx-order-count-10s"] == "2"
    assert len(spot.desk.open_orders("binance-demo")) == 2
    _, counts, _ = spot.call("GET", "/api/v3/rateLimit/order")
    assert counts == [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 2, "count": 2}
    ]


def test_authentication_errors(spot: Spot) -> None:
    status, body, _ = spot.call("GET", "/api/v3/account", secret="wrong")
    assert (status, body["code"]) == (400, -1022)
    status, body, _ = spot.call("GET", "/api/v3/account", key="A" * 64)
    assert (status, body["code"]) == (401, -2015)
    status, body, _ = spot.call("GET", "/api/v3/account", key="short")
    assert (status, body["code"]) == (401, -2014)
    old = spot.venue.now_ms() - 10_000
    status, body, _ = spot.call("GET", "/api/v3/account", timestamp=old)
    assert (status, body["code"]) == (400, -1021)


def test_account_balances_follow_orders(spot: Spot) -> None:
    bid, _ = spot.touch()
    price = bid - 100
    spot.call("POST", ORDER, limit(price, qty="0.1"))
    status, body, _ = spot.call("GET", "/api/v3/account", {"omitZeroBalances": "true"})
    assert status == 200 and body["accountType"] == "SPOT" and body["canTrade"] is True
    assert body["commissionRates"]["maker"] == "0.00100000" and body["makerCommission"] == 10
    usdt = next(b for b in body["balances"] if b["asset"] == "USDT")
    assert Decimal(usdt["locked"]) == price * Decimal("0.1")
    assert Decimal(usdt["free"]) + Decimal(usdt["locked"]) == Decimal(100_000)


def test_wallet_and_margin_lists_and_retired_listen_key(spot: Spot) -> None:
    status, coins, _ = spot.call("GET", "/sapi/v1/capital/config/getall")
    assert status == 200 and {"BTC", "ETH", "USDT"} <= {c["coin"] for c in coins}
    btc = next(c for c in coins if c["coin"] == "BTC")
    assert btc["free"] == "1.00000000" and btc["networkList"][0]["isDefault"] is True
    status, pairs, _ = spot.call("GET", "/sapi/v1/margin/allPairs", signed=False)
    assert status == 200 and {p["symbol"] for p in pairs} == {"BTCUSDT", "ETHUSDT"}
    status, pairs, _ = spot.call("GET", "/sapi/v1/margin/isolated/allPairs")
    assert status == 200 and len(pairs) == 2
    status, body, _ = spot.call("GET", "/sapi/v1/margin/allPairs", signed=False, key="A" * 64)
    assert (status, body["code"]) == (401, -2015)
    for method in ("POST", "PUT", "DELETE"):
        status, _, _ = spot.call(method, "/api/v3/userDataStream", signed=False, key=KEY)
        assert status == 410


def test_a_client_id_is_reusable_once_its_order_is_closed(spot: Spot) -> None:
    bid, _ = spot.touch()
    _, first, _ = spot.call("POST", ORDER, limit(bid - 100, newClientOrderId="again"))
    spot.call("DELETE", ORDER, {"symbol": "BTCUSDT", "orderId": first["orderId"]})
    status, second, _ = spot.call("POST", ORDER, limit(bid - 100, newClientOrderId="again"))
    assert status == 200 and second["orderId"] != first["orderId"]
    _, found, _ = spot.call("GET", ORDER, {"symbol": "BTCUSDT", "origClientOrderId": "again"})
    assert found["orderId"] == second["orderId"] and found["status"] == "NEW"


def test_my_trades_takes_the_documented_combinations_and_a_24_hour_window(spot: Spot) -> None:
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    _, placed, _ = spot.call("POST", ORDER, market)
    trade_time = placed["transactTime"]
    trades = "/api/v3/myTrades"
    for extra in (
        {"orderId": placed["orderId"]},
        {"startTime": trade_time},
        {"endTime": trade_time},
        {"fromId": placed["fills"][0]["tradeId"]},
        {"startTime": trade_time - 86_400_000, "endTime": trade_time},
        {"orderId": placed["orderId"], "fromId": placed["fills"][0]["tradeId"]},
    ):
        status, body, _ = spot.call("GET", trades, {"symbol": "BTCUSDT", **extra})
        assert (200, True) == (status, bool(body)), extra
    for extra in (
        {"orderId": placed["orderId"], "startTime": trade_time},
        {"fromId": 1, "startTime": trade_time},
        {"fromId": 1, "endTime": trade_time},
        {"orderId": placed["orderId"], "startTime": trade_time, "endTime": trade_time},
    ):
        status, body, _ = spot.call("GET", trades, {"symbol": "BTCUSDT", **extra})
        assert (400, -1128) == (status, body["code"]), extra
    too_long = {"startTime": trade_time - 86_400_001, "endTime": trade_time}
    status, body, _ = spot.call("GET", trades, {"symbol": "BTCUSDT", **too_long})
    assert (400, -1127) == (status, body["code"])
    status, body, _ = spot.call("GET", trades, {"symbol": "BTCUSDT", "limit": 1001})
    assert 400 == status
