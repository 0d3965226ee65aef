"""Simulated OKX spot market orders: ``banAmend`` and ``tgtCcy`` as "POST / Place order"
documents them (read 2026-12-06; see ``docs/venues/okx.md``).

``banAmend``: "If ``true``: the entire order is rejected when balance is insufficient.
If ``false`` (default): the system reduces sz to fit the available balance and
executes the smaller order." ``tgtCcy=quote_ccy``, ``sz=100`` (sell): "sell BTC until
you receive 100 USDT". The account holds 1,000 USDT and 0.01 BTC; BTC-USDT trades
near 60,000 in the paused simulator, with about 0.4 BTC on each side of its book.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import trio

from connector.sim.accounts.config import default_accounts
from connector.sim.standalone import run
from tests.sim.okx.okx_client import Okx

ORDER = "/api/v5/trade/order"
BALANCES = {"USDT": Decimal(1000), "BTC": Decimal("0.01")}


@pytest.fixture
async def okx() -> AsyncIterator[Okx]:
    with trio.fail_after(30):
        async with (
            run(venues=("okx",), paused=True, accounts=default_accounts(BALANCES)) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as client,
        ):
            yield Okx(client)


def market(side: str, sz: str, tgt_ccy: str, **extra: object) -> dict[str, object]:
    return {
        "instId": "BTC-USDT", "tdMode": "cash", "side": side, "ordType": "market",
        "sz": sz, "tgtCcy": tgt_ccy, **extra,
    }  # fmt: skip


async def free(client: Okx, ccy: str) -> Decimal:
    _, balance = await client.get("/api/v5/account/balance", ccy=ccy)
    (detail,) = balance["data"][0]["details"]
    return Decimal(detail["availBal"])


async def placed_order(client: Okx, answer: dict[str, Any]) -> dict[str, Any]:
    assert ("0", "0") == (answer["code"], answer["data"][0]["sCode"])
    _, got = await client.get(ORDER, instId="BTC-USDT", ordId=answer["data"][0]["ordId"])
    order: dict[str, Any] = got["data"][0]
    return order


async def refused_with_ban_amend(okx: Okx, side: str, sz: str, tgt_ccy: str, short: str) -> None:
    _, refused = await okx.post(ORDER, market(side, sz, tgt_ccy, banAmend=True))
    assert ("1", "51008") == (refused["code"], refused["data"][0]["sCode"])
    assert f"Insufficient {short} balance" in refused["data"][0]["sMsg"]


@pytest.mark.parametrize(("sz", "tgt_ccy"), [("0.02", "base_ccy"), ("1000", "quote_ccy")])
async def test_okx_spot_market_sell_too_large_shrinks_to_the_balance(
    okx: Okx, sz: str, tgt_ccy: str
) -> None:
    # 0.02 BTC, or 1,000 USDT of BTC (about 0.0167 BTC): the account has 0.01 BTC.
    await refused_with_ban_amend(okx, "sell", sz, tgt_ccy, "BTC")
    order = await placed_order(okx, (await okx.post(ORDER, market("sell", sz, tgt_ccy)))[1])
    assert ("filled", "0.01") == (order["state"], order["accFillSz"])  # all the BTC it had
    received = Decimal(order["accFillSz"]) * Decimal(order["avgPx"])
    shown = received if tgt_ccy == "quote_ccy" else Decimal("0.01")
    assert shown == Decimal(order["sz"])  # sz reduced to what the balance covers
    _, balance = await okx.get("/api/v5/account/balance")
    assert "BTC" not in {d["ccy"] for d in balance["data"][0]["details"]}


@pytest.mark.parametrize(("sz", "tgt_ccy"), [("1500", "quote_ccy"), ("0.02", "base_ccy")])
async def test_okx_spot_market_buy_too_large_shrinks_to_the_quote_balance(
    okx: Okx, sz: str, tgt_ccy: str
) -> None:
    # 1,500 USDT, or 0.02 BTC (about 1,200 USDT): the account has 1,000 USDT.
    await refused_with_ban_amend(okx, "buy", sz, tgt_ccy, "USDT")
    # banAmend false is the default; sent explicitly as python-okx would.
    answer = (await okx.post(ORDER, market("buy", sz, tgt_ccy, banAmend="false")))[1]
    order = await placed_order(okx, answer)
    spent = Decimal(order["accFillSz"]) * Decimal(order["avgPx"])
    assert "filled" == order["state"]
    assert Decimal(900) < spent <= Decimal(1000)  # most of the 1,000 USDT, no more
    assert Decimal(order["sz"]) < Decimal(sz)  # sz reduced to what the balance covers
    assert await free(okx, "USDT") < Decimal(100)


async def test_okx_spot_market_sell_sized_in_quote_receives_that_much(okx: Okx) -> None:
    order = await placed_order(okx, (await okx.post(ORDER, market("sell", "100", "quote_ccy")))[1])
    received = Decimal(order["accFillSz"]) * Decimal(order["avgPx"])
    assert ("filled", "100", "quote_ccy", "sell") == (
        order["state"], order["sz"], order["tgtCcy"], order["side"],
    )  # fmt: skip
    assert Decimal(99) < received <= Decimal(100)
    assert Decimal("0.01") - Decimal(order["accFillSz"]) == await free(okx, "BTC")


async def test_okx_spot_market_buy_is_checked_against_its_sz_not_the_books_depth() -> None:
    # 100,000 USDT against a book of about 0.4 BTC (24,000 USDT) a side: 200,000 USDT
    # asked is more than the balance, however little of it the book could fill.
    rich = default_accounts({"USDT": Decimal(100_000)})
    with trio.fail_after(30):
        async with (
            run(venues=("okx",), paused=True, accounts=rich) as sim,
            httpx.AsyncClient(base_url=sim.urls["okx"]["spot.rest"]) as client,
        ):
            okx = Okx(client)
            await refused_with_ban_amend(okx, "buy", "200000", "quote_ccy", "USDT")
            answer = (await okx.post(ORDER, market("buy", "200000", "quote_ccy")))[1]
            order = await placed_order(okx, answer)
    assert Decimal(100_000) == Decimal(order["sz"])  # reduced to the balance
