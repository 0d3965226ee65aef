"""python-okx (OKX's official client) trading against the simulator: REST trade and account.

``Trade.TradeAPI`` / ``Account.AccountAPI`` with the default account's keys and
the simulator's base URL as ``domain`` (``flag="0"``, so the client sends
``x-simulated-trading: 0`` as it does for live trading).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.sim.accounts import DEFAULT_CREDENTIALS
from tests.compat.conftest import Urls

pytest.importorskip("okx")

from okx import Account, Funding, MarketData, Trade

pytestmark = pytest.mark.timeout(60)

CREDS = DEFAULT_CREDENTIALS["okx"]


def api(module: Any, name: str, urls: Urls) -> Any:
    return getattr(module, name)(
        CREDS.api_key, CREDS.secret, CREDS.passphrase, flag="0", domain=urls["okx"]["spot.rest"]
    )


def ok(reply: dict[str, Any]) -> list[Any]:
    assert "0" == reply["code"], reply
    data: list[Any] = reply["data"]
    return data


def test_python_okx_limit_order_amend_and_cancel(sim_urls: Urls) -> None:
    trade = api(Trade, "TradeAPI", sim_urls)
    market = MarketData.MarketAPI(flag="0", domain=sim_urls["okx"]["spot.rest"])
    (ticker,) = ok(market.get_ticker(instId="SOL-USDT-SWAP"))
    price = (Decimal(ticker["bidPx"]) * Decimal("0.9")).quantize(Decimal("0.001"))
    (placed,) = ok(
        trade.place_order(
            instId="SOL-USDT-SWAP",
            tdMode="cross",
            side="buy",
            ordType="limit",
            px=str(price),
            sz="2",
            clOrdId="pyokx1",
        )
    )
    assert ("0", "pyokx1") == (placed["sCode"], placed["clOrdId"])
    (order,) = ok(trade.get_order(instId="SOL-USDT-SWAP", clOrdId="pyokx1"))
    assert ("live", "2", placed["ordId"]) == (order["state"], order["sz"], order["ordId"])
    assert placed["ordId"] in {o["ordId"] for o in ok(trade.get_order_list(instType="SWAP"))}
    (amended,) = ok(trade.amend_order(instId="SOL-USDT-SWAP", ordId=placed["ordId"], newSz="3"))
    assert "0" == amended["sCode"]
    assert "3" == ok(trade.get_order(instId="SOL-USDT-SWAP", ordId=placed["ordId"]))[0]["sz"]
    again = trade.place_order(
        instId="SOL-USDT-SWAP", tdMode="cross", side="buy", ordType="limit", px=str(price),
        sz="1", clOrdId="pyokx1",
    )  # fmt: skip
    assert ("1", "51016") == (again["code"], again["data"][0]["sCode"])
    ok(trade.cancel_order(instId="SOL-USDT-SWAP", ordId=placed["ordId"]))
    (done,) = ok(trade.get_order(instId="SOL-USDT-SWAP", ordId=placed["ordId"]))
    assert ("canceled", "1") == (done["state"], done["cancelSource"])


def test_python_okx_meets_the_price_limit(sim_urls: Urls) -> None:
    # 51006: a buy above the highest buy price, a sell under the lowest sell price.
    trade = api(Trade, "TradeAPI", sim_urls)
    market = MarketData.MarketAPI(flag="0", domain=sim_urls["okx"]["spot.rest"])
    (ticker,) = ok(market.get_ticker(instId="SOL-USDT-SWAP"))
    order = {"instId": "SOL-USDT-SWAP", "tdMode": "cross", "ordType": "limit", "sz": "1"}
    for side, price in (("buy", Decimal(ticker["askPx"]) * Decimal("1.1")),
                        ("sell", Decimal(ticker["bidPx"]) * Decimal("0.9"))):  # fmt: skip
        refused = trade.place_order(side=side, px=str(price.quantize(Decimal("0.001"))), **order)
        (item,) = refused["data"]
        assert ("1", "51006") == (refused["code"], item["sCode"])
        assert item["sMsg"].startswith("Order price is not within the price limit")


def test_python_okx_cancels_orders_in_a_batch(sim_urls: Urls) -> None:
    # POST /api/v5/trade/cancel-batch-orders, as the connector's cancel_all sends it.
    trade = api(Trade, "TradeAPI", sim_urls)
    market = MarketData.MarketAPI(flag="0", domain=sim_urls["okx"]["spot.rest"])
    (ticker,) = ok(market.get_ticker(instId="SOL-USDT-SWAP"))
    price = (Decimal(ticker["bidPx"]) * Decimal("0.9")).quantize(Decimal("0.001"))
    ids = [f"pyokxbatch{i}" for i in range(3)]
    for cid in ids:
        ok(
            trade.place_order(
                instId="SOL-USDT-SWAP", tdMode="cross", side="buy", ordType="limit",
                px=str(price), sz="1", clOrdId=cid,
            )
        )  # fmt: skip
    batch = [{"instId": "SOL-USDT-SWAP", "clOrdId": c} for c in ids]
    acks = ok(trade.cancel_multiple_orders(batch))
    assert [("0", c) for c in ids] == [(a["sCode"], a["clOrdId"]) for a in acks]
    for cid in ids:
        (done,) = ok(trade.get_order(instId="SOL-USDT-SWAP", clOrdId=cid))
        assert "canceled" == done["state"]
    # Again: each order now answers with its own sCode (already canceled), the whole with "1".
    again = trade.cancel_multiple_orders(batch)
    assert "1" == again["code"] and all(a["sCode"] != "0" for a in again["data"])


def test_python_okx_market_order_account_and_positions(sim_urls: Urls) -> None:
    trade = api(Trade, "TradeAPI", sim_urls)
    account = api(Account, "AccountAPI", sim_urls)
    (before,) = ok(account.get_account_balance(ccy="USDT"))
    (placed,) = ok(
        trade.place_order(
            instId="SOL-USDT-SWAP", tdMode="cross", side="sell", ordType="market", sz="1"
        )
    )
    (order,) = ok(trade.get_order(instId="SOL-USDT-SWAP", ordId=placed["ordId"]))
    assert ("filled", "1") == (order["state"], order["accFillSz"])
    assert Decimal(order["fee"]) < 0  # OKX: negative when charged
    positions = ok(account.get_positions(instType="SWAP", instId="SOL-USDT-SWAP"))
    assert positions and Decimal(positions[0]["pos"]) <= -1
    fills = ok(trade.get_fills(instType="SWAP", ordId=placed["ordId"]))
    assert {placed["ordId"]} == {f["ordId"] for f in fills}
    (after,) = ok(account.get_account_balance(ccy="USDT"))
    assert Decimal(after["details"][0]["cashBal"]) < Decimal(before["details"][0]["cashBal"])
    ok(
        trade.place_order(
            instId="SOL-USDT-SWAP", tdMode="cross", side="buy", ordType="market", sz="1",
            reduceOnly="true",
        )
    )  # fmt: skip


def test_python_okx_account_settings_fees_and_currencies(sim_urls: Urls) -> None:
    account = api(Account, "AccountAPI", sim_urls)
    (config,) = ok(account.get_account_config())
    assert "net_mode" == config["posMode"]
    (lever,) = ok(account.set_leverage(lever="7", mgnMode="cross", instId="ETH-USDT-SWAP"))
    assert "7" == lever["lever"]
    (got,) = ok(account.get_leverage(mgnMode="cross", instId="ETH-USDT-SWAP"))
    assert ("7", "net") == (got["lever"], got["posSide"])
    (fees,) = ok(account.get_fee_rates(instType="SWAP"))
    assert Decimal(fees["makerU"]) < 0 and Decimal(fees["takerU"]) < 0
    (size,) = ok(account.get_max_order_size(instId="BTC-USDT", tdMode="cash"))
    assert Decimal(size["maxBuy"]) > 0 and Decimal(size["maxSell"]) > 0
    funding = api(Funding, "FundingAPI", sim_urls)
    assert {"BTC", "USDT"} <= {c["ccy"] for c in ok(funding.get_currencies())}
    assert [] == ok(funding.get_balances())
