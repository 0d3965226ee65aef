"""The simulated OKX's signed REST: auth codes, order entry semantics and codes, queries, account.

Run against one simulator per module (paused: only the tests' orders trade)
with a signing client written from the OKX docs (``okx_client.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.sim.okx.limits import OrderLimits
from tests.sim.okx.okx_client import CREDS, Okx

ORDER = "/api/v5/trade/order"


def limit(inst_id: str, side: str, px: str, sz: str, **extra: str) -> dict[str, str]:
    mode = "cash" if inst_id.count("-") == 1 else "cross"
    body = {"instId": inst_id, "tdMode": mode, "side": side, "ordType": "limit", "px": px, "sz": sz}
    return {**body, **extra}


def top(sim: Any, market: str, inst_id: str) -> tuple[Decimal, Decimal]:
    engine = sim.venues["okx"].book(market, inst_id).engine
    return engine.best_bid().price, engine.best_ask().price


async def test_okx_auth_failures_have_the_documented_codes(okx: tuple[Okx, Any]) -> None:
    client, _sim = okx
    http = client.client
    for made, code in (
        (Okx(http, skew_s=-40), "50102"),
        (Okx(http, key="nope"), "50111"),
        (Okx(http, passphrase="wrong"), "50105"),
        (Okx(http, secret="0" * 32), "50113"),
    ):
        status, body = await made.get("/api/v5/account/balance")
        assert (401, code, []) == (status, body["code"], body["data"])
    reply = await http.get("/api/v5/account/balance")
    assert (401, "50103") == (reply.status_code, reply.json()["code"])
    status, body = await Okx(http, skew_s=20).get("/api/v5/account/balance")
    assert (200, "0") == (status, body["code"])


async def test_okx_limit_order_query_amend_cancel(okx: tuple[Okx, Any]) -> None:
    client, sim = okx
    bid, _ask = top(sim, "swap", "BTC-USDT-SWAP")
    px = str(bid - 1000)
    status, placed = await client.post(ORDER, limit("BTC-USDT-SWAP", "buy", px, "2", clOrdId="a1"))
    assert (200, "0") == (status, placed["code"])
    (item,) = placed["data"]
    assert ["clOrdId", "ordId", "tag", "ts", "sCode", "sMsg", "subCode"] == list(item)
    assert {"inTime", "outTime"} <= set(placed)
    ord_id = item["ordId"]
    _, got = await client.get(ORDER, instId="BTC-USDT-SWAP", clOrdId="a1")
    (order,) = got["data"]
    assert ("live", "2", px, "net", "cross", "limit") == (
        order["state"], order["sz"], order["px"], order["posSide"], order["tdMode"],
        order["ordType"],
    )  # fmt: skip
    # newSz is the new TOTAL size.
    _, amended = await client.post(
        "/api/v5/trade/amend-order",
        {"instId": "BTC-USDT-SWAP", "ordId": ord_id, "newSz": "3", "reqId": "r1"},
    )
    assert ("0", "r1") == (amended["data"][0]["sCode"], amended["data"][0]["reqId"])
    _, got = await client.get(ORDER, instId="BTC-USDT-SWAP", ordId=ord_id)
    assert "3" == got["data"][0]["sz"]
    _, dup = await client.post(ORDER, limit("BTC-USDT-SWAP", "buy", px, "1", clOrdId="a1"))
    assert ("1", "51016") == (dup["code"], dup["data"][0]["sCode"])
    _, canceled = await client.post(
        "/api/v5/trade/cancel-order", {"instId": "BTC-USDT-SWAP", "clOrdId": "a1"}
    )
    assert ("0", ord_id) == (canceled["data"][0]["sCode"], canceled["data"][0]["ordId"])
    _, again = await client.post(
        "/api/v5/trade/cancel-order", {"instId": "BTC-USDT-SWAP", "ordId": ord_id}
    )
    assert ("1", "51400") == (again["code"], again["data"][0]["sCode"])
    _, amend_gone = await client.post(
        "/api/v5/trade/amend-order", {"instId": "BTC-USDT-SWAP", "ordId": ord_id, "newPx": px}
    )
    assert "51503" == amend_gone["data"][0]["sCode"]
    # The clOrdId is free again once the order is done; a query by it finds the latest.
    _, reused = await client.post(ORDER, limit("BTC-USDT-SWAP", "buy", px, "1", clOrdId="a1"))
    assert "0" == reused["code"]
    _, latest = await client.get(ORDER, instId="BTC-USDT-SWAP", clOrdId="a1")
    assert reused["data"][0]["ordId"] == latest["data"][0]["ordId"] != ord_id
    _, history = await client.get("/api/v5/trade/orders-history", instType="SWAP")
    (old,) = [o for o in history["data"] if o["ordId"] == ord_id]
    assert ("canceled", "1") == (old["state"], old["cancelSource"])
    _, missing = await client.get(ORDER, instId="BTC-USDT-SWAP", ordId="42")
    assert ("51603", []) == (missing["code"], missing["data"])


async def test_okx_post_only_is_accepted_then_canceled_with_source_31(
    okx: tuple[Okx, Any],
) -> None:
    client, sim = okx
    _bid, ask = top(sim, "spot", "BTC-USDT")
    body = limit("BTC-USDT", "buy", str(ask + 10), "0.001")
    body["ordType"] = "post_only"
    _, placed = await client.post(ORDER, body)
    assert ("0", "0") == (placed["code"], placed["data"][0]["sCode"])
    _, got = await client.get(ORDER, instId="BTC-USDT", ordId=placed["data"][0]["ordId"])
    assert ("canceled", "31", "0") == (
        got["data"][0]["state"], got["data"][0]["cancelSource"], got["data"][0]["accFillSz"],
    )  # fmt: skip


async def test_okx_market_orders_spot_quote_sized_and_swap_in_contracts(
    okx: tuple[Okx, Any],
) -> None:
    client, _sim = okx
    # A spot market buy is sized in the quote asset by default.
    body = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "120"}
    _, placed = await client.post(ORDER, body)
    ord_id = placed["data"][0]["ordId"]
    _, got = await client.get(ORDER, instId="BTC-USDT", ordId=ord_id)
    order = got["data"][0]
    assert ("filled", "120", "quote_ccy", "BTC") == (
        order["state"], order["sz"], order["tgtCcy"], order["feeCcy"],
    )  # fmt: skip
    spent = Decimal(order["accFillSz"]) * Decimal(order["avgPx"])
    assert Decimal(110) < spent <= Decimal(120)
    assert Decimal(order["fee"]) < 0
    # SWAP sizes are contracts: 3 contracts of BTC-USDT-SWAP (ctVal 0.01) are 0.03 BTC.
    body = {
        "instId": "BTC-USDT-SWAP",
        "tdMode": "cross",
        "side": "buy",
        "ordType": "market",
        "sz": "3",
    }
    _, placed = await client.post(ORDER, body)
    _, positions = await client.get("/api/v5/account/positions", instType="SWAP")
    (position,) = positions["data"]
    assert ("3", "net", "BTC-USDT-SWAP") == (
        position["pos"],
        position["posSide"],
        position["instId"],
    )
    _, fills = await client.get("/api/v5/trade/fills", instId="BTC-USDT-SWAP")
    assert Decimal(3) == sum(Decimal(f["fillSz"]) for f in fills["data"])
    assert all(Decimal(f["fee"]) < 0 for f in fills["data"])
    # Reduce-only the wrong way (no short position to reduce).
    body = {**body, "reduceOnly": "true"}
    _, refused = await client.post(ORDER, body)
    assert ("1", "51170") == (refused["code"], refused["data"][0]["sCode"])
    # OKX does not trim a reduce-only order to the position: 4 contracts against 3 is refused.
    _, excess = await client.post(ORDER, {**body, "side": "sell", "sz": "4"})
    assert ("1", "51112") == (excess["code"], excess["data"][0]["sCode"])
    _, closed = await client.post(ORDER, {**body, "side": "sell", "sz": "3"})
    assert "0" == closed["code"]
    _, flat = await client.get("/api/v5/account/positions", instType="SWAP")
    assert [] == flat["data"]


async def test_okx_batch_codes_and_item_errors(okx: tuple[Okx, Any]) -> None:
    client, sim = okx
    bid, _ask = top(sim, "spot", "ETH-USDT")
    good = limit("ETH-USDT", "buy", str(bid - 100), "0.01")
    bad_tick = limit("ETH-USDT", "buy", str(bid - Decimal("100.001")), "0.01")
    bad_id = limit("ETH-USDT", "buy", str(bid - 100), "0.01", clOrdId="has-dash")
    _, both = await client.post("/api/v5/trade/batch-orders", [good, good])
    assert ("0", ["0", "0"]) == (both["code"], [d["sCode"] for d in both["data"]])
    _, some = await client.post("/api/v5/trade/batch-orders", [good, bad_tick, bad_id])
    assert ("2", ["0", "51000", "51000"]) == (some["code"], [d["sCode"] for d in some["data"]])
    assert "Parameter clOrdId error" == some["data"][2]["sMsg"]
    poor = limit("ETH-USDT", "buy", str(bid - 100), "1000000")
    _, none = await client.post("/api/v5/trade/batch-orders", [poor])
    assert ("1", "51008") == (none["code"], none["data"][0]["sCode"])
    assert "Insufficient USDT balance" in none["data"][0]["sMsg"]
    ids = [{"instId": "ETH-USDT", "ordId": d["ordId"]} for d in both["data"]]
    _, canceled = await client.post("/api/v5/trade/cancel-batch-orders", ids)
    assert "0" == canceled["code"]
    status, empty = await client.post("/api/v5/trade/batch-orders", [])
    assert (400, "50014") == (status, empty["code"])
    status, missing = await client.post(ORDER, {"instId": "ETH-USDT", "side": "buy"})
    assert ("1", "50014") == (missing["code"], missing["data"][0]["sCode"])


async def test_okx_order_rate_limit_is_per_instrument_and_operation(
    okx: tuple[Okx, Any],
) -> None:
    client, sim = okx
    limits: OrderLimits = sim.frontends["okx"].order_limits
    limits.per_instrument, limits.window_ms = 3, 10**12  # one long window
    bid, _ask = top(sim, "spot", "SOL-USDT")
    body = limit("SOL-USDT", "buy", str(bid - 10), "0.1")
    replies = [await client.post(ORDER, body) for _ in range(4)]
    assert [200, 200, 200, 429] == [status for status, _ in replies]
    assert ["0", "0", "0", "50011"] == [reply["code"] for _, reply in replies]
    assert 1 == sim.frontends["okx"].statistics().orders_rate_limited
    # Cancels count on their own; another instrument has its own counter.
    first = replies[0][1]["data"][0]["ordId"]
    cancel = {"instId": "SOL-USDT", "ordId": first}
    assert "0" == (await client.post("/api/v5/trade/cancel-order", cancel))[1]["code"]
    other = limit("ETH-USDT", "buy", "1", "0.01")
    assert "0" == (await client.post(ORDER, other))[1]["code"]


async def test_okx_account_endpoints(okx: tuple[Okx, Any]) -> None:
    client, _sim = okx
    _, balance = await client.get("/api/v5/account/balance", ccy="USDT,BTC")
    details = {d["ccy"]: d for d in balance["data"][0]["details"]}
    assert {"USDT", "BTC"} == set(details)
    assert Decimal(details["USDT"]["availBal"]) == Decimal(details["USDT"]["cashBal"]) > 0
    _, config = await client.get("/api/v5/account/config")
    assert ("net_mode", "2") == (config["data"][0]["posMode"], config["data"][0]["acctLv"])
    _, set_lever = await client.post(
        "/api/v5/account/set-leverage",
        {"instId": "ETH-USDT-SWAP", "lever": "5", "mgnMode": "cross"},
    )
    assert "5" == set_lever["data"][0]["lever"]
    _, info = await client.get(
        "/api/v5/account/leverage-info", instId="ETH-USDT-SWAP", mgnMode="cross"
    )
    assert "5" == info["data"][0]["lever"]
    _, fee = await client.get("/api/v5/account/trade-fee", instType="SWAP")
    assert Decimal(fee["data"][0]["takerU"]) < 0 and fee["data"][0]["taker"] == ""
    _, spot_fee = await client.get("/api/v5/account/trade-fee", instType="SPOT")
    assert ("-0.0008", "-0.001") == (spot_fee["data"][0]["maker"], spot_fee["data"][0]["taker"])
    _, currencies = await client.get("/api/v5/asset/currencies")
    assert {"BTC", "ETH", "SOL", "USDT"} <= {c["ccy"] for c in currencies["data"]}
    _, max_size = await client.get("/api/v5/account/max-size", instId="BTC-USDT", tdMode="cash")
    assert Decimal(max_size["data"][0]["maxBuy"]) > 0
    assert CREDS.passphrase  # the demo account's passphrase is documented


async def test_okx_self_trade_prevention_cancels_the_resting_order(okx: tuple[Okx, Any]) -> None:
    client, sim = okx
    bid, ask = top(sim, "spot", "SOL-USDT")
    tick = sim.venues["okx"].book("spot", "SOL-USDT").instrument.tick_size
    assert bid + tick < ask
    _, resting = await client.post(ORDER, limit("SOL-USDT", "buy", str(bid + tick), "0.5"))
    body = {
        "instId": "SOL-USDT",
        "tdMode": "cash",
        "side": "sell",
        "ordType": "market",
        "sz": "0.5",
    }
    _, taker = await client.post(ORDER, body)
    _, maker = await client.get(ORDER, instId="SOL-USDT", ordId=resting["data"][0]["ordId"])
    assert ("canceled", "32", "0") == (
        maker["data"][0]["state"], maker["data"][0]["cancelSource"], maker["data"][0]["accFillSz"],
    )  # fmt: skip
    _, sold = await client.get(ORDER, instId="SOL-USDT", ordId=taker["data"][0]["ordId"])
    assert "filled" == sold["data"][0]["state"]
    _, other = await client.post(ORDER, {**body, "stpMode": "cancel_both"})
    assert ("1", "Parameter stpMode error") == (other["code"], other["data"][0]["sMsg"])


async def test_okx_exp_time_refuses_late_place_and_amend_requests(okx: tuple[Okx, Any]) -> None:
    client, sim = okx
    bid, _ask = top(sim, "spot", "ETH-USDT")
    body = limit("ETH-USDT", "buy", str(bid - 100), "0.01")
    now = sim.venues["okx"].now_ms()
    status, late = await client.post(ORDER, body, {"expTime": str(now - 1000)})
    assert (200, "50036", []) == (status, late["code"], late["data"])
    _, placed = await client.post(ORDER, body, {"expTime": str(now + 60_000)})
    assert "0" == placed["code"]
    amend = {"instId": "ETH-USDT", "ordId": placed["data"][0]["ordId"], "newSz": "0.02"}
    _, late_amend = await client.post(
        "/api/v5/trade/amend-order", amend, {"expTime": str(now - 1000)}
    )
    assert "50036" == late_amend["code"]
    cancel = {"instId": "ETH-USDT", "ordId": placed["data"][0]["ordId"]}
    _, canceled = await client.post(
        "/api/v5/trade/cancel-order", cancel, {"expTime": str(now - 1000)}
    )
    assert "0" == canceled["code"]  # cancels take no expTime
